package zchanold

import (
	"errors"
	"fmt"
	"syscall"

	zmq "github.com/pebbe/zmq4"
)

// Sentinel errors. Every error returned by this package wraps one of these
// (and, where libzmq reported it, the underlying zmq4.Errno), so callers can
// test them with errors.Is.
var (
	// ErrClosed reports that the socket was closed by Close, or that a call
	// was made on a socket that has already ended.
	ErrClosed = errors.New("zchan: socket closed")
	// ErrTerminated reports that the socket's zmq context was terminated
	// (libzmq's ETERM) while the socket was open.
	ErrTerminated = errors.New("zchan: context terminated")
	// ErrUnknownType reports a socket type this package does not know.
	ErrUnknownType = errors.New("zchan: unknown socket type")
	// ErrUnsupported reports a socket type or feature that exists in libzmq
	// but cannot be bridged, such as the thread-safe types (SERVER, CLIENT,
	// RADIO, DISH, ...) that have no ZMQ_FD.
	ErrUnsupported = errors.New("zchan: unsupported")
	// ErrBadEndpoint reports an endpoint libzmq refused to bind or connect
	// (malformed address, unknown transport, unresolvable host, ...).
	ErrBadEndpoint = errors.New("zchan: bad endpoint")
	// ErrAddrInUse reports a bind to an address another socket holds.
	ErrAddrInUse = errors.New("zchan: address in use")
	// ErrInvalidOption reports an option value that is out of range, that
	// does not apply to the socket type, or that libzmq refused.
	ErrInvalidOption = errors.New("zchan: invalid option")
	// ErrTooManyFrames reports a message with more frames than the cap set
	// by WithMaxFrames.
	ErrTooManyFrames = errors.New("zchan: too many frames")
	// ErrEmptyMessage reports an attempt to send a message with no frames.
	ErrEmptyMessage = errors.New("zchan: message has no frames")
	// ErrDecode reports frames that the socket's codec could not decode, or
	// a value it could not encode.
	ErrDecode = errors.New("zchan: codec")
	// ErrTooManySockets reports that the zmq context already holds as many
	// sockets as it may (WithMaxSockets; libzmq's EMFILE).
	ErrTooManySockets = errors.New("zchan: too many sockets in the context")
	// ErrTermTimeout reports that Context.Term's deadline passed while
	// sockets were still open; the error text names them.
	ErrTermTimeout = errors.New("zchan: context termination timed out")
)

// isEAGAIN reports whether err means "would block". REQ and REP return EFSM
// when asked to send or receive out of turn, which for a non-blocking owner
// is the same thing: try again when the state changes.
func isEAGAIN(err error) bool {
	switch zmq.AsErrno(err) {
	case zmq.Errno(syscall.EAGAIN), zmq.EFSM:
		return true
	}
	return false
}

func isETERM(err error) bool { return zmq.AsErrno(err) == zmq.ETERM }

// endpointError classifies an error from bind or connect.
func endpointError(op, ep string, err error) error {
	switch zmq.AsErrno(err) {
	case zmq.EADDRINUSE:
		return fmt.Errorf("zchan: %s %q: %w: %w", op, ep, ErrAddrInUse, err)
	case zmq.ETERM:
		return fmt.Errorf("zchan: %s %q: %w", op, ep, ErrTerminated)
	}
	return fmt.Errorf("zchan: %s %q: %w: %w", op, ep, ErrBadEndpoint, err)
}
