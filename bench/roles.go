package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"
)

var errTimeout = errors.New("bench: run timed out")

// roles runs the goroutines of one scenario run. Each role opens, uses and
// closes its own sockets. The first failure aborts the run: abort is
// closed and the env is closed, which unblocks every pending Recv or Send.
type roles struct {
	v        *Variant
	env      Env
	wg       sync.WaitGroup
	abort    chan struct{}
	failOnce sync.Once
	err      error
	closed   sync.Once
	closeErr error
	deadline *time.Timer
}

func newRoles(v *Variant, env Env, timeout time.Duration) *roles {
	return &roles{v: v, env: env, abort: make(chan struct{}), deadline: time.NewTimer(timeout)}
}

func (r *roles) fail(err error) {
	r.failOnce.Do(func() {
		r.err = err
		close(r.abort)
	})
}

// spawn runs f on its own goroutine, locked to its OS thread if the
// variant asks for it.
func (r *roles) spawn(name string, f func() error) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if r.v.Lock {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
		}
		if err := f(); err != nil {
			r.fail(fmt.Errorf("%s: %w", name, err))
		}
	}()
}

// await waits for ch to be closed; it fails if the run aborts or times out.
func (r *roles) await(ch <-chan struct{}) error {
	select {
	case <-ch:
		return nil
	case <-r.abort:
		return r.err
	case <-r.deadline.C:
		r.timedOut()
		return r.err
	}
}

// timedOut fails the run with errTimeout and the path of a dump of every
// goroutine's stack, taken before anything is torn down: where a run
// hangs is what its reader needs.
func (r *roles) timedOut() {
	err := errTimeout
	if f, ferr := os.CreateTemp("", "zmqchan-bench-hang-*.txt"); ferr == nil {
		pprof.Lookup("goroutine").WriteTo(f, 2)
		f.Close()
		err = fmt.Errorf("%w; goroutines dumped to %s", errTimeout, f.Name())
	}
	r.fail(err)
}

// gate is await for the role goroutines: it returns false on abort.
func (r *roles) gate(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	case <-r.abort:
		return false
	}
}

func (r *roles) closeEnv() error {
	r.closed.Do(func() { r.closeErr = r.env.Close() })
	return r.closeErr
}

// finish waits for every role and closes the env. After a failure it
// closes the env first, to unblock the roles, and waits a bounded time.
func (r *roles) finish() error {
	defer r.deadline.Stop()
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-r.abort:
	case <-r.deadline.C:
		r.timedOut()
	}
	select {
	case <-r.abort:
		envDone := make(chan struct{})
		go func() { r.closeEnv(); close(envDone) }()
		bound := time.NewTimer(15 * time.Second)
		defer bound.Stop()
		select {
		case <-done:
		case <-bound.C:
			return fmt.Errorf("%w (and its goroutines did not stop)", r.err)
		}
		select {
		case <-envDone:
		case <-bound.C:
		}
		return r.err
	default:
	}
	if err := r.closeEnv(); err != nil {
		return fmt.Errorf("close %s: %w", r.v.Name, err)
	}
	return nil
}
