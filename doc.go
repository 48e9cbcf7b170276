// Package zmqchan makes ZeroMQ feel native to Go: sockets become typed
// channels, lifetimes follow context.Context, and Ctrl-C shuts everything
// down cleanly.
//
// The library is a set of small packages:
//
//   - zchan: one owner goroutine per socket, bridged to typed channels,
//     with back pressure both ways and no polling timer;
//   - pipeline: chains of stages over inproc PAIR, worker pools with a kill
//     signal, and devices (queue, forwarder, streamer), relocatable to ipc
//     and tcp by changing an endpoint;
//   - shutdown: signals to context cancellation, ordered close, and a
//     bounded termination of the zmq context.
//
// This root package holds no code; its tests (chan_test.go) exercise the
// whole library end to end through the public API.
package zmqchan
