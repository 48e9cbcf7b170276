package shutdown

import (
	"errors"
	"fmt"
	"os"

	"github.com/zmqchan/zmqchan/zchan"
)

// Sentinel errors. Every error returned by this package wraps one of these
// or a zchan sentinel (zchan.ErrTermTimeout for a termination that timed
// out, zchan.ErrPanic for a stage that panicked, zchan's errors
// for a zmq context that could not be created or terminated), so callers
// can test them with errors.Is. The one exception is New on a context
// already done, which returns that context's cause as it is.
var (
	// ErrSignal is the cancellation cause of a context ended by
	// NotifyContext; the cause is a *SignalError that names the signal.
	ErrSignal = errors.New("shutdown: signal received")
	// ErrShuttingDown reports an Add or Go after shutdown has begun; the
	// component was not taken (its caller must shut it down) and the
	// function was not started.
	ErrShuttingDown = errors.New("shutdown: group is shutting down")
	// ErrShutdown is the cause of a shutdown begun by Group.Shutdown.
	ErrShutdown = errors.New("shutdown: requested")
	// ErrNilComponent reports a nil component or function.
	ErrNilComponent = errors.New("shutdown: nil component")
	// ErrInvalidOption reports an option New cannot use: a nil one, an out
	// of range value, or zmq context options zchan refused (the error then
	// wraps zchan.ErrInvalidOption too).
	ErrInvalidOption = errors.New("shutdown: invalid option")
	// ErrStage reports a stage that failed: a function that returned an
	// error other than its cancellation, or a component whose Shutdown
	// returned an error other than its deadline's (the error wraps the
	// stage's own), or either of them panicking (the error then wraps
	// zchan.ErrPanic, with the panic value and the stack).
	ErrStage = errors.New("shutdown: stage failed")
	// ErrDrainTimeout reports stages that the drain deadline cut short:
	// a component that had to stop at once (its Shutdown's context ended
	// first; this is also the cause that context carries), a component
	// whose Shutdown had not returned the term timeout past the deadline,
	// and a function still running at the deadline. The error text names
	// them.
	ErrDrainTimeout = errors.New("shutdown: drain deadline passed")
	// ErrLeftOpen reports zchan sockets of the group's context that no
	// component closed: they were still open when the context was
	// terminated (which ended them). The error text names them.
	ErrLeftOpen = errors.New("shutdown: sockets left open at termination")
	// ErrStillRunning reports stages that had not returned when the group
	// gave up on them, after the termination: a function started with Go
	// that ignored its cancelled context (and blocked on nothing the
	// termination ends), or a component whose Shutdown broke its contract
	// by not returning within the term timeout after its deadline. The
	// error text names them; their goroutines are still running. zchan
	// sockets never cause it: their Shutdown returns within their linger
	// after its deadline, which is below the term timeout unless
	// WithTermTimeout made it shorter.
	ErrStillRunning = errors.New("shutdown: still running after termination")
	// ErrLostInTransit reports messages that one end of a link between
	// two of the group's sockets handed to libzmq and the other end never
	// took: they were in libzmq's queues or the kernel's socket buffers
	// when the sockets closed. The error text names the link, how many,
	// and why; Report.Links has the figures.
	ErrLostInTransit = errors.New("shutdown: messages lost in transit")
)

// SignalError is the cancellation cause of a context ended by a signal
// caught by NotifyContext: context.Cause(ctx) returns it, errors.Is(err,
// ErrSignal) matches it, and errors.As recovers the signal.
type SignalError struct {
	Signal os.Signal
}

func (e *SignalError) Error() string { return fmt.Sprintf("shutdown: signal %v", e.Signal) }

// Is reports whether target is ErrSignal.
func (e *SignalError) Is(target error) bool { return target == ErrSignal }

// panicError is what a panic in a function stage or in a component's
// Shutdown becomes: it names where, carries the panic value and the
// stack, and wraps ErrStage and zchan.ErrPanic.
type panicError struct {
	where string
	value any
	stack []byte
}

func (e *panicError) Error() string {
	return fmt.Sprintf("shutdown: panic in %s: %v\n%s", e.where, e.value, e.stack)
}

func (e *panicError) Unwrap() []error { return []error{ErrStage, zchan.ErrPanic} }

// stageError wraps err, the error of the stage named name, in ErrStage;
// a panicError already is one.
func stageError(name string, err error) error {
	var pe *panicError
	if errors.As(err, &pe) {
		return err
	}
	return fmt.Errorf("%w: %s: %w", ErrStage, name, err)
}
