package pipeline

import (
	"errors"

	"github.com/zmqchan/zmqchan/zchan"
)

// Sentinel errors. Every error this package returns for a misuse or a
// failure it detects wraps one of these or one of zchan's (an endpoint
// libzmq refused wraps zchan.ErrBadEndpoint, a value a codec could not
// encode or decode zchan.ErrCodec, a terminated zmq context
// zchan.ErrTerminated), so callers can test them with errors.Is. Errors
// that stage and worker functions return are passed on as they are, and a
// cancelled call returns its context's cause as it is.
var (
	// ErrClosed reports a Send or Submit after Close or Shutdown began, or
	// the end reason of a Chain, Pool or Device that was closed. It is
	// zchan.ErrClosed, so one test matches both a socket's and a
	// component's.
	ErrClosed = zchan.ErrClosed
	// ErrInvalidOption reports an option value out of range, an option that
	// does not apply to the constructor it was given to, or a plan that
	// cannot be started (no stages, a codec of the wrong type, two remote
	// stages next to each other, a remote stage on an inproc link).
	ErrInvalidOption = errors.New("pipeline: invalid option")
	// ErrSkip may be returned by a stage or worker function to drop its
	// input without failing: nothing is passed downstream (a pool still
	// acknowledges the task). The value is counted as skipped.
	ErrSkip = errors.New("pipeline: skip")
	// ErrPanic wraps a panic recovered from a user function this package
	// runs: a stage or worker function, or a codec. The panic fails the
	// chain or pool like an error; the error text holds the panic value
	// and the stack. It is zchan.ErrPanic.
	ErrPanic = zchan.ErrPanic
	// ErrRemote wraps the failure of a stage or worker running in another
	// process, as reported by that process; the text is the remote error's.
	ErrRemote = errors.New("pipeline: remote failure")
	// ErrDead reports a remote stage of a chain that was silent for the
	// liveness bound (WithHeartbeat): it died, was stopped, or the network
	// between went away. (A pool does not fail on a dead worker: it goes
	// on with the others, see WorkerDead.)
	ErrDead = errors.New("pipeline: remote peer dead")
	// ErrProtocol reports a message on a link that this package did not
	// send: a wrong endpoint, or a peer that is not a pipeline.
	ErrProtocol = errors.New("pipeline: protocol error")
)
