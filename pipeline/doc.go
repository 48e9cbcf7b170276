// Package pipeline builds the two shapes ZeroMQ programs are made of, a
// chain of stages and a worker pool, plus the classic devices, on zchan
// sockets: typed, cancelled by a context, and movable from inproc to ipc
// or tcp, into another process or onto another machine, by changing an
// endpoint and nothing else.
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
// Errors have errgroup semantics: the first stage error (or ErrPanic, or a
// cancelled parent context) cancels the chain's context, every stage stops
// and closes its sockets, Out is closed, and Wait, Close and later Sends
// return that first error. A panic in a stage function is recovered on the
// stage's goroutine and turned into an error wrapping ErrPanic (with the
// value and the stack): it stops the chain like an error and does not
// crash the process, because a ZeroMQ program's other sockets and peers
// deserve an orderly close. ErrSkip drops a value without stopping.
//
// Closing goes upstream first. Close stops Send, and sends an end-of-
// stream marker behind the last value; every stage passes it on and only
// then closes its sockets, its input first; Out is closed after the last
// value. So everything sent before Close reaches Out, provided Out is
// read; Close waits for that at most WithDrainTimeout, then cancels.
//
// # Relocation
//
// Input(endpoint) sets a link's endpoint (inproc, ipc or tcp; a tcp port
// of "*" is picked at bind time, Links tells which). A stage marked Remote
// runs in another process, which calls Serve with the same function and
// the two link endpoints; the chain binds both links, the remote stage
// connects to them. The end-of-stream marker travels through the remote
// stage, whose Serve then returns nil; a remote failure travels down the
// chain and ends it with ErrRemote.
//
// # Pools
//
// NewPool is the guide's taskvent, taskwork2 and tasksink2 in one value:
// Submit PUSHes a task, WithWorkers local workers (or workers in other
// processes running Work) each PULL tasks, run the function and PUSH the
// result to the pool, which delivers it on Results; Close PUBlishes KILL.
// The hazards the guide warns about are handled:
//
//   - The ventilator's PUSH has ZMQ_IMMEDIATE: tasks go only to workers
//     whose connection is complete, never into a queue for a peer that is
//     not there.
//   - WithWaitForWorkers makes Submit wait until that many workers are
//     connected, so the first one to connect does not get the whole batch
//     (the guide's syncpub/syncsub node coordination; remote workers
//     announce themselves on the reliable results link).
//   - PUB drops KILL for a subscriber that is slow or joined late, so
//     Close publishes it again every WithKillBound/8 while it waits, waits
//     for the local workers and for every remote worker's goodbye, and
//     when the bound passes cancels the local workers' context (cause
//     ErrKillBound): every local worker stops within the bound, provided
//     its function honours its context. A remote worker that misses every
//     KILL stops on its own context. KILL is the only message on the
//     control link, so a worker whose SUB queue is full already holds a
//     KILL; what PUB really loses is the KILL to a worker that connects
//     (or reconnects) after it was sent, which the repeats reach.
//
// WithAtLeastOnce adds acknowledgements: a result acknowledges its task;
// a task unanswered after the timeout is sent again (to live workers
// only); a second result for a task is dropped and counted. ZeroMQ alone
// loses the messages already flushed to a peer that then crashes; this
// mode is how a pool loses none, at the cost of running a task twice
// now and then (the function should be idempotent).
//
// A worker's error or panic stops the pool like a chain's stage. Results
// come in the order workers finish.
//
// # Devices
//
// Queue (ROUTER to DEALER), Forwarder (XSUB to XPUB) and Streamer (PULL to
// PUSH) move whole multipart messages between two sockets, one goroutine
// per direction, with back pressure; WithCapture publishes a copy of each
// message. Unlike zmq_proxy, they stop when their context is cancelled or
// Close is called. The request-reply broker and the multithreaded server
// (ROUTER on tcp, DEALER on inproc, REP workers on inproc) are a Queue and
// a few zchan sockets.
//
// # Lifecycle and shutdown
//
// Chain, Pool and Device have Name, Close (idempotent, stops and waits,
// bounded by the drain timeout, the kill bound or the linger), Done and
// Undelivered, which is what a shutdown coordinator needs. Every goroutine
// of this package has an owner that waits for it; none outlives Done.
//
// # Costs
//
// Each zchan socket is two goroutines and costs nothing while idle. A
// chain of n stages has 2(n+1) sockets and n+2 goroutines of its own; a
// pool has 3 sockets plus 3 per local worker. Every message on a link
// carries a header (its kind: a value, the end-of-stream marker; task
// ids), folded into the front of its first frame, so a value its codec
// makes into one frame is one frame on the wire: the header costs a copy
// of that frame per hop, not a frame of its own. A frame is a libzmq send
// and a receive plus a "more?" query, each several cgo calls: folding the
// header in was measured, side by side with a separate header frame, at
// 1.1 to 1.35 times the chain's throughput and 1.3 to 1.9 times the
// pool's. Measured on the shared, noisy 2-core CI machine (bench/ has the
// repository's numbers, and compares with the same shapes hand-written on
// zchan): BenchmarkChain4, 8-byte values through four stages, takes 45
// allocations a value and runs at 125,000 to 155,000 values a second on
// a quiet machine, far fewer under load. BenchmarkPool4, four inproc
// workers: 340,000 to 470,000 tasks a second on a quiet machine.
package pipeline
