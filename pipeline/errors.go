package pipeline

import "errors"

// Sentinel errors. Every error this package returns for a misuse or a
// failure it detects wraps one of these, so callers can test them with
// errors.Is; errors from stage functions are returned as they are.
var (
	// ErrClosed reports a Send or Submit after Close, or the end reason of
	// a Chain, Pool or Device that was closed.
	ErrClosed = errors.New("pipeline: closed")
	// ErrInvalidOption reports an option value out of range, an option that
	// does not apply to the constructor it was given to, or a plan that
	// cannot be started (no stages, a codec of the wrong type, two remote
	// stages next to each other, a remote stage on an inproc link).
	ErrInvalidOption = errors.New("pipeline: invalid option")
	// ErrSkip may be returned by a stage or worker function to drop its
	// input without failing: nothing is passed downstream (a pool still
	// acknowledges the task).
	ErrSkip = errors.New("pipeline: skip")
	// ErrPanic wraps a panic recovered from a stage or worker function. The
	// panic fails the chain or pool like an error; the error text holds the
	// panic value and the stack.
	ErrPanic = errors.New("pipeline: panic in stage function")
	// ErrRemote wraps the failure of a stage or worker running in another
	// process, as reported by that process; the text is the remote error's.
	ErrRemote = errors.New("pipeline: remote failure")
	// ErrProtocol reports a message on a link that this package did not
	// send: a wrong endpoint, or a peer that is not a pipeline.
	ErrProtocol = errors.New("pipeline: protocol error")
	// ErrDrainTimeout reports that Close gave up waiting for a chain to
	// drain within its bound (WithDrainTimeout) and cancelled it.
	ErrDrainTimeout = errors.New("pipeline: drain timed out")
	// ErrKillBound is the cause given to the context of a pool's local
	// workers when they have not stopped on KILL within the bound
	// (WithKillBound).
	ErrKillBound = errors.New("pipeline: kill bound passed")
)
