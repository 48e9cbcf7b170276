// Package zchan bridges ZeroMQ sockets to Go channels: a Socket's inbound
// messages arrive on a channel, outbound ones go through a Send that takes
// a context, and its life ends with Close, Shutdown or its zmq Context.
//
//	pull, err := zchan.OpenWith(ctx, zchan.Pull, zchan.String, zchan.WithBind("tcp://*:5557"))
//	if err != nil {
//		return err // wraps ErrBadEndpoint, ErrAddrInUse, ... and the errno
//	}
//	defer pull.Close()
//	for msg := range pull.In() { // closed when the socket ends
//		...
//	}
//	return pull.Err() // why it ended
//
// and on the other side
//
//	push, err := zchan.OpenWith(ctx, zchan.Push, zchan.String, zchan.WithConnect("tcp://localhost:5557"))
//	...
//	err = push.Send(ctx, "hello") // blocks at the HWM; ctx bounds the wait
//
// Open gives [][]byte messages (Msg); OpenWith takes a Codec for a typed
// payload (String, JSON, or your own). Every option's doc states its
// default. Bind, Unbind, Connect and Disconnect also work on an open
// socket. To serve any number of sockets from one loop, add them to a
// Merge; to send from a select, hand the socket a channel with SendFrom.
// To know that a peer has connected, attach a monitor (package monitor).
//
// # Lifetime
//
// Open's context bounds the opening only (the owner goroutine creates the
// socket, applies the options, binds and connects; Open returns when that
// is done or its context ends). A socket then lives until one of: Close
// (at once: what cannot be handed on within the linger is counted as
// undelivered), Shutdown(ctx) (gracefully, as net/http's Server.Shutdown:
// Send refuses new messages, the owner sends what was queued and hands In
// what libzmq has already received, then closes; bounded by ctx), the
// termination of its zmq Context (Context.Term: every owner wakes and ends
// with ErrTerminated), a fatal libzmq error, a panic in a user function
// that runs on the owner, or the end of the context given to WithLifetime
// (for short programs). In is then closed (what its buffer holds stays
// readable), Done is closed, and Err tells why.
//
// # Back pressure
//
// The owner takes a message off the socket only when the consumer of In
// can take it (it holds at most one, plus WithRecvBuffer), so a slow
// consumer pushes back to libzmq's receive HWM and from there to the
// sender. Send (or a value put on the caller's channel given to SendFrom,
// the form a select can use) hands a message to the owner only when the
// owner can send it: when the send HWM is reached or no peer is there, the owner keeps
// the one message it holds, takes no more, and waits for POLLOUT (the
// frames of a message are the owner's until libzmq has copied them;
// WithSent tells the sender when, so that it can reuse them). Nothing
// is buffered without bound and nothing is dropped unless WithDropWhenSlow
// (inbound) or WithDropAtHWM (ROUTER and STREAM, outbound) asks for it;
// drops are then counted (Stats.Dropped) and logged once per episode.
// A ROUTER has ROUTER_MANDATORY on, so that a message for a full peer
// waits like any other and one for a departed peer is counted in
// Stats.Unroutable (the socket goes on); without it libzmq would drop
// both in silence. The exception is ZeroMQ's own: PUB and XPUB drop for a
// subscriber at its HWM by design, and libzmq does not report it, so no
// counter can (see Stats.Dropped).
//
// # Accounting
//
// Every message is counted once, when its fate is known: handed to libzmq
// (Stats.MsgsOut) or to the consumer (MsgsIn), unroutable, dropped,
// undecodable, over the frame cap, or undelivered: held by the owner, queued by Send or
// still in libzmq's receive queue when the socket ended. Once a socket has
// ended, Accepted + Received equals the sum of those (see Stats). What
// libzmq queued on the sending side and never handed to a peer within the
// linger is outside it: libzmq does not say. Over ipc, libzmq 4.3 drops
// what a closing socket had queued (libzmq#4660); use inproc or tcp where
// every message must be counted.
//
// # Errors and panics
//
// Every error wraps one of the sentinels of this package (a call whose
// context ends returns context.Cause(ctx) instead), and the errno
// libzmq reported, if any (errors.Is(err, syscall.EADDRINUSE) works). A
// message that fails to decode is counted (Stats.DecodeErrors) and logged
// once per episode, never delivered half-decoded. A panic in a user
// function that runs on the owner (Codec.Decode, a Do, WithSetup or
// WithSent function) is recovered into an error wrapping ErrPanic, with the value
// and the stack, and ends the socket in order; a panic in Codec.Encode
// becomes Send's error. This package does not panic.
//
// # REQ and REP
//
// REQ and REP report EFSM when asked to act out of turn; the owner treats
// it as "would block" and keeps the alternation itself: a REQ takes the
// next request only after the reply has arrived, a REP takes a reply only
// after a request. A REQ with REQ_RELAXED (WithReqRelaxed, or set through
// WithSetup) is left to libzmq: while it awaits a reply, the owner takes a
// new request whenever ZMQ_EVENTS shows that libzmq would send it, so a
// request abandoned after a timeout does not block the next, and with
// REQ_CORRELATE the late reply to it is discarded by libzmq. A REP that cannot hand on a request (decode error,
// frame cap) cannot reply to it either: it ends with ErrCodec, unless
// WithEmptyReplyOnCodecError lets it answer with an empty message.
//
// # How it works inside
//
// The rest of this comment is for those who want to check the claims
// above: who touches the libzmq socket, how the owner waits without losing
// a wake-up, and how it calls libzmq. Measurements are in bench/README.md.
//
// # Ownership
//
// Every Socket is created, configured, used and closed by exactly one
// goroutine, its owner. Nothing else touches the libzmq socket: Send,
// Subscribe, Do, Shutdown and Close talk to the owner over channels.
// libzmq sockets are not thread-safe, but they only need a full memory
// barrier when they move between threads, which the Go scheduler provides
// when it moves a goroutine; single ownership, not an OS-thread lock, is
// what keeps a socket safe (WithLockOSThread adds the lock, at a cost that
// bench/README.md measures). A socket costs two goroutines: the owner, and
// a waiter parked in Go's netpoller on the socket's ZMQ_FD.
//
// # Waiting
//
// The owner does not poll on a timer, so an idle socket costs no CPU. It
// has one way of waiting: a select over its Go channels and the waiter's
// report that ZMQ_FD became readable. (One exception: when libzmq's
// POLLOUT is for the socket but not for the peer a held message goes to,
// as for a ROUTER (ROUTER_MANDATORY is on) with several peers, a STREAM or an
// XPUB with XPUB_NODROP, no edge may come when that peer has room again;
// the owner then also retries on a timer, 1 ms doubling to 50 ms, while
// the message is stuck. A message for a peer that does not exist is
// counted in Stats.Unroutable and the socket goes on.) ZMQ_FD is edge-triggered (it says
// that libzmq has commands to process, not that a message is ready), so
// the owner reads ZMQ_EVENTS after its last send or receive and before
// every wait, drains input until EAGAIN, and waits only when ZMQ_EVENTS
// shows nothing it can act on; the argument that no wake-up is lost is in
// one comment, on the owner's loop (owner.go). Each turn moves at most
// WithBudget messages (default 64) before the owner looks at its channels
// again, so sends, commands and Close stay prompt on a flooded socket.
//
// # EINTR
//
// pebbe/zmq4 retries calls interrupted by a signal (EINTR) by default, and
// this package leaves that on: Go delivers signals (including the runtime's
// preemption signal) to arbitrary threads, and a blocking libzmq call such
// as zmq_ctx_term interrupted halfway would otherwise fail once and, in
// pebbe's one-shot Term and Close, never be retried. The owner's own
// calls into libzmq retry after EINTR the same way.
//
// # The hot path
//
// The owner reads ZMQ_EVENTS, receives and sends by calling libzmq
// directly rather than through pebbe/zmq4, whose getsockopt and receive
// allocate on every call and take six cgo calls per received frame, and
// whose send takes one per frame (and an allocation per empty frame): the
// owner takes two cgo calls to receive a message of up to four frames and
// one to send it, and the frames of a received message of up to 4 KiB
// share one allocation, each capped so that an append to one cannot
// reach the next (bench/README.md has the numbers). Everything else goes
// through pebbe. The direct calls need libzmq's socket handle, which pebbe keeps in
// an unexported field: the package checks at start-up that the field is
// where it reads it, and every socket's handle against pebbe's answer for
// ZMQ_TYPE; should either check fail (another pebbe/zmq4 version), the
// owner uses pebbe for everything, warns once per process, and
// Stats.DirectPath is false. The build tag zchan_nodirect turns the direct
// path off. The package builds on unix systems; elsewhere Open fails with
// ErrUnsupported, since ZMQ_FD is not a descriptor Go's netpoller can wait
// on.
package zchan
