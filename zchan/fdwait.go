//go:build unix

package zchan

import (
	"os"
	"syscall"

	zmq "github.com/pebbe/zmq4"
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
// receiving ready, so neither send blocks. A waiter that fails (the dup
// was closed under it) sets err and sends on ready one last time.
type fdWaiter struct {
	f     *os.File
	rc    syscall.RawConn
	arm   chan struct{}
	ready chan struct{}
	quit  chan struct{}
	done  chan struct{}
	err   error // written before the last send on ready

	pfd      []unix.PollFd      // the level check's argument, made once
	readable func(uintptr) bool // w.level, bound once: a method value allocates
}

// newFDWaiter starts the waiter for sock's ZMQ_FD.
func newFDWaiter(sock *zmq.Socket) (*fdWaiter, error) {
	zfd, err := sock.GetFd()
	if err != nil {
		return nil, newErr(ErrFatal, errnoErr(err), "ZMQ_FD")
	}
	fd, err := unix.FcntlInt(uintptr(zfd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, newErr(ErrFatal, err, "dup ZMQ_FD")
	}
	// O_NONBLOCK is shared with libzmq's descriptor; libzmq already set it
	// (its signaler is non-blocking), so this changes nothing for libzmq
	// and lets os.NewFile register the dup with the netpoller.
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, newErr(ErrFatal, err, "ZMQ_FD non-blocking")
	}
	f := os.NewFile(uintptr(fd), "zmq-fd")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, newErr(ErrFatal, err, "ZMQ_FD raw conn")
	}
	w := &fdWaiter{
		f: f, rc: rc,
		arm:   make(chan struct{}, 1),
		ready: make(chan struct{}, 1),
		quit:  make(chan struct{}),
		done:  make(chan struct{}),
		pfd:   []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}},
	}
	w.readable = w.level
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
		// RawConn.Read clears the poller's remembered edge before its first
		// call of readable, so readable checks the level itself: a signal
		// that arrived before the reset is still readable on the eventfd
		// (libzmq reads it only when it processes commands, and only the
		// owner makes libzmq do that), and one that arrives after the reset
		// is an edge the poller remembers.
		err := w.rc.Read(w.readable)
		select {
		case <-w.quit:
			return
		default:
		}
		if err != nil {
			w.err = newErr(ErrFatal, err, "wait on ZMQ_FD")
			w.ready <- struct{}{}
			return
		}
		w.ready <- struct{}{}
	}
}

// level polls the descriptor's level without blocking.
func (w *fdWaiter) level(uintptr) bool {
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
