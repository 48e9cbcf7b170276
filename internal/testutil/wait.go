package testutil

import (
	"testing"
	"time"
)

// pollEvery is how often Eventually looks at its condition. It is a bound
// on how late a settled condition is noticed, not a synchronisation: the
// condition itself is what the caller waits for.
const pollEvery = 10 * time.Millisecond

// Eventually reports whether cond became true within d, looking at it
// every few milliseconds. It is for conditions that have no channel to
// wait on, such as counts of threads or descriptors settling after a
// close.
func Eventually(d time.Duration, cond func() bool) bool {
	if cond() {
		return true
	}
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			if cond() {
				return true
			}
		case <-deadline.C:
			return cond()
		}
	}
}

// Recv takes one value from ch within d. ok is false if ch was closed or
// nothing arrived in time; timedOut tells which.
func Recv[T any](ch <-chan T, d time.Duration) (v T, ok, timedOut bool) {
	select { // what is already there wins over a zero d
	case v, ok = <-ch:
		return v, ok, false
	default:
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case v, ok = <-ch:
		return v, ok, false
	case <-t.C:
		return v, false, true
	}
}

// MustRecv takes one value from ch within d or fails the test, naming
// what it waited for.
func MustRecv[T any](t testing.TB, ch <-chan T, d time.Duration, what string) T {
	t.Helper()
	v, ok, timedOut := Recv(ch, d)
	switch {
	case timedOut:
		t.Fatalf("%s: nothing within %v", what, d)
	case !ok:
		t.Fatalf("%s: channel closed", what)
	}
	return v
}

// Closed reports whether ch is closed within d (values that arrive first
// are discarded).
func Closed[T any](ch <-chan T, d time.Duration) bool {
	for {
		select { // what is already there wins over a zero d
		case _, ok := <-ch:
			if !ok {
				return true
			}
			continue
		default:
		}
		break
	}
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return true
			}
		case <-t.C:
			return false
		}
	}
}

// Done reports whether ch is closed within d.
func Done(ch <-chan struct{}, d time.Duration) bool {
	select {
	case <-ch:
		return true
	default:
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	}
}
