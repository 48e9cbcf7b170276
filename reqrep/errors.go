package reqrep

import (
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/zmqchan/zmqchan/zchan"
)

// Sentinel errors. Every error this package returns wraps one of these or
// one of zchan's (an endpoint libzmq refused wraps zchan.ErrBadEndpoint, a
// value a codec could not encode or decode zchan.ErrCodec, a terminated zmq
// context zchan.ErrTerminated), so callers can test them with errors.Is.
var (
	// ErrTimeout reports a request that got no reply in time: its context
	// ended, or every attempt's timeout (WithRetries) passed. The error is
	// an *AttemptsError that also wraps the context's cause, if the
	// context is what ended it.
	ErrTimeout = errors.New("reqrep: no reply in time")
	// ErrRemote reports a request the server could not answer: its handler
	// returned an error or panicked, or the request could not be decoded.
	// The error text holds the server's message.
	ErrRemote = errors.New("reqrep: server failed the request")
	// ErrBadReply reports a reply the client could not use: its codec
	// failed to decode it. (Replies that do not carry this client's
	// request id frame never reach a caller; they are counted in
	// ClientStats.BadReplies.)
	ErrBadReply = errors.New("reqrep: bad reply")
	// ErrClosed reports a Request after Close or Shutdown began, a request
	// cut short by Close, and the end of a Server that was closed. It is
	// zchan.ErrClosed, so one test matches both a socket's and this
	// package's.
	ErrClosed = zchan.ErrClosed
	// ErrInvalidOption reports an option value out of range or an option
	// that does not apply to the constructor it was given to.
	ErrInvalidOption = errors.New("reqrep: invalid option")
	// ErrPanic wraps a panic recovered from a handler or a codec. It is
	// zchan.ErrPanic.
	ErrPanic = zchan.ErrPanic
)

// AttemptsError is the error of a request that was tried Attempts times
// (the first send and every resend) and got no usable reply. errors.Is
// matches it against Err (ErrTimeout, or ErrClosed, ...) and against the
// context's cause, if there is one (context.DeadlineExceeded, or the cause
// given to context.WithTimeoutCause).
type AttemptsError struct {
	// Attempts is how many times the request was sent (at least 1, or 0 if
	// it never got as far as a send: the context ended while it waited
	// for its turn on a REQ client, or for the socket to take it).
	Attempts int
	// Err is the sentinel: ErrTimeout for a request that ran out of time.
	Err error
	// Cause is context.Cause of the caller's context when that ended the
	// request, else nil.
	Cause error
}

func (e *AttemptsError) Error() string {
	s := fmt.Sprintf("%v after %d attempt", e.Err, e.Attempts)
	if e.Attempts != 1 {
		s += "s"
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Unwrap returns Err and Cause.
func (e *AttemptsError) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.Cause}
}

// rerr is "reqrep: <what>: <sentinel text without prefix>[: cause]",
// matching the sentinel and the cause.
type rerr struct {
	msg      string
	sentinel error
	cause    error
}

func (e *rerr) Error() string { return e.msg }
func (e *rerr) Unwrap() []error {
	if e.cause == nil {
		return []error{e.sentinel}
	}
	return []error{e.sentinel, e.cause}
}

// newErr builds an error "reqrep: what: cause" wrapping sentinel and cause.
func newErr(sentinel, cause error, format string, args ...any) error {
	msg := "reqrep: " + fmt.Sprintf(format, args...)
	if cause != nil {
		msg += ": " + cause.Error()
	}
	return &rerr{msg: msg, sentinel: sentinel, cause: cause}
}

// recoverInto turns a panic in a user function into an error wrapping
// ErrPanic, with the value and the stack.
func recoverInto(err *error, what string) {
	if v := recover(); v != nil {
		*err = &rerr{msg: fmt.Sprintf("reqrep: panic in %s: %v\n%s", what, v, debug.Stack()), sentinel: ErrPanic}
	}
}
