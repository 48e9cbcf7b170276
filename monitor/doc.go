// Package monitor turns libzmq's socket monitor into a typed channel of
// connection events: connected, accepted, handshake succeeded, handshake
// failed (with the reason: authentication, protocol, or other),
// disconnected, closed, and the rest of libzmq's events.
//
// # Ownership
//
// Open opens the watched socket (a zchan.Socket, owned by its own
// goroutine like any other) and attaches libzmq's monitor to it from that
// owner, through zchan.WithSetup, before any bind or connect. libzmq's
// monitor is a PAIR socket inside the watched socket that sends each event
// with a blocking call, often from libzmq's I/O thread: if nobody is
// connected to it, the bind, the connect or the I/O thread blocks. So the
// reading end, a zchan PAIR socket in the same zchan.Context, connects to
// the monitor's unique inproc address before the monitor is bound, its
// receive HWM is unlimited, and one goroutine owned by the Monitor drains
// it without ever blocking.
//
// # Lifetime
//
// The reading end lives until libzmq says the monitor stopped (it does so
// when the watched socket closes, and when Close detaches the monitor) or
// until the Context is terminated (the reading end then ends on ETERM like
// every zchan socket, so it is always closed before termination completes;
// pebbe/zmq4 documents crashes when a monitor outlives its context). It is
// not tied to the ctx given to Open, which bounds only the opening, as for
// zchan.OpenWith: neither is the watched socket. Events is closed when it
// ends.
//
// # Slow consumers
//
// Events has room for Buffer events. When it is full, new events are
// dropped and counted (Monitor.Dropped): monitoring is diagnostics, and
// pushing back would stall libzmq's I/O thread, while queueing without
// bound would let a connection storm grow memory.
//
// # What the events say
//
// The event format of stable libzmq 4.3 (version 1) carries the endpoint
// the socket bound or connected to and one number; it does not carry the
// peer's address or public key. To learn which key an authentication
// failure was for, use the logger of secure.Authenticator.
package monitor
