// Package shutdown stops a ZeroMQ service cleanly: a signal cancels a
// context, and a Group closes what uses the zmq context in order, drains
// in-flight messages within a deadline, terminates the zmq context from a
// watchdog, and reports what happened and what was not delivered.
//
// # Signals
//
// NotifyContext is signal.NotifyContext with the signal as the
// cancellation cause (a *SignalError, errors.Is ErrSignal). After the first
// signal the default disposition is restored, so a second SIGINT or
// SIGTERM while shutting down kills the process at once; OnSecondSignal
// hands it to a function of main's instead. This package never calls
// os.Exit: main decides how the process ends.
//
// # Order of shutdown
//
// A Group's shutdown begins when its context is done (the signal), when
// Shutdown is called, when a function started with Go fails, or when its
// zmq context is terminated from elsewhere (ETERM). One goroutine, the
// group's, then runs these steps, each logged with its duration and counts,
// each recorded as a Step of the Report that Wait returns:
//
//  1. Stages, in the order they were added (sources first, in the
//     direction messages flow). A function stage's context is cancelled and
//     the group waits for it to return: the first stages are the sources,
//     so this is where new input stops. A component stage is closed
//     (Close), and the group records its undelivered count; then it waits
//     until the message counters of the components not yet closed have been
//     still for the settle period (WithSettle, 50ms by default), so that
//     what libzmq had queued on the closed socket reaches the next stage
//     before that stage closes. Upstream closes first, downstream keeps
//     reading until then.
//  2. zchan sockets of the context that no component closed are named
//     (a StepLeftOpen step, an error wrapping ErrLeftOpen).
//  3. The zmq context is terminated (zchan.Context.Term): every zchan
//     socket still open ends with ETERM, which releases any goroutine
//     blocked on one; libzmq flushes what the closed sockets queued for at
//     most their linger.
//  4. Stages that had passed the drain deadline are waited for again.
//
// # Bounds
//
// Step 1 is bounded by WithDrainTimeout (5s by default) counted from the
// beginning of shutdown: a Close or function still running then is named
// (ErrDrainTimeout), the remaining stages are still cancelled and closed,
// without waiting, and the group goes on. Each settle wait is bounded by
// zchan.DefaultLinger (1s) as well. Steps 3 and 4 together are bounded by
// WithTermTimeout (3s by default): if zmq_ctx_term has not returned by
// then, Wait returns an error wrapping zchan.ErrTermTimeout that names the
// zchan sockets still open, or says that a socket opened outside zchan
// holds the context. So Wait returns at most the drain timeout plus the
// term timeout after shutdown began, whatever the sockets and stages do;
// it never hangs silently. Something that outlives the bounds (a
// zmq_ctx_term blocked by a raw pebbe socket, a Close that never returns)
// is named in the error and left running: main should then exit.
//
// # Accounting
//
// With the stages added in flow order, every message a source handed to a
// socket is either delivered downstream, or counted as undelivered by the
// component that held it (for zchan sockets, Stats.Undelivered: a message
// held for sending, one held for the consumer, and what libzmq had queued
// for receiving at close), or lost by a function stage whose context was
// cancelled mid-message (such a function should count it, and expose
// Undelivered() by being a Component too, or report it itself). The
// residual, invisible to everyone, is what libzmq held on the sending side
// of a closed socket and did not hand to a peer: within the linger for an
// unreachable or stalled peer; over tcp, also what was in flight when the
// next stage closed because the settle period passed with nothing moving
// (a heuristic: libzmq tells no one when a closed socket's queue is empty;
// over inproc the queue is shared, so the next stage still counts it); and
// over ipc, what a closed socket still had queued, which libzmq 4.3.4
// drops despite the linger (libzmq issue #4660; measured here: of 10,000
// messages queued on a PUSH whose PULL peer kept reading, about 7,800 never
// arrived over ipc, none over tcp or inproc). Use inproc or tcp where the
// count must close.
//
// Measured (TestSignalUnderLoad: 50 SIGINT/SIGTERM runs of a ventilator,
// worker and sink under sustained load, inproc and tcp, go test -race, 2
// cores): from the signal to the process's exit, median 0.22s, maximum
// 0.4 to 0.6s, with the default 1s linger; every message accounted for.
// Most of it is the settle periods (one per component with counters).
//
// # pebbe/zmq4
//
// The group's context comes from zchan.NewContext, which removes pebbe's
// finalizers: sockets and the context are closed by their owners and by
// the group, never by the garbage collector from another thread. pebbe's
// Term and Close run once and never retry a failure, so a zmq_ctx_term
// interrupted by a signal (EINTR; Go signals threads for preemption too)
// would leave the context half-terminated for good; pebbe's
// retry-after-EINTR, on by default, is what prevents that, and neither
// this package nor zchan turns it off. Term is called once, by the group's
// goroutine, with a deadline.
//
// # Goroutines
//
// NotifyContext starts one goroutine, ended by stop. A Group has one
// goroutine from New until shutdown completes, one per function stage,
// and one per Close during shutdown; all end before Wait returns, except
// those named in an ErrStillRunning or ErrTermTimeout error.
package shutdown
