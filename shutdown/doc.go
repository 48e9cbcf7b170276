// Package shutdown stops a ZeroMQ service cleanly: a signal cancels a
// context, and a Group shuts down what uses the zmq context in order,
// each component draining its in-flight messages within a deadline,
// terminates the zmq context from a watchdog, and reports what happened
// and what was not delivered.
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
// # The idiomatic main
//
// NotifyContext gives the signal context; New(ctx) creates the Group,
// whose shutdown begins when ctx is done; sockets are opened in the
// group's zmq context with that same ctx (zchan.Open's context bounds
// only the opening: the socket lives until the group shuts it down) and
// added with Add, in the direction messages flow; the work is started with
// Go; main calls Wait and chooses its exit code from the Report's cause
// and the error. The package Example is such a main.
//
// # Order of shutdown
//
// A Group's shutdown begins when its context is done (the signal), when
// Shutdown is called, when a function started with Go fails or panics, or
// when its zmq context is terminated from elsewhere (ETERM). One
// goroutine, the group's, then runs these steps, each logged with its
// duration and counts, each recorded as a Step of the Report that Wait
// returns:
//
//  1. Stages, in the order they were added (sources first, in the
//     direction messages flow). A function stage's context is cancelled
//     with the shutdown's cause and the group waits for it to return: the
//     first stages are the sources, so this is where new input stops. A
//     component's Shutdown is called with a context whose deadline is the
//     drain deadline (its cause ErrDrainTimeout), and the group waits for
//     it to return (StepShutdown) and reads its Undelivered count (a panic
//     in Shutdown is recovered into an error wrapping ErrStage and
//     zchan.ErrPanic, and the group goes on). A zchan socket's Shutdown
//     refuses new Sends (ErrClosed), sends what Send had queued, hands
//     In's consumer what libzmq had received, and closes.
//     Then the group settles (StepSettle): it waits until the Progress of
//     the components not yet shut down has been still for the settle
//     period (WithSettle, 50ms by default), at most zchan.DefaultLinger
//     and not past the drain deadline, so that what libzmq still carries
//     from the closed socket, and what a function forwards from it, reaches
//     the next stage before that stage's turn. Components without a
//     Progress method are not watched. Upstream stops first, downstream
//     keeps reading until then.
//  2. zchan sockets of the context that no component closed are named
//     (a StepLeftOpen step, an error wrapping ErrLeftOpen).
//  3. The zmq context is terminated (zchan.Context.Term, StepTerm): every
//     zchan socket still open ends with ETERM, which releases any
//     goroutine blocked on one; libzmq sends what the closed sockets still
//     queued for at most what is left of their linger.
//  4. Stages the group stopped waiting for in step 1 are waited for again
//     (StepStraggle).
//
// # Bounds
//
// The drain deadline (WithDrainTimeout, 5s by default) is counted from the
// beginning of shutdown. A component still draining then stops at once,
// counting what it abandons, and its Shutdown returns with the deadline's
// cause (ErrDrainTimeout names it); the stages whose turn comes later are
// still shut down, in order: functions are cancelled and not waited for
// until step 4, components get a Shutdown whose context is already done,
// so they stop at once, and the group waits for each. A component keeps
// its contract by returning within a bound of its own after its deadline;
// for a zchan socket that is its linger, spent only while it holds output
// no peer takes (it tries to send it until then), and nothing otherwise.
// The group gives up on a Shutdown that has not returned the term timeout
// after the later of the deadline and its turn: such a component breaks
// the contract, and is waited for again in step 4. The termination is
// bounded by WithTermTimeout (3s by default), and step 4 by what is left
// of it: if zmq_ctx_term has not returned by then, Wait returns an error
// wrapping zchan.ErrTermTimeout that names the zchan sockets still open,
// or says that a socket opened outside zchan holds the context.
//
// So Wait returns, after shutdown began, within the drain timeout plus the
// term timeout plus the time the components the deadline cut short take
// to stop at once: for zchan sockets, the linger of each one stuck with
// output nobody takes (TestDeadlineUnreadOutput: one linger per stuck
// PUSH). The group waits for every Shutdown in turn rather than all at
// once because the order is what keeps the count of undelivered messages
// exact: a downstream socket that closed while its upstream was still
// flushing would lose what arrived in between, uncounted. It never hangs
// silently. What outlives the bounds is named in the error
// (ErrStillRunning: a function that ignores its cancelled context and
// blocks on nothing the termination ends, or a component whose Shutdown
// broke its contract; zchan.ErrTermTimeout: a raw pebbe socket left open)
// and left running: main should then exit.
//
// # Accounting
//
// The Report holds what the components say they could not deliver: each
// component's Undelivered(), read once its Shutdown has returned, in its
// StepShutdown (or StepStraggle) step; Report.Undelivered sums them by
// name and TotalUndelivered in all. A component without Undelivered has
// no count (Step.HasCount is false). The group counts nothing itself, and
// a function stage counts its own losses.
//
// For a zchan socket, Undelivered is Stats.Undelivered: messages Send
// accepted that the socket never handed to libzmq, and messages it took
// off libzmq (including what was still in libzmq's receive queue when it
// closed) that it never handed to In's consumer. What it had handed to In
// stays readable from In after In is closed, and is counted in MsgsIn, not
// as undelivered.
//
// With the stages added in flow order and linked over inproc, every
// message a source's Send accepted is, once Wait has returned, exactly one
// of: delivered to the last consumer (read from In, or still readable
// there), counted as undelivered by one socket in the Report, or not
// forwarded by a function stage (a Send that failed because its socket
// was shutting down or its context was cancelled), which that function
// must count. So sent = delivered + TotalUndelivered + what the functions
// counted, whether the drain finished or the deadline cut it short, with a
// settle period or without. TestDeadlineUnreadOutput checks this with an
// unread consumer, for a pair and a chain with a worker, against every
// socket's Stats; TestSignalUnderLoad checks it in child processes
// stopped by SIGINT and SIGTERM under load, with the default settle, none,
// and a drain deadline of 1ms.
//
// Over tcp, one more thing is outside every count: what libzmq still held
// for sending on a closed socket and had not handed to the peer. The
// settle step is what lets it arrive before the next stage's turn, and it
// is a heuristic, since libzmq tells no one when a closed socket's queue
// is empty; the drain deadline cuts it short. TestSignalUnderLoad's tcp
// runs and the root package's TestShutdownMidStream (tcp, SIGTERM) check
// that the count closes with the default settle period. What a socket
// handed to libzmq for a peer that is unreachable or stalled is dropped at
// the linger unseen (TestUnreachablePeer: Accepted = MsgsOut + Undelivered,
// and those MsgsOut went nowhere). Over ipc, libzmq 4.3 drops part of what
// a closing socket had queued despite the linger (libzmq issue #4660; the
// zchan package's TestCloseUnderLoad logs how much). Use inproc, or tcp
// with a settle period, where the count must close.
//
// TestSignalUnderLoad logs the time from the signal to the child's exit
// over its 50 runs (go test -race -v -run TestSignalUnderLoad ./shutdown);
// it is not asserted. In ten runs of it on the 2-core machine this was
// written on (some beside two CPU-burning processes), with the default 1s
// linger: median 0.21s every time, maximum 0.22 to 0.40s, most of it the
// settle periods (one after each component's Shutdown while a later
// component has Progress).
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
// and one per component while its Shutdown runs; all end before Wait
// returns, except those named in an ErrStillRunning error. A termination
// that timed out (zchan.ErrTermTimeout) leaves zchan's goroutine blocked
// in zmq_ctx_term.
package shutdown
