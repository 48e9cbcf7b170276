package zchanold

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// fdWaiter waits for a socket's ZMQ_FD to become readable through Go's
// netpoller (edge-triggered epoll on Linux), never through a timer. It owns
// a dup of libzmq's descriptor: libzmq's own is never wrapped or closed.
// The waiter never touches the ZeroMQ socket itself.
//
// Protocol: the owner sends on arm when it is about to block; the waiter
// then waits until the descriptor is readable and sends on ready. arm and
// ready have room for one token and the owner arms again only after
// receiving ready, so neither send can block.
//
// The owner can also wait on the descriptor itself (park), which saves the
// hand-off to the waiter goroutine and back on every wake; other goroutines
// then wake it with kick, which moves the descriptor's read deadline into
// the past. The owner parks only when no Go channel needs its attention.
type fdWaiter struct {
	f     *os.File
	rc    syscall.RawConn
	arm   chan struct{}
	ready chan struct{}
	quit  chan struct{}
	done  chan struct{}
	err   error // set before done is closed

	mu     sync.Mutex
	parked atomic.Bool // the owner is in park, or about to be
	kicked bool        // a kick set the deadline; guarded by mu

	// pfd and readFn serve the level check of readable without an
	// allocation per wait. RawRead holds the descriptor's read lock while
	// it calls readFn, and the owner parks only when the waiter goroutine
	// is not armed, so one pfd is enough.
	pfd    []unix.PollFd
	readFn func(uintptr) bool
}

// past is a read deadline that has already expired.
var past = time.Unix(1, 0)

func newFDWaiter(zfd int) (*fdWaiter, error) {
	fd, err := unix.FcntlInt(uintptr(zfd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("zchan: dup ZMQ_FD: %w", err)
	}
	// O_NONBLOCK is shared with libzmq's descriptor; libzmq already set it
	// (its signaler is non-blocking), so this changes nothing for libzmq
	// and lets os.NewFile register the dup with the netpoller.
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("zchan: ZMQ_FD non-blocking: %w", err)
	}
	f := os.NewFile(uintptr(fd), "zmq-fd")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("zchan: ZMQ_FD raw conn: %w", err)
	}
	w := &fdWaiter{
		f: f, rc: rc,
		arm:   make(chan struct{}, 1),
		ready: make(chan struct{}, 1),
		quit:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	w.pfd = []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	w.readFn = w.readable
	go w.run()
	return w, nil
}

func (w *fdWaiter) run() {
	defer close(w.done)
	for {
		select {
		case <-w.arm:
		case <-w.quit:
			return
		}
		// RawConn.Read clears the poller's remembered edge before the first
		// call of the function, so the function checks the level itself: a
		// signal that arrived before the reset is still readable on the
		// eventfd (libzmq reads it only when it processes commands), and one
		// that arrives after the reset is a new edge the poller remembers.
		err := w.rc.Read(w.readFn)
		select {
		case <-w.quit:
			return
		default:
		}
		if err != nil {
			w.err = err
			w.ready <- struct{}{}
			return
		}
		w.ready <- struct{}{}
	}
}

// readable polls the descriptor's level without blocking.
func (w *fdWaiter) readable(uintptr) bool {
	for {
		w.pfd[0].Revents = 0
		n, err := unix.Poll(w.pfd, 0)
		if err == unix.EINTR {
			continue
		}
		return err != nil || (n > 0 && w.pfd[0].Revents != 0)
	}
}

// stop ends the waiter and closes the dup. It must be called by the owner,
// which then never reads ready again.
func (w *fdWaiter) stop() {
	close(w.quit)
	w.f.Close() // wakes a pending Read with an error
	<-w.done
}

// park waits on the descriptor on the owner goroutine until it is
// readable or kick is called, unless pending reports work, in which case
// it returns busy at once. pending is checked after the owner has
// announced that it parks: a waker that changed what pending reads either
// sees the announcement and kicks, or its change is seen by pending.
func (w *fdWaiter) park(pending func() bool) (busy bool, err error) {
	w.mu.Lock()
	w.parked.Store(true)
	w.mu.Unlock()
	if busy = pending(); !busy {
		err = w.rc.Read(w.readFn)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			err = nil
		}
	}
	w.mu.Lock()
	w.parked.Store(false)
	if w.kicked {
		w.kicked = false
		w.f.SetReadDeadline(time.Time{})
	}
	w.mu.Unlock()
	return busy, err
}

// kick wakes a parked owner. It is cheap when the owner is not parked. It
// is for wakers whose change pending reads through an atomic (sequentially
// consistent with parked); kickAlways is for the others.
func (w *fdWaiter) kick() {
	if w.parked.Load() {
		w.kickAlways()
	}
}

// kickAlways wakes a parked owner; taking the lock unconditionally orders
// the caller's earlier writes (closing a channel, cancelling a context)
// before the owner's next check of pending.
func (w *fdWaiter) kickAlways() {
	w.mu.Lock()
	if w.parked.Load() && !w.kicked {
		w.kicked = true
		w.f.SetReadDeadline(past)
	}
	w.mu.Unlock()
}
