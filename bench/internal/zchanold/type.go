package zchanold

import (
	"fmt"

	zmq "github.com/pebbe/zmq4"
)

// Type is a ZeroMQ socket type. The zero value is not a valid type.
type Type int

// The classic socket types, all of which expose ZMQ_FD and can be bridged.
const (
	Pair Type = iota + 1
	Pub
	Sub
	Req
	Rep
	Dealer
	Router
	Pull
	Push
	XPub
	XSub
	Stream
)

// The thread-safe socket types of libzmq's draft API. They have no ZMQ_FD,
// so they cannot be waited on without a timer; Open refuses them with
// ErrUnsupported. They are named here so that the refusal is explicit.
const (
	Server Type = iota + 100
	Client
	Radio
	Dish
	Gather
	Scatter
	Peer
	Channel
)

var typeNames = map[Type]string{
	Pair: "PAIR", Pub: "PUB", Sub: "SUB", Req: "REQ", Rep: "REP",
	Dealer: "DEALER", Router: "ROUTER", Pull: "PULL", Push: "PUSH",
	XPub: "XPUB", XSub: "XSUB", Stream: "STREAM",
	Server: "SERVER", Client: "CLIENT", Radio: "RADIO", Dish: "DISH",
	Gather: "GATHER", Scatter: "SCATTER", Peer: "PEER", Channel: "CHANNEL",
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

// check returns nil for a type Open can bridge.
func (t Type) check() error {
	if _, ok := zmqTypes[t]; ok {
		return nil
	}
	if _, ok := typeNames[t]; ok {
		return fmt.Errorf("zchan: socket type %s is thread-safe and has no ZMQ_FD: %w", t, ErrUnsupported)
	}
	return fmt.Errorf("zchan: %w: %d", ErrUnknownType, int(t))
}

// canRecv reports whether messages can arrive on the type.
func (t Type) canRecv() bool { return t != Pub && t != Push }

// canSend reports whether the caller can send on the type.
func (t Type) canSend() bool { return t != Sub && t != Pull }
