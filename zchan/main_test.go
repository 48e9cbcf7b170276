package zchan_test

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/zchan"
)

// TestMain fails the package if any goroutine (an owner, a waiter, a test
// helper) outlives the tests.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// watchdog bounds every wait in this package's tests. It is a hang
// detector, not a timing threshold: anything healthy finishes orders of
// magnitude sooner, even under -race on a loaded two-core machine.
const watchdog = 20 * time.Second

// testContext returns a context cancelled when the test ends or after d.
func testContext(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// newContext returns a zmq context terminated (with a bound) when the test
// ends; a termination that does not finish fails the test.
func newContext(t testing.TB) *zchan.Context {
	t.Helper()
	zc, err := zchan.NewContext()
	if err != nil {
		t.Fatalf("NewContext: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), watchdog)
		defer cancel()
		if err := zc.Term(ctx); err != nil {
			t.Errorf("Term: %v", err)
		}
	})
	return zc
}

// open opens a socket that is closed when the test ends (before its
// context is terminated: cleanups run last-in first-out).
func open[T any](t testing.TB, ctx context.Context, typ zchan.Type, codec zchan.Codec[T], opts ...zchan.Option) *zchan.Socket[T] {
	t.Helper()
	s, err := zchan.OpenWith(ctx, typ, codec, opts...)
	if err != nil {
		t.Fatalf("open %s: %v", typ, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close %s: %v", s.Name(), err)
		}
	})
	return s
}

// pair opens a socket of type bt bound to a fresh endpoint of tr, and a
// socket of type ct connected to it, both in zc.
func pair[T any](t testing.TB, ctx context.Context, zc *zchan.Context, tr testutil.Transport,
	bt, ct zchan.Type, codec zchan.Codec[T], bopts, copts []zchan.Option) (bound, conn *zchan.Socket[T]) {
	t.Helper()
	bound = open(t, ctx, bt, codec, append([]zchan.Option{zchan.WithContext(zc), zchan.WithBind(tr.Bind(t))}, bopts...)...)
	conn = open(t, ctx, ct, codec, append([]zchan.Option{zchan.WithContext(zc), zchan.WithConnect(bound.Endpoints()[0])}, copts...)...)
	return bound, conn
}

// eachTransport runs f as a subtest per transport, each with its own zmq
// context.
func eachTransport(t *testing.T, f func(t *testing.T, zc *zchan.Context, tr testutil.Transport)) {
	for _, tr := range testutil.Transports() {
		t.Run(tr.Name, func(t *testing.T) { f(t, newContext(t), tr) })
	}
}

// sendAll sends every message of msgs on s from a goroutine of its own and
// reports the first error (nil when all were sent) on the returned channel.
func sendAll[T any](ctx context.Context, s *zchan.Socket[T], msgs func(i int) T, n int) <-chan error {
	errc := make(chan error, 1)
	go func() {
		for i := range n {
			if err := s.Send(ctx, msgs(i)); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	return errc
}
