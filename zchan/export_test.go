package zchan

// Hooks for the external tests.

// DirectOK reports whether the owner's hot path calls libzmq directly
// (see direct.go).
var DirectOK = directOK

// WithPebbeOnly makes the owner use pebbe/zmq4 for its hot path as well,
// so that tests cover the fallback.
func WithPebbeOnly() Option { return optionFunc(func(o *options) { o.pebbeOnly = true }) }
