package shutdown

import "github.com/zmqchan/zmqchan/zchan"

// Component is anything a Group closes in order: a zchan socket, a
// pipeline chain, pool or device, or a type of the caller's.
//
// Close must stop the component and wait for it, be idempotent, and return
// within a bound of its own (a zchan socket's is about its linger); the
// Group calls it once, from its own goroutine, and bounds the wait by the
// drain deadline anyway. Done must return a channel closed when the
// component has fully stopped, whoever stopped it. Name is used in logs,
// in the Report and in errors.
//
// A component may also report how many messages it could not deliver,
// through one of
//
//	Stats() zchan.Stats   // Stats().Undelivered; *zchan.Socket[T] has it
//	Undelivered() uint64
//
// The Group reads it after Close returns and puts it in the Report.
// *zchan.Socket[T] satisfies Component.
type Component interface {
	Name() string
	Close() error
	Done() <-chan struct{}
}

type statser interface{ Stats() zchan.Stats }

type undeliverer interface{ Undelivered() uint64 }

// undelivered returns c's count of undelivered messages, if it has one.
func undelivered(c Component) (uint64, bool) {
	switch v := c.(type) {
	case statser:
		return v.Stats().Undelivered, true
	case undeliverer:
		return v.Undelivered(), true
	}
	return 0, false
}

// progress returns a number that grows while messages move through c, for
// components that expose counters; it is how the Group sees that a drain
// has gone quiet.
func progress(c Component) uint64 {
	switch v := c.(type) {
	case statser:
		s := v.Stats()
		return s.MsgsIn + s.MsgsOut + s.Undelivered + s.Dropped
	case undeliverer:
		return v.Undelivered()
	}
	return 0
}
