package secure_test

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/zmqchan/zmqchan/internal/childproc"
	"github.com/zmqchan/zmqchan/monitor"
	"github.com/zmqchan/zmqchan/secure"
	"github.com/zmqchan/zmqchan/zchan"
)

func TestMain(m *testing.M) {
	childproc.Main(map[string]func() int{"receiver": receiverMain})
	goleak.VerifyTestMain(m)
}

// wait bounds every wait of these tests; healthy runs take milliseconds.
const wait = 20 * time.Second

func newContext(t testing.TB) *zchan.Context {
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

func newKeyPair(t testing.TB) secure.KeyPair {
	t.Helper()
	kp, err := secure.NewKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

func newAuth(t testing.TB, zc *zchan.Context, opts ...secure.Option) *secure.Authenticator {
	t.Helper()
	a, err := secure.NewAuthenticator(zc, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// nextEvent returns the next event matching ok, skipping others, or fails
// the test after wait.
func nextEvent(t testing.TB, m *monitor.Monitor, what string, ok func(monitor.Event) bool) monitor.Event {
	t.Helper()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case ev, open := <-m.Events():
			if !open {
				t.Fatalf("events closed while waiting for %s", what)
			}
			if ok(ev) {
				return ev
			}
		case <-timer.C:
			t.Fatalf("no %s event within %v", what, wait)
		}
	}
}

func is(k monitor.Kind) func(monitor.Event) bool {
	return func(ev monitor.Event) bool { return ev.Kind == k }
}

func authFailure(ev monitor.Event) bool {
	return ev.Kind == monitor.HandshakeFailed && ev.Failure == monitor.FailureAuth
}

// recv returns the next message of s or fails the test after d.
func recv[T any](t testing.TB, s *zchan.Socket[T], d time.Duration) T {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case m, ok := <-s.In():
		if !ok {
			t.Fatalf("%s ended: %v", s.Name(), s.Err())
		}
		return m
	case <-timer.C:
		t.Fatalf("%s: nothing within %v", s.Name(), d)
	}
	panic("unreachable")
}

// secureServer opens a monitored CURVE ROUTER with the given limits in
// a's context, bound to loopback, and verifies its handler.
func secureServer(t testing.TB, a *secure.Authenticator, kp secure.KeyPair, l secure.Limits) (*zchan.Socket[zchan.Msg], *monitor.Monitor) {
	t.Helper()
	opts, err := l.Options()
	if err != nil {
		t.Fatal(err)
	}
	opts = append(opts, secure.Server(kp), zchan.WithBind("tcp://127.0.0.1:*"), zchan.WithName("server"))
	srv, mon, err := monitor.Open(context.Background(), a.Context(), zchan.Router, zchan.Frames, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Close()
		mon.Close()
	})
	if err := a.Verify(t.Context(), zchan.Router, kp.Public(), srv.Endpoints()...); err != nil {
		t.Fatal(err)
	}
	// The probe's refusal is the server's first authentication failure,
	// and the probe's connection ends with it.
	nextEvent(t, mon, "the probe's refusal", authFailure)
	nextEvent(t, mon, "the probe's disconnect", is(monitor.Disconnected))
	return srv, mon
}
