// Package testutil holds helpers shared by the tests of this module: it
// counts the process's goroutines, open file descriptors and OS threads
// (from /proc/self, so Linux only), measures the process's CPU time, waits
// for a condition with a bound, and hands out unique endpoints for the
// inproc, ipc and tcp transports.
//
// Nothing here starts a goroutine that outlives the call that started it,
// and every wait is bounded by a timer: a helper that gives up reports it
// to its caller instead of hanging the test binary.
package testutil
