// Package zmqchan makes ZeroMQ feel native to Go: sockets become typed
// channels, every blocking call takes a context.Context, and Ctrl-C shuts
// everything down cleanly.
//
// The library is a set of small packages:
//
//   - zchan: one owner goroutine per socket, bridged to typed channels,
//     with back pressure both ways, no polling timer, and Close and
//     Shutdown(ctx) as its two ways to end;
//   - pipeline: chains of stages over inproc PAIR, worker pools with
//     credit, heartbeats and worker liveness, and devices (queue, forwarder, streamer), relocatable to ipc
//     and tcp by changing an endpoint;
//   - reqrep: typed request/reply, a Client with timeouts, correlation and
//     retries over DEALER or REQ, and a Server with a handler, a concurrency
//     limit and a graceful Shutdown;
//   - shutdown: signals to context cancellation, a Group that shuts
//     components down in order within a deadline, and a bounded
//     termination of the zmq context;
//   - secure: CURVE with a ZAP handler in the right zmq context, deny by
//     default, and limits for sockets exposed to a network;
//   - monitor: a socket's connection events as a typed channel, attached to
//     any open socket, with its peer count;
//   - metrics: the counters of every socket of a context, and of pools,
//     chains, monitors and the authenticator, as Prometheus collectors.
//
// This root package holds no code; its tests (chan_test.go,
// shutdown_e2e_test.go) exercise the whole library end to end through the
// public API.
package zmqchan
