// Package pipeline builds the two shapes ZeroMQ programs are made of, a
// chain of stages and a worker pool, plus the classic devices, on zchan
// sockets: typed, shut down in order, and movable from inproc to ipc or
// tcp, into another process or onto another machine, by changing an
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
// has been answered and its result delivered on Results, then closes the
// ventilator and publishes KILL until every worker has stopped. A device
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
// and once a pool is done (PoolStats),
//
//	Submitted + Resent == Results + Skipped + Duplicates + Failed + Undelivered
//
// where Undelivered counts what was held when the component stopped and
// what went into a link and never came out of it (queued in a socket or
// in libzmq when it closed, on the wire, with a remote stage or worker
// that dropped or lost it). Out and Results are unbuffered, so a
// delivered value has been received. After a Shutdown that drained,
// every value has been delivered or skipped (every task answered, its
// result delivered) and Undelivered is 0, except that with
// WithAtLeastOnce it may count spare copies of answered tasks, resent and
// not back when the pool closed.
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
// result to the pool, which delivers it on Results; Shutdown PUBlishes
// KILL once every task is answered.
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
//     Shutdown publishes it again every 100 ms while it waits for the
//     local workers and for every remote worker's goodbye, bounded by its
//     ctx; when that ends, the local workers' context is cancelled, so
//     every local worker stops, provided its function honours its
//     context. Close cancels them at once and sends remote workers KILL
//     once. A remote worker that misses every KILL stops on its own
//     context. KILL is the only message on the control link, so a worker
//     whose SUB queue is full already holds a KILL; what PUB really loses
//     is the KILL to a worker that connects (or reconnects) after it was
//     sent, which the repeats reach.
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
// message. Unlike zmq_proxy, they stop on Shutdown or Close. The request-reply broker and the multithreaded server
// (ROUTER on tcp, DEALER on inproc, REP workers on inproc) are a Queue and
// a few zchan sockets.
//
// # Costs
//
// Each zchan socket is two goroutines and costs nothing while idle. A
// chain of n stages has 2(n+1) sockets and n+3 goroutines of its own; a
// pool has 3 sockets and 3 or 4 goroutines, plus 3 sockets and one
// goroutine per local worker. Every message on a link carries a header
// (its kind; task ids) folded into the front of its first frame, so a
// value its codec makes into one frame is one frame on the wire: the
// header costs a copy of that frame per hop, not a frame of its own.
// Measured throughput and allocations are in bench/README.md.
package pipeline
