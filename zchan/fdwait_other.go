//go:build !unix

package zchan

import (
	zmq "github.com/pebbe/zmq4"
)

// fdWaiter exists only on unix: elsewhere ZMQ_FD is not a descriptor Go's
// netpoller can wait on, and Open fails with ErrUnsupported.
type fdWaiter struct {
	arm, ready chan struct{}
	err        error
}

func newFDWaiter(*zmq.Socket) (*fdWaiter, error) {
	return nil, newErr(ErrUnsupported, nil, "waiting on ZMQ_FD needs a unix system")
}

func (w *fdWaiter) stop() {}
