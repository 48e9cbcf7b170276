// Package pipeline builds the two shapes ZeroMQ programs are made of, a
// chain of stages and a worker pool, plus the classic devices, on zchan
// sockets: typed, shut down in order, and movable from inproc to ipc or
// tcp, into another process or onto another machine, by changing an
// endpoint and nothing else.
//
// A worker pool (ExampleNewPool), with its workers in this process:
//
//	square := func(_ context.Context, n int) (int, error) { return n * n, nil }
//	pool, err := pipeline.NewPool(ctx, square, pipeline.WithWorkers(4))
//	if err != nil {
//		return err
//	}
//	defer pool.Close()             // at once; pool.Shutdown(ctx) answers every task first
//	go func() { pool.Submit(ctx, 1); pool.Submit(ctx, 2) }()
//	fmt.Println(<-pool.Results(), <-pool.Results()) // 1 4, in the order the workers finish
//
// or in other processes: NewPool(ctx, square, pipeline.WithEndpoint("tcp://*:5557"))
// here, and pipeline.Work(ctx, square, "tcp://pool-host:5557") there. A chain
// of stages (ExampleStart):
//
//	plan := pipeline.Then(pipeline.From[int](), "double", double)
//	c, err := pipeline.Start(ctx, plan)
//	...
//	c.Send(ctx, 21)
//	fmt.Println(<-c.Out()) // 42
//
// # Chains
//
// A Plan lists typed stages (Stage[In, Out]: a function of a context and
// one value, returning one value or an error), built with From and Then;
// Start runs it. Each link between two stages is a pair of PAIR sockets
// (the guide's mtrelay), inproc by default. Each stage is one goroutine
// that owns the two sockets of its links: it reads a value, runs the
// function, sends the result, in order. The chain owns the socket Send
// writes into and the one Out reads from, and one goroutine decoding into
// Out. Start opens every socket before any goroutine starts, binding each
// link before connecting to it (inproc needs the bind first), so a Chain
// is complete when Start returns.
//
// Errors have errgroup semantics: the first stage error (or ErrPanic)
// cancels the chain's context, every stage stops and closes its sockets,
// Out is closed, and Wait, Close and later Sends return that first error.
// A panic in a stage function or in a codec the chain runs is recovered
// on the goroutine that ran it and turned into an error wrapping ErrPanic
// (with the value and the stack): it stops the chain like an error and
// does not crash the process, because a ZeroMQ program's other sockets
// and peers deserve an orderly close. ErrSkip drops a value without
// stopping.
//
// # Lifetimes and shutdown
//
// The context given to Start, NewPool, Queue, Forwarder and Streamer
// bounds only the opening. A Chain, Pool or Device then lives until
// Shutdown or Close, until it fails, until its zchan.Context is
// terminated, or until the context given to WithLifetime ends (for short
// programs and tests). Serve and Work are blocking calls: their context is
// what ends them.
//
// Shutdown(ctx) is graceful, as net/http's Server.Shutdown: it stops
// taking input (Send and Submit fail with an error wrapping ErrClosed),
// drains what is in hand and then closes, upstream first. A chain sends
// an end-of-stream marker behind the last value; every stage passes it on
// and closes its input, and its output once the marker has reached Out;
// Out is closed after the last value. A pool waits until every task sent
// has been answered and its result delivered on Results, then sends
// KILL to every worker and waits for their goodbyes. A device
// forwards what it holds. The drain needs Out (Results) to be read. If
// ctx ends first, Shutdown closes at once and returns context.Cause(ctx).
// Close is at once: everything stops, each socket hands on what it holds
// within the linger (WithLinger), and what is abandoned is counted.
//
// Chain, Pool and Device have Name, Shutdown, Done, Undelivered and
// Progress, the contract of a shutdown.Group's components, and Close.
// Every goroutine of this package has an owner that waits for it; none
// outlives Done.
//
// # Accounting
//
// Every value is counted once, where it changes hands: taken off a link,
// passed on, skipped, failed, or held when its holder was stopped. So
// once a chain is done (ChainStats),
//
//	Sent == Delivered + Skipped + Failed + Undelivered
//
// and once a pool is done (PoolStats, see below),
//
//	Submitted == Results + Skipped + Failed + Undelivered
//
// where Undelivered counts what was held when the component stopped and
// what went into a link and never came out of it (queued in a socket or
// in libzmq when it closed, on the wire, with a remote stage or worker
// that dropped or lost it; for a pool, the tasks of dead workers without
// WithAtLeastOnce). Out is unbuffered, so a delivered value has been
// received. Results has a buffer (WithResultBuffer): a result in it
// counts as delivered, and those still unread when the pool closes (Close,
// a failure) are taken back and counted in Undelivered, so once the pool
// is done Results is what the consumer received. After a Shutdown that
// drained (the consumer has read the buffer to its end), every value has
// been delivered, skipped or reported lost.
//
// # Relocation
//
// Input(endpoint) sets a link's endpoint (inproc, ipc or tcp; a tcp port
// of "*" is picked at bind time, Links tells which). A stage marked Remote
// runs in another process, which calls Serve with the same function and
// the two link endpoints; the chain binds both links, the remote stage
// connects to them. The end-of-stream marker travels through the remote
// stage, whose Serve then returns nil; a remote failure travels down the
// chain and ends it with ErrRemote. Heartbeats go both ways on the links
// of a remote stage, every interval (WithHeartbeat, default 250 ms), from
// a goroutine of their own so that a long call or a blocked send does not
// delay them, and never after the link's last message (end of stream or
// failure). Serve sends one on its output link; the stage reading that
// link (or Out) ends the chain with an error wrapping ErrDead, naming the
// remote stage, once it has waited liveness intervals (default 4: 1 s)
// without a message: a remote stage that dies ends the chain within about
// that bound, never a hang (TestChainRemoteDead). The chain sends one on
// the link into each remote stage; a Serve that waits that long for input
// without a message (its chain's process died, or the chain was closed
// at once) returns an error wrapping ErrDead that names "the chain
// upstream of remote stage" and its name (TestServeChainDead). A wait
// counts from its start, so a stage held up by a slow consumer is not
// taken for dead by its own delay.
//
// # Pools
//
// NewPool is the guide's load-balancing broker with Paranoid Pirate
// workers: one ROUTER that every worker connects a DEALER to, credit-based
// dispatch, heartbeats both ways, and a liveness rule. Submit hands a task
// to the pool, which queues it (WithQueueSize) and sends it to a
// registered worker with credit left; the worker runs the function and
// sends the answer back on the same link; the pool delivers the result on
// Results. WithWorkers starts workers in this process (over the pool's
// endpoint, inproc by default); Work runs them in another process.
//
// A worker holds at most its credit (WithWorkerCredit, DefaultCredit
// 128): the pool charges a task to its worker from the moment it sends it
// until the worker has answered it. Within the credit the pool keeps out
// to each worker only a window that follows the worker's measured answer
// rate, enough to keep it busy while answers and tasks cross the link (about
// 2 ms of its work, or twice its round trip if longer; at least 2 tasks):
// a new worker's window starts at 8 tasks and grows with its answers
// until its rate is measured (slow start, as TCP's), so a fast worker's
// opens to its credit within a few round trips, and its tasks travel in
// large batches; a slow one's stays at a few tasks, so that it holds back
// little when the others are done. So a dead worker takes with it what it
// held, at most its window at the time and its credit, each task known by
// id. The pool sends no task while the results waiting for the consumer of
// Results reach the credit of all its workers together, so a consumer
// that stops reading stops the workers (once they have answered what they
// hold) without stopping the pool's reading of their link: heartbeats are
// never queued behind results. Each side sends a heartbeat every interval
// (WithHeartbeat, default 250 ms) and treats any message as a sign of
// life; a worker silent for liveness intervals (default 4: 1 s) is
// declared dead: its tasks are re-dispatched to the others with
// WithAtLeastOnce (what it held resent; a late answer for a task already
// answered is dropped and counted in Duplicates), or else reported lost
// by id (PoolStats.Lost, a WorkerDead event with WithEvents, a log line)
// and never run again. These are application heartbeats, not ZMTP's:
// libzmq 4.3 can abort the process when ZMTP heartbeats meet a socket
// whose input is stopped (libzmq#3937, #4767), which is what back
// pressure does.
//
// Shutdown waits until every task taken has been answered and delivered
// (or failed, or reported lost), then sends KILL to every worker over its
// link and waits up to the kill bound (WithKillTimeout, default 1 s) for
// their goodbyes. Close, a failure and the end of the WithLifetime context
// send the same KILL on the same link (never through a context that has
// ended) and wait the same way, reading and abandoning the results that
// arrive meanwhile, so a goodbye behind unread results is seen. A
// worker's error or panic ends the pool like a chain stage's; a remote
// worker's arrives wrapped in ErrRemote. Results come in the order
// workers finish.
//
// # The worker protocol
//
// This is all a worker in another language needs to join a pool. The
// pool binds a ROUTER; a worker connects a DEALER (one per worker; no
// empty delimiter frame). Every message is one or more frames; the first
// byte of the first frame is the message's kind. Tasks and answers travel
// in batches, several in one frame: TASKS and RESULTS are one frame each,
// the kind byte and then one entry or more. An entry is
//
//	id (uint64) + n (uint32) + n times: length (uint32) + that many bytes
//
// all big-endian: the task's id, and the value as its codec made it, in n
// frames (n may be 0; the default codec for a type other than []byte,
// string or zchan.Msg is JSON of the value, in one frame). An answer
// entry has a status byte in front: 'r' for a result, 's' for a task the
// function chose to drop (with n = 0).
//
// Worker to pool:
//
//	READY      'h' + credit (uint32, big-endian), then optionally a frame
//	           with the worker's name (for logs and events)
//	HEARTBEAT  'p'
//	RESULTS    'r' + one answer entry or more
//	FAIL       'f' + id (on a task) or 'f' alone, then a frame of error
//	           text; the pool ends with ErrRemote, the worker stops
//	BYE        'b': the worker is leaving
//
// Pool to worker:
//
//	TASKS      't' + one task entry or more
//	HEARTBEAT  'p'
//	KILL       'k': stop, say BYE, exit
//	RECONNECT  'x': the pool does not know this worker (it was declared
//	           dead, or the pool restarted): register again
//
// The rules:
//
//  1. A worker first sends READY with its credit, the most tasks it will
//     hold at once. The pool grants the smaller of that and its own
//     WithWorkerCredit, and never has more tasks out to a worker than
//     that: a task counts from its TASKS until the pool has its answer. A worker must read TASKS as they come (queueing up to the
//     credit) and answer each task, in any order and in RESULTS of as
//     many answers as it likes, or with FAIL. (A Go worker sends what it
//     has done when it runs out of tasks, or after 100 µs of work on
//     them.) Within the credit the pool keeps a window of tasks out to a
//     worker: 8 (or the credit, if smaller) at first, then the tasks the
//     worker answers in max(2 ms, twice the shortest time from a TASKS to
//     a worker that held nothing to its first answer), measured while it
//     holds tasks, at least 2 and at most the credit. It sends a worker
//     more tasks once half its window is free.
//  2. Both sides send HEARTBEAT every interval (250 ms by default)
//     whatever else they send, and treat every message as a sign of life.
//     A side that hears nothing for liveness intervals (4 by default)
//     considers the other dead. The pool then re-dispatches or reports
//     lost the worker's tasks and forgets it. The worker closes its socket,
//     drops the tasks it has not started, waits (one interval, doubling
//     up to 32, reset once the pool answers), opens a new DEALER (a new
//     identity), and sends READY again; answers to tasks of the old
//     session may still be sent on the new socket (the pool takes the
//     first answer to a task it still has in flight and drops the others).
//  3. On RECONNECT a worker does as in rule 2 at once. The pool sends it to
//     any identity that is not registered and sends anything but READY
//     or BYE; a pool that is ending sends KILL instead.
//  4. On KILL a worker stops (abandoning the tasks it holds), sends BYE and
//     closes. A worker that leaves for its own reasons sends BYE too; the
//     pool treats the tasks it held as a dead worker's.
//
// # Accounting of a pool
//
// Every task Submit accepted is counted once by its fate (PoolStats): at
// any time Submitted == Results + Skipped + Failed + Lost + InFlight +
// Queued, and once the pool has ended Submitted == Results + Skipped +
// Failed + Undelivered, Undelivered being Lost plus what was in flight or
// queued when it closed. Undelivered is what a shutdown.Group Report
// shows for the pool.
//
// # Devices
//
// Queue (ROUTER to DEALER), Forwarder (XSUB to XPUB) and Streamer (PULL to
// PUSH) move whole multipart messages between two sockets, one goroutine
// per direction, with back pressure; WithCapture publishes a copy of each
// message. Unlike zmq_proxy, they stop on Shutdown or Close. The request-reply broker and the multithreaded server
// (ROUTER on tcp, DEALER on inproc, REP workers on inproc) are a Queue and
// a few zchan sockets.
//
// # Costs
//
// Each zchan socket is two goroutines and costs nothing while idle. A
// chain of n stages has 2(n+1) sockets and n+3 goroutines of its own; a
// pool has one socket and one goroutine, plus one socket and two
// goroutines per worker. Every message on a chain's link carries a header
// (its kind) folded into the front of its first frame, so a value its
// codec makes into one frame is one frame on the wire: the header costs a
// copy of that frame per hop, not a frame of its own. A pool's link packs
// a batch of tasks (or answers) into one frame: a copy of each value per
// hop, and one message per batch.
// Measured throughput and allocations are in bench/README.md.
package pipeline
