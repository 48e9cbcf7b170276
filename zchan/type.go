package zchan

import (
	"fmt"

	zmq "github.com/pebbe/zmq4"
)

// Type is a ZeroMQ socket type. The zero value is not a valid type.
type Type int

// The classic socket types, all of which expose ZMQ_FD and can be bridged.
// The zero value is not a type.
const (
	Pair Type = iota + 1
	// Pub drops a message for a subscriber at its HWM, and every message
	// while no subscriber is there, by ZeroMQ's design; libzmq does not
	// report it, so Stats cannot count it (see Stats.Dropped). XPub does
	// the same, unless XPUB_NODROP is set through WithSetup.
	Pub
	Sub
	// Req keeps strict request/reply alternation (the owner sends the next
	// request only after the reply), unless WithReqRelaxed.
	Req
	Rep
	Dealer
	// Router has ROUTER_MANDATORY on: a message for a peer at its HWM waits
	// (or is dropped and counted, with WithDropAtHWM), one for a peer that
	// is not connected is counted in Stats.Unroutable. Its messages are
	// the routing id and at least one more frame.
	Router
	Pull
	Push
	XPub
	XSub
	// Stream is a raw tcp socket: messages are [peer id, data], exactly;
	// a full peer and an unknown peer are handled as for Router.
	Stream
)

var typeNames = map[Type]string{
	Pair: "PAIR", Pub: "PUB", Sub: "SUB", Req: "REQ", Rep: "REP",
	Dealer: "DEALER", Router: "ROUTER", Pull: "PULL", Push: "PUSH",
	XPub: "XPUB", XSub: "XSUB", Stream: "STREAM",
}

var zmqTypes = map[Type]zmq.Type{
	Pair: zmq.PAIR, Pub: zmq.PUB, Sub: zmq.SUB, Req: zmq.REQ, Rep: zmq.REP,
	Dealer: zmq.DEALER, Router: zmq.ROUTER, Pull: zmq.PULL, Push: zmq.PUSH,
	XPub: zmq.XPUB, XSub: zmq.XSUB, Stream: zmq.STREAM,
}

// String returns the libzmq name of the type, such as "PUSH".
func (t Type) String() string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// check returns nil for a type Open can bridge. libzmq's draft
// thread-safe types (SERVER, CLIENT, RADIO, DISH, ...) have no ZMQ_FD to
// wait on without a timer, so this package has no constant for them.
func (t Type) check() error {
	if _, ok := zmqTypes[t]; ok {
		return nil
	}
	return leadErr(ErrUnknownType, "the types are the constants Pair to Stream; libzmq's draft types cannot be bridged", "%d", int(t))
}

// canRecv reports whether messages can arrive on the type.
func (t Type) canRecv() bool { return t != Pub && t != Push }

// canSend reports whether the caller can send on the type.
func (t Type) canSend() bool { return t != Sub && t != Pull }
