// Package shutdown stops a ZeroMQ service cleanly: a signal cancels a
// context, and a Group shuts down what uses the zmq context in order,
// each component draining its in-flight messages within a deadline,
// terminates the zmq context from a watchdog, and reports what happened
// and what was not delivered or was lost in transit between its sockets.
//
// The idiomatic main, in outline (the package Example is a complete one):
//
//	ctx, stop := shutdown.NotifyContext(context.Background()) // SIGINT, SIGTERM
//	defer stop()
//	g, err := shutdown.New(ctx) // owns the zmq context, g.ZMQ()
//	if err != nil {
//		return err
//	}
//	pull, err := zchan.Open(ctx, zchan.Pull, zchan.WithContext(g.ZMQ()), zchan.WithBind(ep))
//	if err != nil {
//		g.Shutdown()
//		_, werr := g.Wait()
//		return errors.Join(err, werr)
//	}
//	g.Go("consume", func(ctx context.Context) error { ... }) // functions are cancelled first
//	if err := g.Add(pull); err != nil { // components, in the direction messages flow
//		pull.Close() // shutdown had begun already
//	}
//	report, err := g.Wait() // after a signal, a failure or g.Shutdown: every step, in order
//	fmt.Print(report)        // durations, undelivered per component, lost in transit per link
//	return err               // wraps ErrLostInTransit, ErrLeftOpen, ... when something went wrong
//
// # Signals
//
// NotifyContext is signal.NotifyContext with the signal as the
// cancellation cause (a *SignalError, errors.Is ErrSignal). After the first
// signal the default disposition is restored, so a second SIGINT or
// SIGTERM while shutting down kills the process at once; OnSecondSignal
// hands it to a function of main's instead. A second signal that arrives
// before the default is restored is not lost: NotifyContext raises it
// again once it is. The cause names the first signal the process saw.
// What the kernel and Go's runtime merge or reorder is beyond any
// handler: two identical signals sent within about a millisecond (several
// on a loaded machine) are one, and two different ones sent within that
// window are seen in signal-number order, SIGINT before SIGTERM (see
// NotifyContext for the figures; TestSecondSignalGaps sends SIGTERM then
// SIGINT at gaps of 0 to 10ms, 10 runs each, and the second ends the
// process in every run). This package never calls os.Exit: main decides
// how the process ends.
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
//     direction messages flow). Before a socket that sends over a link
//     to other sockets of the group is shut down, the lossless drain
//     waits until the link's receivers have taken what its senders sent
//     (StepDeliver; see Lossless drain). A function stage's context is cancelled
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
//     the next stage before that stage's turn (for a link within the
//     group, the lossless drain has already waited for the first; the
//     settle is what lets a function finish forwarding). Components without a
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
//  5. The links between the group's sockets are accounted (Report.Links):
//     a link that lost messages in transit is a StepTransit step whose
//     error wraps ErrLostInTransit (see Transit).
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
// The lossless drain's waits are within the drain deadline, so they add
// nothing to the bound below.
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
// With the stages added in flow order, every message a source's Send
// accepted is, once Wait has returned, exactly one of: delivered to the
// last consumer (read from In, or still readable there), counted as
// undelivered by one socket in the Report, not forwarded by a function
// stage (a Send that failed because its socket was shutting down or its
// context was cancelled), which that function must count, or lost in
// transit on a link between two of the group's sockets, which the Report
// counts (see below). So sent = delivered + TotalUndelivered + what the
// functions counted + TotalLost, whether the drain finished or the
// deadline cut it short, with a settle period or without.
// TestDeadlineUnreadOutput checks this over inproc with an unread consumer, for a pair and a chain with a worker, against every
// socket's Stats; TestSignalUnderLoad checks it in child processes
// stopped by SIGINT and SIGTERM under load, with the default settle, none,
// and a drain deadline of 1ms.
//
// Over tcp and ipc, a socket's counters end where libzmq begins: what a
// sender handed to libzmq (MsgsOut) sits in libzmq's queues and the
// kernel's socket buffers until the receiver's owner takes it off
// (Received), and what is there when the sockets close is dropped, by
// libzmq when the sender's linger expires or at once when the receiver
// closes. Neither socket counts it. The group does, per link (Transit),
// so that with every link's two ends in the group,
//
//	sent = delivered + TotalUndelivered + what the functions counted + TotalLost
//
// over tcp as over inproc, and Wait's error says when TotalLost is not
// zero. TestSlowConsumerTCP, TestPropertyAccounting (tcp and inproc, slow
// workers and consumers, random deadlines, lingers and HWMs),
// TestSignalUnderLoad and the root package's TestShutdownMidStream check
// it. Over ipc, libzmq 4.3 also drops part of what a closing socket had
// queued despite the linger (libzmq issue #4660; the zchan package's
// TestCloseUnderLoad logs how much): the transit count includes it by
// construction, though no test of this package runs over ipc.
//
// # Transit
//
// The group finds the links between its sockets by their endpoints: a
// socket bound to an endpoint (zchan Socket.Endpoints, as libzmq resolved
// it) and one connected to it (Socket.Connects) are on the same link; for
// tcp, a wildcard or loopback host on either side (tcp://*:P resolves to
// tcp://0.0.0.0:P) matches localhost, 127.0.0.1 and ::1 on the other, and
// any other host must be spelled alike. Sockets joined through any chain
// of endpoints form one link. Once every stage has stopped, it reads the
// senders' MsgsOut and the receivers' Received: Sent - Received is what
// the link lost in transit, with its cause (the drain deadline passed
// while the receivers were still taking them; the senders' turn came
// after the deadline; a receiver ended first; or, without the lossless
// drain, the receivers were shut down before it arrived). Wait's error
// then wraps ErrLostInTransit, so main can exit non-zero.
//
// The figure is exact when every peer of the link's sockets is in the
// group. A socket's counters are not per peer, so with fan-in (several
// PUSHes connected to one PULL) or fan-out (one PUSH, several PULLs) the
// figure is for the link as a whole, never for one pair. A peer outside
// the group (another process, or a socket of another context, connected
// to a bound endpoint) is invisible: one that sends makes the receivers
// take more than the senders sent, and the link is marked inexact
// (Link.Exact false, nothing counted, no error); one that receives takes
// messages the group then counts as lost. Two-way sockets (PAIR, REQ,
// REP, DEALER, ROUTER) are senders and receivers at once, and their link
// is counted both ways together. PUB, SUB, XPUB, XSUB and STREAM sockets
// are in no link: a PUB drops by design what no subscriber wants or finds
// its HWM reached.
//
// Where only one end is local (a socket whose peers are all in other
// processes, or unreachable), the Report lists the socket as a link of its own with no
// peer in the group, with what it handed to libzmq or took off it, and
// says its fate is unknown: libzmq 4.3 has no call that says how many
// messages a socket still queues for a peer, nor how many of those the
// kernel had sent when the socket closed, so the group cannot know how
// many were lost, and only the remote peer's own count can tell. What a
// socket handed to libzmq for a peer that is unreachable or stalled is
// dropped at the linger unseen (TestUnreachablePeer: Accepted = MsgsOut +
// Undelivered, and those MsgsOut went nowhere, yet the Report can say no
// more than that).
//
// # Lossless drain
//
// WithLosslessDrain, on by default, is the way to lose nothing on a link
// whose two ends are in the group. When a socket that sends over a link
// comes to its turn (its sources, added before it, have stopped), the
// group waits, before calling its Shutdown, until the link's receivers
// have taken off libzmq everything the link's senders accepted, or until
// the drain deadline, or until a receiver has ended. Its queue is then
// empty, so closing it drops nothing whatever its linger (a zero linger
// too: TestLosslessDrain), and what the receivers took they hand on when
// their own turn comes, or count as undelivered. It costs one look at the
// counters when nothing is in flight, and otherwise the time the
// receivers take to read what is (the group looks at the counters on a
// timer backing off from 1ms to 16ms, during shutdown only). It is the
// default because that time is what a graceful drain is for, and the
// drain deadline already bounds it; WithLosslessDrain(false) shuts a
// sender down at its turn, and what is then in flight is lost, and
// counted as lost in transit. A peer outside the group that receives from
// a link's sender takes messages the group cannot see arrive, so the wait
// for such a link lasts the whole drain deadline (and what the outside
// peer took is counted as lost): turn the drain off for such a topology.
//
// The wait is short only if what a link holds in flight is small against
// the receivers' speed: per link, the sender's ZMQ_SNDHWM and the
// receiver's ZMQ_RCVHWM (zchan.WithSendHWM, WithRecvHWM; 1000 each by
// default), zchan's own buffers (Send's queue and In's, 64 each, and one
// message held each way), libzmq's engine batches (8 KiB each way), and,
// over tcp, the kernel's socket buffers (ZMQ_SNDBUF and ZMQ_RCVBUF, up to
// several MB each once Linux has tuned them). In bytes, that is about 3MB
// of small messages by default: issue 14 measured 379,000 to 546,000
// messages of a few bytes in flight behind a worker taking 1ms each, which
// no deadline drains. Size it for the slowest receiver and the drain
// deadline: TestSlowConsumerTCP, with a 1ms-per-message worker, an
// SNDHWM of 2000, an RCVHWM of 100, 4 KiB kernel buffers (zchan.WithSetup
// with SetSndbuf and SetRcvbuf) and 100-byte messages, held 2,065
// messages in flight and drained them in 2.2 to 2.4s, losing none; with
// the defaults and a 1s deadline it lost about 17,000 to 64,000 a run, each
// counted, and Wait's error said the deadline cut the wait short. The
// linger need not cover the drain: the wait happens before the close.
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
