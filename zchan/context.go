package zchan

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

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

	termOnce sync.Once
	termDone chan struct{}
	termErr  error
}

// NewContext creates a zmq context. pebbe/zmq4 registers a finalizer that
// terminates an unreachable context from the garbage collector's
// goroutine; NewContext removes it, so Term is the only way a Context ends.
func NewContext() (*Context, error) {
	z, err := zmq.NewContext()
	if err != nil {
		return nil, fmt.Errorf("zchan: new context: %w", err)
	}
	runtime.SetFinalizer(z, nil)
	return &Context{z: z, open: make(map[uint64]string), termDone: make(chan struct{})}, nil
}

var defaultContext = sync.OnceValues(NewContext)

// newSocket creates a socket for the calling owner goroutine and registers
// it under name. It returns the registry id.
func (c *Context) newSocket(t Type, name func(id uint64) string) (*zmq.Socket, uint64, string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.terminating {
		return nil, 0, "", fmt.Errorf("zchan: open %s: %w", t, ErrTerminated)
	}
	s, err := c.z.NewSocket(zmqTypes[t])
	if err != nil {
		if isETERM(err) {
			return nil, 0, "", fmt.Errorf("zchan: open %s: %w", t, ErrTerminated)
		}
		return nil, 0, "", fmt.Errorf("zchan: open %s: %w", t, err)
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
				c.termErr = fmt.Errorf("zchan: term: %w", err)
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
