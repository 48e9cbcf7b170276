package zchan

// Context returns the zmq Context the socket was opened in: the one given
// with WithContext, or the process-wide default one. Packages that open a
// socket beside this one that must share its inproc namespace (a monitor's
// reading end, for one) open it in this Context.
func (s *Socket[T]) Context() *Context {
	if s.o.ctx != nil {
		return s.o.ctx
	}
	zc, _ := defaultContext() // the socket exists, so this succeeded
	return zc
}
