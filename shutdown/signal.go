package shutdown

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// SignalOption configures NotifyContext. Build one with Signals or
// OnSecondSignal.
type SignalOption interface{ applySignal(*signalOptions) }

type signalOptions struct {
	sigs     []os.Signal
	onSecond func(os.Signal)
}

type signalOptionFunc func(*signalOptions)

func (f signalOptionFunc) applySignal(o *signalOptions) { f(o) }

// Signals sets the signals that cancel the context. Default: SIGINT
// (os.Interrupt) and SIGTERM. An empty list keeps the default.
func Signals(sigs ...os.Signal) SignalOption {
	return signalOptionFunc(func(o *signalOptions) {
		if len(sigs) > 0 {
			o.sigs = append([]os.Signal(nil), sigs...)
		}
	})
}

// OnSecondSignal makes NotifyContext keep catching the signals after the
// first one and call f, on NotifyContext's goroutine, with the second one
// that arrives before stop. f typically logs and calls os.Exit with the
// code main chose; this package never exits the process itself. If f
// returns, later signals are ignored until stop. Default: nil, which
// restores the default disposition after the first signal, so that a
// second signal ends the process at once (killed by that signal, as if no
// handler had been installed). nil keeps the default.
func OnSecondSignal(f func(os.Signal)) SignalOption {
	return signalOptionFunc(func(o *signalOptions) { o.onSecond = f })
}

// NotifyContext returns a copy of parent that is cancelled when one of the
// signals (default SIGINT and SIGTERM) arrives, with a *SignalError naming
// the signal as its cause (context.Cause), or when stop is called, or when
// parent is done. It is signal.NotifyContext with two differences: the
// cause tells which signal, and a second signal while shutting down ends
// the process at once (the default disposition is restored after the
// first signal), or is handed to OnSecondSignal's function.
//
// Once the first signal has been seen, no later one is lost: one that
// arrives before the default disposition is back is raised again as soon
// as it is, and ends the process (or goes to OnSecondSignal's function).
// The cause names the first signal the process saw. Two limits come from
// the kernel and Go's runtime, which hold at most one pending instance of
// each signal and hand pending ones over in signal-number order, until
// the runtime's signal goroutine has run (about a millisecond; several on
// a loaded machine): the same signal sent twice within that window is
// merged into one, so the second does not end the process (send it
// again); and two different signals sent within it are seen in number
// order (SIGINT, 2, before SIGTERM, 15), whatever order they were sent
// in, so the cause then names the lower-numbered one, and the other ends
// the process. (TestSecondSignalGaps, SIGTERM then SIGINT on a loaded
// 2-core machine: SIGINT was seen first in 10 of 10 runs at a 0 gap, 10
// of 10 at 100µs, 9 of 10 at 1ms, 3 of 10 at 3ms, 1 of 10 at 10ms; the
// second ended the process in 50 of 50.)
//
// stop stops catching the signals (their default disposition is restored,
// unless another part of the program also listens for them), cancels the
// context, and waits for NotifyContext's goroutine to exit. It is
// idempotent and safe for concurrent use; call it when main is done
// shutting down, typically with defer.
func NotifyContext(parent context.Context, opts ...SignalOption) (ctx context.Context, stop context.CancelFunc) {
	o := signalOptions{sigs: []os.Signal{os.Interrupt, syscall.SIGTERM}}
	for _, opt := range opts {
		if opt != nil {
			opt.applySignal(&o)
		}
	}
	cctx, cancel := context.WithCancelCause(parent)
	// Room for two: the first signal and the second, which must not be
	// lost while the goroutine is busy cancelling.
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, o.sigs...)
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var first os.Signal
		select {
		case first = <-ch:
		case <-quit:
			return
		}
		if o.onSecond == nil {
			// Restore the default disposition before cancelling, so that
			// a second signal sent as soon as shutdown is visible kills.
			signal.Stop(ch)
			cancel(&SignalError{Signal: first})
			// A signal that arrived between the first and Stop is in ch,
			// where the default disposition never saw it: raise it again,
			// now that the default is back, so that it ends the process
			// as it would have (measured before this: a SIGINT sent 0 to
			// 3 ms after a SIGTERM was ignored in up to all of 10 runs).
			reraise(ch)
			return
		}
		cancel(&SignalError{Signal: first})
		select {
		case s := <-ch:
			o.onSecond(s)
		case <-quit:
			// stop has called signal.Stop, so nothing more arrives: a
			// second signal that came before it is still f's.
			select {
			case s := <-ch:
				o.onSecond(s)
			default:
			}
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			signal.Stop(ch)
			close(quit)
		})
		<-done
		cancel(context.Canceled)
	}
	return cctx, stop
}

// reraise sends the process every signal left in ch, whose Notify has
// been stopped. Only a syscall.Signal can be raised; on the platforms
// this library runs on, every os.Signal is one.
func reraise(ch <-chan os.Signal) {
	for {
		select {
		case s := <-ch:
			if sig, ok := s.(syscall.Signal); ok {
				_ = syscall.Kill(syscall.Getpid(), sig)
			}
		default:
			return
		}
	}
}
