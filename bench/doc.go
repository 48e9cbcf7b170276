// Command bench compares zmqchan with the other ways of using ZeroMQ from
// Go (raw pebbe/zmq4 with and without locked threads, pebbe's Reactor, a
// hand-made goroutine bridge, goczmq's Channeler, the pure-Go
// go-zeromq/zmq4) and with plain Go channels, in one run on one machine.
// README.md says what is measured and how to run it.
//
// # Ownership
//
// Each scenario run starts its roles (senders, receivers, stages, workers)
// as goroutines of a roles group; each role opens, uses and closes its own
// sockets, and the run waits for every role before it returns. A run ends
// by closing its stop channel; a failing or hung run (past -timeout) closes
// its abort channel and its variant's Env, which unblocks every pending
// Send and Recv, and waits a bounded time for the roles to return.
// Variants that own goroutines (zmqchan, the bridges, goczmq) stop them in
// Sock.Close and Env.Close.
//
// # Checks
//
// Every message carries its sender and number; every receiver checks
// them, so a lost, duplicated, reordered or corrupted message fails the
// run with errMismatch. The command exits 1 when a run of this
// repository's variants, of raw pebbe/zmq4 or of plain channels fails;
// failures of other projects' libraries (goczmq, go-zeromq) are reported
// and do not change the exit status. Timings are never asserted.
package main
