package shutdown

import (
	"errors"
	"fmt"
	"os"
)

// Sentinel errors. Every error returned by this package wraps one of these
// (or, for a termination that timed out, zchan.ErrTermTimeout), so callers
// can test them with errors.Is.
var (
	// ErrSignal is the cancellation cause of a context ended by
	// NotifyContext; the cause is a *SignalError that names the signal.
	ErrSignal = errors.New("shutdown: signal received")
	// ErrShuttingDown reports an Add or Go after shutdown has begun; the
	// component was not taken (its caller must close it) and the function
	// was not started.
	ErrShuttingDown = errors.New("shutdown: group is shutting down")
	// ErrShutdown is the cause of a shutdown begun by Group.Shutdown.
	ErrShutdown = errors.New("shutdown: requested")
	// ErrNilComponent reports a nil component or function.
	ErrNilComponent = errors.New("shutdown: nil component")
	// ErrDrainTimeout reports stages still running when the drain deadline
	// passed; the error text names them.
	ErrDrainTimeout = errors.New("shutdown: drain deadline passed")
	// ErrLeftOpen reports zchan sockets of the group's context that no
	// component closed: they were still open when the context was
	// terminated (which ended them). The error text names them.
	ErrLeftOpen = errors.New("shutdown: sockets left open at termination")
	// ErrStillRunning reports functions or Close calls that had not
	// returned when the termination deadline passed; the error text names
	// them. Their goroutines are still running.
	ErrStillRunning = errors.New("shutdown: still running after termination")
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
