package monitor_test

import (
	"context"
	"errors"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"
	"go.uber.org/goleak"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/monitor"
	"github.com/zmqchan/zmqchan/zchan"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newContext(t *testing.T) *zchan.Context {
	t.Helper()
	zc, err := zchan.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := zc.Term(ctx); err != nil {
			t.Error(err)
		}
	})
	return zc
}

// next returns the next event of the wanted kind, skipping others, or
// fails the test after d.
func next(t *testing.T, m *monitor.Monitor, want monitor.Kind, d time.Duration) monitor.Event {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-m.Events():
			if !ok {
				t.Fatalf("events closed while waiting for %v", want)
			}
			if ev.Kind == want {
				return ev
			}
		case <-timer.C:
			t.Fatalf("no %v event within %v", want, d)
		}
	}
}

// TestLifecycle watches a server through a client's connect, handshake
// and disconnect, then closes the server and sees Events closed.
func TestLifecycle(t *testing.T) {
	ctx := t.Context()
	zc := newContext(t)
	srv, mon, err := monitor.Open(ctx, zc, zchan.Pull, zchan.String, zchan.WithBind("tcp://127.0.0.1:*"))
	if err != nil {
		t.Fatal(err)
	}
	ep := srv.Endpoints()[0]
	if ev := next(t, mon, monitor.Listening, 10*time.Second); ev.Endpoint != ep {
		t.Errorf("listening on %q, want %q", ev.Endpoint, ep)
	}
	cli, cmon, err := monitor.Open(ctx, zc, zchan.Push, zchan.String, zchan.WithConnect(ep))
	if err != nil {
		t.Fatal(err)
	}
	next(t, mon, monitor.Accepted, 10*time.Second)
	next(t, mon, monitor.HandshakeSucceeded, 10*time.Second)
	next(t, cmon, monitor.Connected, 10*time.Second)
	next(t, cmon, monitor.HandshakeSucceeded, 10*time.Second)
	if err := cli.Send(ctx, "hi"); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-srv.In():
		if m != "hi" {
			t.Fatalf("got %q", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no message")
	}
	if err := cli.Close(); err != nil {
		t.Fatal(err)
	}
	// The client's monitor ends with its socket.
	for range cmon.Events() {
	}
	if err := cmon.Close(); err != nil {
		t.Fatal(err)
	}
	next(t, mon, monitor.Disconnected, 10*time.Second)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-mon.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("monitor did not end with its socket")
	}
	if err := mon.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestCloseDetaches closes the monitor while its socket stays open: the
// socket must go on working (a reading end that went away without
// detaching would block libzmq on the next event).
func TestCloseDetaches(t *testing.T) {
	ctx := t.Context()
	zc := newContext(t)
	srv, mon, err := monitor.Open(ctx, zc, zchan.Pull, zchan.String, zchan.WithBind("tcp://127.0.0.1:*"))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := mon.Close(); err != nil {
		t.Fatal(err)
	}
	if err := mon.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	// Connections now make events nobody reads; they must not block.
	for i := range 3 {
		cli, err := zchan.OpenWith(ctx, zchan.Push, zchan.String, zchan.WithContext(zc), zchan.WithConnect(srv.Endpoints()[0]))
		if err != nil {
			t.Fatal(err)
		}
		if err := cli.Send(ctx, "x"); err != nil {
			t.Fatal(err)
		}
		select {
		case <-srv.In():
		case <-time.After(10 * time.Second):
			t.Fatalf("message %d not delivered after the monitor closed", i)
		}
		cli.Close()
	}
}

// TestTermEndsMonitor terminates the context with a monitor open: the
// reading end must end on ETERM and Events must close.
func TestTermEndsMonitor(t *testing.T) {
	zc, err := zchan.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	srv, mon, err := monitor.Open(t.Context(), zc, zchan.Router, zchan.Frames, zchan.WithBind("tcp://127.0.0.1:*"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := zc.Term(ctx); err != nil {
		t.Fatal(err)
	}
	<-srv.Done()
	select {
	case <-mon.Done():
	case <-ctx.Done():
		t.Fatal("monitor outlived its context")
	}
	if err := mon.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestOpenErrors: a failed Open leaves nothing open (goleak checks the
// goroutines) and reports the socket's error.
func TestOpenErrors(t *testing.T) {
	zc := newContext(t)
	_, _, err := monitor.Open(t.Context(), zc, zchan.Pull, zchan.Frames, zchan.WithBind("bogus://x"))
	if !errors.Is(err, zchan.ErrBadEndpoint) {
		t.Fatalf("bad endpoint: %v", err)
	}
	if open := zc.Sockets(); len(open) != 0 {
		t.Fatalf("sockets left open: %v", open)
	}
}

// TestEventString checks the log format of events.
func TestEventString(t *testing.T) {
	ev := monitor.Event{Kind: monitor.HandshakeFailed, Failure: monitor.FailureAuth, Value: 400, Endpoint: "tcp://127.0.0.1:1"}
	if got, want := ev.String(), "handshake failed tcp://127.0.0.1:1 (auth: status 400)"; got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
	if got := (monitor.Event{Kind: monitor.Accepted}).Reason(); got != "" {
		t.Fatalf("Reason of accepted = %q", got)
	}
}

// TestOpenCancelledDuringSetup cancels Open's ctx while the watched
// socket's owner is still in setup (a WithSetup that blocks): Open returns
// the cause at once, and the owner goes on with setup and then closes the
// socket. The monitor must not have gone away under libzmq meanwhile
// (libzmq sends the bind's event with a blocking call, which would hold
// the owner), and nothing may be left open.
func TestOpenCancelledDuringSetup(t *testing.T) {
	zc := newContext(t)
	ctx, cancel := context.WithCancelCause(t.Context())
	entered, release := make(chan struct{}, 1), make(chan struct{})
	block := zchan.WithSetup(func(*zmq.Socket) error {
		entered <- struct{}{}
		<-release
		return nil
	})
	opened := make(chan error, 1)
	go func() {
		_, _, err := monitor.Open(ctx, zc, zchan.Pull, zchan.String, block, zchan.WithBind("tcp://127.0.0.1:*"))
		opened <- err
	}()
	testutil.MustRecv(t, entered, 10*time.Second, "setup to begin")
	cause := errors.New("gave up")
	cancel(cause)
	if err := testutil.MustRecv(t, opened, 10*time.Second, "Open to return on cancel"); !errors.Is(err, cause) {
		t.Fatalf("Open cancelled during setup: %v, want the cause", err)
	}
	close(release)
	if !testutil.Eventually(10*time.Second, func() bool { return len(zc.Sockets()) == 0 }) {
		t.Fatalf("sockets still open after an abandoned Open: %v", zc.Sockets())
	}
}
