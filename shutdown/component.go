package shutdown

import "context"

// Component is anything a Group shuts down in order: a zchan socket, a
// pipeline chain, pool or device, or a type of the caller's.
//
// Shutdown must stop the component gracefully, as net/http's
// Server.Shutdown does a server: stop taking new input, hand on what it
// holds, stop, and return. If ctx ends first, it must stop at once,
// counting what it abandons, and return within a bound of its own (a zchan
// socket's is its linger), typically with context.Cause(ctx). It must be
// safe to call after the component has stopped by itself. The Group calls
// it once, from a goroutine of its own, with the drain deadline, and waits
// for it to return (the package doc says how long at most). Done must
// return a channel closed when the component has fully stopped, whoever
// stopped it. Name is used in logs, in the Report and in errors.
//
// The Group also uses two optional methods:
//
//	Undelivered() uint64 // messages the component could not deliver
//	Progress() uint64    // a number that grows whenever a message moves
//
// Undelivered is read once Shutdown has returned and put in the Report.
// Progress is what the settle step watches (see the package doc): a
// component without it is not waited for to go still.
//
// *zchan.Socket[T] satisfies Component and has both methods.
type Component interface {
	Name() string
	Shutdown(ctx context.Context) error
	Done() <-chan struct{}
}

type undeliverer interface{ Undelivered() uint64 }

type progresser interface{ Progress() uint64 }

// undelivered returns c's count of undelivered messages, if it has one.
func undelivered(c Component) (uint64, bool) {
	if v, ok := c.(undeliverer); ok {
		return v.Undelivered(), true
	}
	return 0, false
}
