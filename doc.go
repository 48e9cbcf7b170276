// Package zmqchan makes ZeroMQ feel native to Go: sockets become typed
// channels, every blocking call takes a context.Context, and Ctrl-C shuts
// everything down cleanly.
//
// The library is a set of small packages:
//
//   - zchan: one owner goroutine per socket, bridged to typed channels,
//     with back pressure both ways, no polling timer, and Close and
//     Shutdown(ctx) as its two ways to end;
//   - pipeline: chains of stages over inproc PAIR, worker pools with a kill
//     signal, and devices (queue, forwarder, streamer), relocatable to ipc
//     and tcp by changing an endpoint;
//   - shutdown: signals to context cancellation, a Group that shuts
//     components down in order within a deadline, and a bounded
//     termination of the zmq context;
//   - secure: CURVE with a ZAP handler in the right zmq context, deny by
//     default, and limits for sockets exposed to a network;
//   - monitor: a socket's connection events as a typed channel;
//   - metrics: sockets' counters as a Prometheus collector.
//
// This root package holds no code; its tests (chan_test.go,
// shutdown_e2e_test.go) exercise the whole library end to end through the
// public API.
package zmqchan
