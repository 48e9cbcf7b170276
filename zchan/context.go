package zchan

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"

	zmq "github.com/pebbe/zmq4"
)

// Context is a ZeroMQ context: the I/O threads and the inproc namespace
// that its sockets share. It keeps a registry of the sockets open in it, so
// that a termination that cannot finish names what is holding it.
//
// A Context is safe for concurrent use. Its zero value is not usable: call
// NewContext. It cannot be reused after Term.
type Context struct {
	z *zmq.Context

	mu          sync.Mutex
	terminating bool
	nextID      uint64
	open        map[uint64]string
	sources     map[uint64]statsSource // for SocketStats (context_stats.go)

	termOnce sync.Once
	termDone chan struct{}
	termErr  error
}

// NewContext creates a zmq context, configured by opts before any socket
// exists (libzmq takes ZMQ_IO_THREADS only then). An invalid option is an
// error wrapping ErrInvalidOption, and no context is left behind.
// pebbe/zmq4 registers a finalizer that terminates an unreachable context
// from the garbage collector's goroutine; NewContext removes it, so Term
// is the only way a Context ends.
func NewContext(opts ...ContextOption) (*Context, error) {
	var o contextOptions
	for _, opt := range opts {
		if opt == nil {
			return nil, newErr(ErrInvalidOption, nil, "nil context option")
		}
		opt.applyContext(&o)
	}
	if o.err != nil {
		return nil, o.err
	}
	z, err := zmq.NewContext()
	if err != nil {
		return nil, newErr(ErrFatal, err, "new context")
	}
	runtime.SetFinalizer(z, nil)
	for _, set := range o.set {
		if err := set.f(z); err != nil {
			_ = z.Term() // no socket exists yet: returns at once
			return nil, newErr(ErrInvalidOption, err, "context %s", set.name)
		}
	}
	return &Context{z: z, open: make(map[uint64]string), termDone: make(chan struct{})}, nil
}

// A ContextOption configures a Context in NewContext.
type ContextOption interface{ applyContext(*contextOptions) }

type contextOptions struct {
	err error
	set []contextSetting
}

type contextSetting struct {
	name string
	f    func(*zmq.Context) error
}

type contextOptionFunc func(*contextOptions)

func (f contextOptionFunc) applyContext(o *contextOptions) { f(o) }

func contextInt(name string, n, lo, hi int, f func(*zmq.Context, int) error) ContextOption {
	return contextOptionFunc(func(o *contextOptions) {
		if n < lo || n > hi {
			if o.err == nil {
				o.err = newErr(ErrInvalidOption, nil, "context %s %d not in [%d, %d]", name, n, lo, hi)
			}
			return
		}
		o.set = append(o.set, contextSetting{name, func(z *zmq.Context) error { return f(z, n) }})
	})
}

// WithIOThreads sets the number of libzmq I/O threads (ZMQ_IO_THREADS,
// 1 by default, 1 to 1024 here). The guide's rule of thumb is one I/O
// thread per gigabit per second of tcp or ipc traffic; inproc uses none.
func WithIOThreads(n int) ContextOption {
	return contextInt("IO_THREADS", n, 1, 1024, (*zmq.Context).SetIoThreads)
}

// WithMaxSockets sets the most sockets the context may hold open at once
// (ZMQ_MAX_SOCKETS, 1023 by default in libzmq 4.3). Opening one more fails
// with libzmq's EMFILE.
func WithMaxSockets(n int) ContextOption {
	return contextInt("MAX_SOCKETS", n, 1, 1<<20, (*zmq.Context).SetMaxSockets)
}

var defaultContext = sync.OnceValues(func() (*Context, error) { return NewContext() })

// newSocket creates a socket for the calling owner goroutine and registers
// it under name. It returns the registry id.
func (c *Context) newSocket(t Type, name func(id uint64) string) (*zmq.Socket, uint64, string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.terminating {
		return nil, 0, "", newErr(ErrTerminated, nil, "open %s", t)
	}
	s, err := c.z.NewSocket(zmqTypes[t])
	if err != nil {
		switch errnoOf(err) {
		case zmq.ETERM:
			return nil, 0, "", newErr(ErrTerminated, nil, "open %s", t)
		case zmq.Errno(syscall.EMFILE):
			return nil, 0, "", newErr(ErrTooManySockets, err, "open %s", t)
		}
		return nil, 0, "", newErr(ErrFatal, err, "open %s", t)
	}
	// The owner closes the socket; a finalizer closing it from the GC's
	// goroutine would touch it from a second thread.
	runtime.SetFinalizer(s, nil)
	c.nextID++
	id := c.nextID
	n := name(id)
	c.open[id] = n
	return s, id, n, nil
}

func (c *Context) forget(id uint64) {
	c.mu.Lock()
	delete(c.open, id)
	delete(c.sources, id)
	c.mu.Unlock()
}

// Sockets returns the names of the sockets open in c, sorted.
func (c *Context) Sockets() []string {
	c.mu.Lock()
	names := make([]string, 0, len(c.open))
	for _, n := range c.open {
		names = append(names, n)
	}
	c.mu.Unlock()
	slices.Sort(names)
	return names
}

// Term terminates the context: every socket of this package open in it
// ends with ErrTerminated (its owner wakes on ZMQ_FD, closes the socket,
// closes its In channel), and libzmq waits at most each socket's linger
// for queued messages. New sockets are refused with ErrTerminated.
//
// Term blocks until termination completes or ctx is done. If ctx ends
// first, Term returns an error wrapping ErrTermTimeout that names the
// sockets still open; termination goes on in the background (a socket
// created with raw pebbe/zmq4 and never closed holds it forever, which is
// why the wait is bounded). Term may be called more than once and from
// several goroutines: libzmq's zmq_ctx_term runs once, and every call
// reports its outcome. pebbe/zmq4 never retries a failed term; its
// retry-after-EINTR setting (on by default, left on here) is what keeps a
// signal arriving during the blocking call from failing it halfway.
func (c *Context) Term(ctx context.Context) error {
	c.termOnce.Do(func() {
		c.mu.Lock()
		c.terminating = true
		c.mu.Unlock()
		go func() {
			defer close(c.termDone)
			if err := c.z.Term(); err != nil {
				c.termErr = newErr(ErrFatal, err, "term")
			}
		}()
	})
	select {
	case <-c.termDone:
		return c.termErr
	case <-ctx.Done():
		open := c.Sockets()
		return fmt.Errorf("%w (%w); still open: [%s]", ErrTermTimeout, context.Cause(ctx), strings.Join(open, ", "))
	}
}

// Done returns a channel closed when termination has completed.
func (c *Context) Done() <-chan struct{} { return c.termDone }
