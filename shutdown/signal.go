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
			return
		}
		cancel(&SignalError{Signal: first})
		select {
		case s := <-ch:
			o.onSecond(s)
		case <-quit:
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
