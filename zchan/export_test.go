package zchan

// Hooks for the external tests.

// DirectOK reports whether the owner's hot path calls libzmq directly
// (see direct.go).
var DirectOK = layoutOK

// DirectBuilt reports whether the direct path is built in (not with the
// zchan_nodirect tag).
var DirectBuilt = directBuilt

// WithPebbeOnly makes the owner use pebbe/zmq4 for its hot path as well,
// so that tests cover the fallback.
func WithPebbeOnly() Option { return optionFunc(func(o *options) { o.pebbeOnly = true }) }

// ContextSettings returns libzmq's ZMQ_IO_THREADS and ZMQ_MAX_SOCKETS for c.
func ContextSettings(c *Context) (ioThreads, maxSockets int, err error) {
	if ioThreads, err = c.z.GetIoThreads(); err != nil {
		return 0, 0, err
	}
	maxSockets, err = c.z.GetMaxSockets()
	return ioThreads, maxSockets, err
}
