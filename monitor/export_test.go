package monitor

import "github.com/zmqchan/zmqchan/zchan"

// Codec exposes the event codec to the fuzz tests.
var Codec zchan.Codec[Event] = codec{}
