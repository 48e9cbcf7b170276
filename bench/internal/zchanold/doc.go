// Frozen copy of package zchan (github.com/zmqchan/zmqchan/zchan) at commit
// 3cf7a39759618a25e7905c3cf471325fd6425369, for the before/after comparison
// of the owner rewrite (issue 10): the bench variant zmqchan-old runs it
// beside zmqchan in one run. The files are zchan's non-test files at that
// commit, byte for byte but for the package clause and this comment.
// Delete this package (and v_zchanold.go) once the comparison is recorded.

// Package zchan bridges ZeroMQ sockets to Go channels.
//
// # Ownership
//
// Every Socket is created, configured, used and closed by exactly one
// goroutine, its owner, started by Open or OpenWith. Nothing else touches
// the libzmq socket: Send, Subscribe, Do and Close talk to the owner over
// channels. libzmq sockets are not thread-safe, but they only need a full
// memory barrier when they move between threads, which the Go scheduler
// provides when it moves a goroutine; single ownership, not an OS-thread
// lock, is what keeps a socket safe. WithLockOSThread locks the owner to
// its thread anyway; it is off by default because every wake of a locked
// goroutine is a hand-off to one particular OS thread. Measured on a
// 2-core machine against raw pebbe/zmq4 in the same run (REQ/REP, both
// ends bridged, inproc): locked, about 220 µs per round trip, 15 to 17
// times raw; unlocked, 1.4 to 1.9 times raw, with 0.2 context switches
// per round trip against raw's 2.2. On ipc and tcp the round trip is 2 to
// 3 times raw: the reply reaches the owner as a signal from libzmq's I/O
// thread, and a goroutine woken through Go's netpoller by a thread outside
// the runtime takes 60 to 75 µs on that machine where a thread blocked in
// poll(2) takes 9 to 14 (bench/wakeprobe measures it). bench/ has the full
// comparison.
//
// # Waiting
//
// The owner waits on the socket's ZMQ_FD (a dup of it, registered with Go's
// netpoller) and on its Go channels at once; it never polls on a timer, so
// an idle socket costs no CPU. ZMQ_FD is edge-triggered: it signals that
// libzmq has commands to process, not that a message is ready. The owner
// therefore reads ZMQ_EVENTS after its last send or receive and before
// every wait, drains input until EAGAIN, and waits only when ZMQ_EVENTS
// shows nothing it can act on. Each turn moves at most WithBudget messages
// (default 64) before the owner looks at its channels again, so sends,
// commands and cancellation stay prompt on a flooded socket; after a turn
// that used its whole budget it goes on without waiting for an edge.
// When nothing is held for the consumer and no caller waits on a channel,
// the owner parks on the descriptor itself; Send, Do, Close and
// cancellation wake it by expiring the descriptor's read deadline. After
// a turn that moved messages it yields once before parking, so that the
// goroutines it readied run first and their replies are taken without a
// wake-up. REQ
// and REP report EFSM when asked to act out of turn; the owner treats it as
// "would block" and keeps the alternation itself: a REQ takes the next
// request only after the reply has arrived, a REP takes a reply only after
// a request.
//
// # Channels
//
// In returns a channel the owner sends on and closes when the socket ends;
// Err then tells why (ErrClosed, the cancellation cause, ErrTerminated, or
// a fatal libzmq error). Outbound messages go through Send, which blocks
// and watches a context; the library never closes a channel the caller
// sends on. Messages are values of T, mapped to frames by a Codec: Frames
// (raw multipart, the default), Bytes, String and JSON are built in. A
// message that fails to decode is counted (Stats.DecodeErrors) and logged
// once per episode, never delivered half-decoded. A REP socket answers a
// request it cannot decode with an empty reply, so that its REQ peer is
// not left waiting.
//
// # Back pressure
//
// The owner takes a message off the socket only when the consumer of In can
// take it (it holds at most one, plus WithRecvBuffer), so a slow consumer
// pushes back to libzmq's receive HWM and from there to the sender. Send
// hands a message to the owner only when the owner can send it: when the
// send HWM is reached or no peer is there, the owner keeps the one message
// it holds, takes no more, and waits for POLLOUT. Nothing is buffered
// without bound and nothing is dropped unless WithDropWhenSlow asks for it;
// drops are then counted (Stats.Dropped) and logged once per episode.
//
// # Shutdown
//
// A socket ends when its context is cancelled, Close is called, its zmq
// Context is terminated (ETERM) or libzmq fails. The owner then stops
// taking sends, sends the message it holds if libzmq takes it within the
// linger (set at creation, 1s by default, never infinite), closes the
// socket and closes In. Messages it could not hand on are counted in
// Stats.Undelivered: one held for sending, one held for the consumer, and
// whatever libzmq had queued for receiving. libzmq itself goes on sending
// what it queued for up to the linger; those messages are invisible to
// this package. Close is idempotent and returns within about the linger.
// Context.Term wakes every owner in the context through its ZMQ_FD, so a
// termination never waits on a forgotten Socket of this package, and is
// bounded by its own context for everything else.
//
// # EINTR
//
// pebbe/zmq4 retries calls interrupted by a signal (EINTR) by default, and
// this package leaves that on: Go delivers signals (including the runtime's
// preemption signal) to arbitrary threads, and a blocking libzmq call such
// as zmq_ctx_term interrupted halfway would otherwise fail once and, in
// pebbe's one-shot Term and Close, never be retried. The owner's own
// calls into libzmq (below) retry after EINTR the same way.
//
// # The hot path
//
// The owner reads ZMQ_EVENTS and receives frames by calling libzmq
// directly rather than through pebbe/zmq4, whose getsockopt and receive
// allocate on every call (their arguments escape to the Go heap) and take
// six cgo calls per received frame where two do; the frame is copied out
// of libzmq's buffer in Go, so no Go pointer crosses into C. Measured in
// bench/, this halved the allocations per message and per round trip (2
// per message against raw pebbe's 4; 4 per REQ/REP round trip against 8)
// and lifted 64-byte throughput from 0.7 to 0.8 times raw pebbe to 0.9 to
// 1.4 times.
// Everything else (creating, configuring, binding, sending, closing) goes
// through pebbe. The direct calls need libzmq's socket handle, which pebbe
// keeps in an unexported field; the package checks at start-up that the
// field is where it reads it, and checks every socket's handle against
// pebbe's answer for ZMQ_TYPE, and uses pebbe for everything should either
// check fail.
package zchanold
