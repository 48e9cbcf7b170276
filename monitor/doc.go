// Package monitor turns libzmq's socket monitor into a typed channel of
// connection events: connected, accepted, handshake succeeded, handshake
// failed (with the reason: authentication, protocol, or other),
// disconnected, closed, and the rest of libzmq's events.
//
// Attach watches a socket that is already open, in any zchan.Context (the
// default one included); Open opens a socket with its monitor attached
// before any bind or connect, so that no event is missed:
//
//	mon, err := monitor.Attach(ctx, sock)
//	if err != nil { ... }
//	defer mon.Close()
//	err = mon.WaitConnected(ctx) // a peer has completed its handshake
//	n := mon.Peers()
//
// Peers and WaitConnected answer "is a peer connected?" without a loop over
// the events; Events gives every event, for logs and diagnostics.
//
// # Connect failures show only here
//
// A tcp connect to a host that does not resolve, or to a port nobody
// listens on, succeeds: libzmq resolves and connects later, in its I/O
// thread, and retries for as long as the socket lives. Neither
// zchan.OpenWith nor a Do that connects reports it; the monitor does, as
// ConnectRetried events (and ConnectDelayed) with never a Connected, and
// WaitConnected goes on waiting until its ctx ends (TestUnresolvableHost).
// Bound the wait with a deadline and log the events to find out why.
//
// # Ownership
//
// libzmq's monitor is attached from the watched socket's owner goroutine
// (through zchan.Socket.Do for Attach, zchan.WithSetup for Open). libzmq's
// monitor is a PAIR socket inside the watched socket that sends each event
// with a blocking call, often from libzmq's I/O thread: if nobody is
// connected to it, the bind, the connect or the I/O thread blocks. So the
// reading end, a zchan PAIR socket in the watched socket's Context,
// connects to the monitor's unique inproc address before the monitor is
// bound, its receive HWM is unlimited, and one goroutine owned by the
// Monitor drains it without ever blocking, counting what it sees (Stats,
// Peers) whether or not Events is read. libzmq has one monitor per
// socket: attaching another stops the first.
//
// # Lifetime
//
// The reading end lives until libzmq says the monitor stopped (it does so
// when the watched socket closes, when Close detaches the monitor, and
// when another monitor is attached) or until the Context is terminated (the
// reading end then ends on ETERM like every zchan socket, so it is always
// closed before termination completes; pebbe/zmq4 documents crashes when a
// monitor outlives its context). It is not tied to the ctx given to Attach
// or Open, which bounds only the attaching, as for zchan.OpenWith: neither
// is the watched socket. Events is closed when it ends.
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
