package zchan

import (
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"syscall"

	zmq "github.com/pebbe/zmq4"
)

// Sentinel errors. Every error returned by this package wraps one of these,
// so callers can test them with errors.Is; where libzmq or the system
// reported an errno, the error wraps it too, both as a zmq4.Errno and (for
// system errnos) as a syscall.Errno: errors.Is(err, syscall.EADDRINUSE)
// and errors.Is(err, zmq4.ETERM) work. (zmq4.AsErrno does not unwrap;
// use errors.Is or errors.As.) A cancelled call returns its context's
// cause as it is.
var (
	// ErrClosed reports that the socket was closed by Close or Shutdown,
	// or that a call was made on a socket that has already ended.
	ErrClosed = errors.New("zchan: socket closed")
	// ErrTerminated reports that the socket's zmq context was terminated
	// (libzmq's ETERM) while the socket was open.
	ErrTerminated = errors.New("zchan: context terminated")
	// ErrUnknownType reports a socket type this package does not know,
	// including libzmq's draft thread-safe types (SERVER, CLIENT, RADIO,
	// DISH, ...), which have no ZMQ_FD and cannot be bridged.
	ErrUnknownType = errors.New("zchan: unknown socket type")
	// ErrUnsupported reports an operation the socket type does not have
	// (Send on a SUB, Subscribe on a PUSH), or a platform without a
	// pollable ZMQ_FD.
	ErrUnsupported = errors.New("zchan: unsupported")
	// ErrBadEndpoint reports an endpoint that is malformed (no transport, a
	// tcp port missing, not digits, outside 0 to 65535, or "*" on
	// connect), has a transport libzmq does not know, names an address
	// that is not this host's (bind), an inproc name bound only in
	// another Context (connect), or an endpoint not bound or connected
	// (Unbind, Disconnect). The text carries a hint for the common
	// mistakes. A tcp host name that cannot be resolved is an
	// ErrBadEndpoint on bind only: zmq_connect checks the syntax and
	// resolves the name later, in libzmq's I/O thread, which retries every
	// reconnect interval and tells no caller; a monitor on the socket sees
	// the retries (and never a connection).
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
	// ErrCodec reports a value the socket's codec could not encode, or
	// frames it could not decode.
	ErrCodec = errors.New("zchan: codec")
	// ErrTooManySockets reports that the zmq context already holds as many
	// sockets as it may (WithMaxSockets; libzmq's EMFILE).
	ErrTooManySockets = errors.New("zchan: too many sockets in the context")
	// ErrTermTimeout reports that Context.Term's deadline passed while
	// sockets were still open; the error text names them.
	ErrTermTimeout = errors.New("zchan: context termination timed out")
	// ErrPanic reports a panic in a user function that ran on a goroutine
	// of this package (a Codec, a Do, WithSetup or WithSent function); the error
	// carries the panic value and the stack. The socket it ran on ends.
	ErrPanic = errors.New("zchan: panic")
	// ErrFatal reports a failure of libzmq or of the system that ends the
	// socket or the call (an errno other than the ones above); the error
	// wraps the errno.
	ErrFatal = errors.New("zchan: fatal libzmq error")
)

// zerr is an error of this package: what happened, the sentinel it
// belongs to, the cause, if any, and a hint for a common mistake. Its text
// names the package once and the sentinel once.
type zerr struct {
	msg      string
	sentinel error
	cause    error
	hint     string
	lead     bool // the sentinel's words lead: "zchan: unknown socket type 0"
	quiet    bool // the cause is wrapped but not printed: the hint says it better
}

// newErr returns an error "zchan: <what>: <sentinel>[: <cause>]" that
// errors.Is matches against sentinel and against whatever cause matches.
// A cause that is a libzmq errno is wrapped so that both its zmq4.Errno
// and its syscall.Errno match.
func newErr(sentinel, cause error, format string, args ...any) error {
	return &zerr{msg: fmt.Sprintf(format, args...), sentinel: sentinel, cause: errnoErr(cause)}
}

// hintErr is newErr with a hint, written in parentheses at the end.
func hintErr(sentinel, cause error, hint, format string, args ...any) error {
	return &zerr{msg: fmt.Sprintf(format, args...), sentinel: sentinel, cause: errnoErr(cause), hint: hint}
}

// quietErr is hintErr for a cause whose text would only confuse (ENOENT's
// "no such file or directory" for an endpoint not bound): the error wraps
// it, the hint replaces it.
func quietErr(sentinel, cause error, hint, format string, args ...any) error {
	return &zerr{msg: fmt.Sprintf(format, args...), sentinel: sentinel, cause: errnoErr(cause), hint: hint, quiet: true}
}

// leadErr returns an error "zchan: <sentinel> <what> (<hint>)".
func leadErr(sentinel error, hint, format string, args ...any) error {
	return &zerr{msg: fmt.Sprintf(format, args...), sentinel: sentinel, hint: hint, lead: true}
}

// redundant lists errnos whose text only repeats their sentinel's: the
// error wraps them (errors.Is matches) but does not print them.
var redundant = map[error]zmq.Errno{
	ErrAddrInUse:      zmq.EADDRINUSE,
	ErrTooManySockets: zmq.Errno(syscall.EMFILE),
}

func (e *zerr) Error() string {
	var b strings.Builder
	sentinel := strings.TrimPrefix(e.sentinel.Error(), "zchan: ")
	b.WriteString("zchan: ")
	if e.lead {
		b.WriteString(sentinel)
		b.WriteString(" ")
		b.WriteString(e.msg)
	} else {
		b.WriteString(e.msg)
		b.WriteString(": ")
		b.WriteString(sentinel)
	}
	if e.cause != nil && !e.quiet && !(redundant[e.sentinel] != 0 && errnoOf(e.cause) == redundant[e.sentinel]) {
		b.WriteString(": ")
		b.WriteString(e.cause.Error())
	}
	if e.hint != "" {
		b.WriteString(" (")
		b.WriteString(e.hint)
		b.WriteString(")")
	}
	return b.String()
}

func (e *zerr) Unwrap() []error {
	if e.cause == nil {
		return []error{e.sentinel}
	}
	return []error{e.sentinel, e.cause}
}

// errnoError is an errno reported by libzmq. Its text is libzmq's.
type errnoError struct{ e zmq.Errno }

// hausnumero is libzmq's ZMQ_HAUSNUMERO: errnos from it up are libzmq's
// own (ETERM, EFSM, ...), below it they are the system's.
const hausnumero = 156384712

func (e errnoError) Error() string { return e.e.Error() }

func (e errnoError) Unwrap() []error {
	if e.e < hausnumero {
		return []error{e.e, syscall.Errno(e.e)}
	}
	return []error{e.e}
}

// errnoErr wraps a bare libzmq errno (as pebbe or the direct path return
// it) into an errnoError; any other error is returned as it is.
func errnoErr(err error) error {
	switch e := err.(type) {
	case zmq.Errno:
		return errnoError{e}
	case syscall.Errno:
		return errnoError{zmq.Errno(e)}
	}
	return err
}

// errnoOf returns the libzmq errno err carries, however deeply wrapped,
// or 0.
func errnoOf(err error) zmq.Errno {
	switch e := err.(type) { // the owner's hot path (EAGAIN): no allocation
	case nil:
		return 0
	case errnoError:
		return e.e
	case zmq.Errno:
		return e
	case syscall.Errno:
		return zmq.Errno(e)
	}
	var ee errnoError
	if errors.As(err, &ee) {
		return ee.e
	}
	var ze zmq.Errno
	if errors.As(err, &ze) {
		return ze
	}
	var se syscall.Errno
	if errors.As(err, &se) {
		return zmq.Errno(se)
	}
	return 0
}

// isEAGAIN reports whether err means "would block". REQ and REP return EFSM
// when asked to send or receive out of turn, which for a non-blocking owner
// is the same thing: try again when the state changes.
func isEAGAIN(err error) bool {
	switch errnoOf(err) {
	case zmq.Errno(syscall.EAGAIN), zmq.EFSM:
		return true
	}
	return false
}

func isETERM(err error) bool { return errnoOf(err) == zmq.ETERM }

// libzmqError classifies an error libzmq returned for op: ETERM becomes
// ErrTerminated, anything else ErrFatal.
func libzmqError(err error, format string, args ...any) error {
	if isETERM(err) {
		return newErr(ErrTerminated, nil, format, args...)
	}
	return newErr(ErrFatal, err, format, args...)
}

// panicError is the error a recovered panic becomes.
type panicError struct {
	where string
	value any
	stack []byte
}

func (e *panicError) Error() string {
	return fmt.Sprintf("zchan: panic in %s: %v\n%s", e.where, e.value, e.stack)
}

func (e *panicError) Unwrap() error { return ErrPanic }

// recoverInto turns a panic of the function it is deferred in into an
// error wrapping ErrPanic in *err. It must be called directly by defer.
func recoverInto(err *error, where string) {
	if r := recover(); r != nil {
		*err = &panicError{where: where, value: r, stack: debug.Stack()}
	}
}
