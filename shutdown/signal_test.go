package shutdown_test

import (
	"context"
	"errors"
	"syscall"
	"testing"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/shutdown"
)

// TestNotifyContextSignal sends a real signal to the test process (SIGUSR1,
// caught by NotifyContext; a second one is never sent) and checks that the
// context ends with the signal as its cause.
func TestNotifyContextSignal(t *testing.T) {
	ctx, stop := shutdown.NotifyContext(context.Background(), shutdown.Signals(syscall.SIGUSR1))
	defer stop()
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	if !testutil.Done(ctx.Done(), bound) {
		t.Fatal("context not cancelled by the signal")
	}
	cause := context.Cause(ctx)
	var se *shutdown.SignalError
	if !errors.Is(cause, shutdown.ErrSignal) || !errors.As(cause, &se) || se.Signal != syscall.SIGUSR1 {
		t.Fatalf("cause %v", cause)
	}
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Errorf("err %v", ctx.Err())
	}
}

// TestNotifyContextStop: stop without a signal cancels the context and
// ends the goroutine (goleak checks it); so does a parent's end.
func TestNotifyContextStop(t *testing.T) {
	ctx, stop := shutdown.NotifyContext(context.Background())
	stop()
	stop()
	if ctx.Err() == nil {
		t.Fatal("stop did not cancel")
	}
	if errors.Is(context.Cause(ctx), shutdown.ErrSignal) {
		t.Fatalf("cause %v without a signal", context.Cause(ctx))
	}
	parent, cancel := context.WithCancel(context.Background())
	ctx, stop = shutdown.NotifyContext(parent)
	defer stop()
	cancel()
	if !testutil.Done(ctx.Done(), bound) {
		t.Fatal("parent's end did not end the context")
	}
}
