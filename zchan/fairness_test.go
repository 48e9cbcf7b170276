package zchan_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/zchan"
)

// flood sends on s from a goroutine until ctx ends, and drains s's own
// input so that it never pushes back.
func flood(ctx context.Context, wg *sync.WaitGroup, s *zchan.Socket[zchan.Msg], m zchan.Msg) {
	wg.Go(func() {
		for s.Send(ctx, m) == nil {
		}
	})
	wg.Go(func() {
		for {
			select {
			case _, ok := <-s.In():
				if !ok {
					return
				}
			case <-ctx.Done():
				return
			}
		}
	})
}

// consume reads s's input until ctx ends or In closes, counting messages.
func consume(ctx context.Context, wg *sync.WaitGroup, s *zchan.Socket[zchan.Msg], n *atomic.Int64) {
	wg.Go(func() {
		for {
			select {
			case _, ok := <-s.In():
				if !ok {
					return
				}
				n.Add(1)
			case <-ctx.Done():
				return
			}
		}
	})
}

// timed runs op and returns how long it took; an error fails the test.
func timed(t *testing.T, what string, op func(ctx context.Context) error) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), watchdog)
	defer cancel()
	start := time.Now()
	if err := op(ctx); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%s on a flooded socket: not done within %v", what, watchdog)
		}
		t.Fatalf("%s: %v", what, err)
	}
	return time.Since(start)
}

// TestFairnessUnderFlood floods a DEALER whose consumer keeps up (so its
// owner always has input to move) and checks that, while the flood goes
// on, Send and Do on that socket, and a ping-pong on another pair in the
// same context, still complete; then that cancelling the flooded socket's
// context ends it. The same for Subscribe and Unsubscribe on a SUB flooded
// by its PUB. Every operation is bounded by the watchdog; the latencies are
// logged.
func TestFairnessUnderFlood(t *testing.T) {
	eachTransport(t, func(t *testing.T, zc *zchan.Context, tr testutil.Transport) {
		ctx := testContext(t, time.Minute)
		fctx, stopFlood := context.WithCancel(ctx)
		var wg sync.WaitGroup
		defer func() { stopFlood(); wg.Wait() }()

		sctx, cancelFlooded := context.WithCancelCause(ctx)
		defer cancelFlooded(nil)
		flooded := open(t, ctx, zchan.Dealer, zchan.Frames, zchan.WithContext(zc), zchan.WithBind(tr.Bind(t)), zchan.WithRecvBuffer(256),
			zchan.WithLifetime(sctx))
		flooder := open(t, ctx, zchan.Dealer, zchan.Frames, zchan.WithContext(zc), zchan.WithConnect(flooded.Endpoints()[0]))
		var got atomic.Int64
		consume(fctx, &wg, flooded, &got)
		flood(fctx, &wg, flooder, zchan.NewMsg("flood"))
		if !testutil.Eventually(watchdog, func() bool { return got.Load() >= 2000 }) {
			n, fs, ps := got.Load(), flooded.Stats(), flooder.Stats()
			fev, pev := events(flooded), events(flooder)
			resumed := testutil.Eventually(time.Second, func() bool { return got.Load() > n })
			t.Fatalf("flood stalled at %d messages\n flooded stats %+v, ZMQ_EVENTS %s\n flooder stats %+v, ZMQ_EVENTS %s\n resumed after a command woke the owners: %v",
				n, fs, fev, ps, pev, resumed)
		}
		start, n0 := time.Now(), got.Load()

		var maxSend, maxDo, maxPing time.Duration
		for range 50 {
			maxSend = max(maxSend, timed(t, "Send", func(ctx context.Context) error { return flooded.Send(ctx, zchan.NewMsg("out")) }))
			maxDo = max(maxDo, timed(t, "Do", func(ctx context.Context) error {
				return flooded.Do(ctx, func(s *zmq.Socket) error { _, err := s.GetEvents(); return err })
			}))
		}
		other, peer := pair(t, ctx, zc, tr, zchan.Pair, zchan.Pair, zchan.Frames, nil, nil)
		for range 100 {
			maxPing = max(maxPing, timed(t, "ping-pong on another socket", func(ctx context.Context) error {
				if err := peer.Send(ctx, zchan.NewMsg("ping")); err != nil {
					return err
				}
				if _, ok, timedOut := testutil.Recv(other.In(), watchdog); !ok {
					return map[bool]error{true: context.DeadlineExceeded, false: other.Err()}[timedOut]
				}
				if err := other.Send(ctx, zchan.NewMsg("pong")); err != nil {
					return err
				}
				if _, ok, timedOut := testutil.Recv(peer.In(), watchdog); !ok {
					return map[bool]error{true: context.DeadlineExceeded, false: peer.Err()}[timedOut]
				}
				return nil
			}))
		}
		// The flood must go on: a bounded wait for progress, not a window
		// the scheduler of a loaded machine can miss. A flood that stays
		// stopped is an owner that lost a wake-up.
		if !testutil.Eventually(watchdog, func() bool { return got.Load() > n0 }) {
			t.Fatalf("the flood stopped while the other operations ran, and did not resume within %v (stats %+v)", watchdog, flooded.Stats())
		}
		during := got.Load() - n0
		cause := errors.New("test: cancel the flooded socket")
		cancelAt := time.Now()
		cancelFlooded(cause)
		if !testutil.Done(flooded.Done(), watchdog) {
			t.Fatalf("flooded socket still running %v after its context was cancelled", watchdog)
		}
		cancelled := time.Since(cancelAt)
		if !errors.Is(flooded.Err(), cause) {
			t.Errorf("Err() = %v, want the cause", flooded.Err())
		}
		el := time.Since(start)
		t.Logf("flood of %.0f msg/s; worst: Send %v, Do %v, ping-pong on another pair %v, cancellation %v",
			float64(during)/el.Seconds(), maxSend, maxDo, maxPing, cancelled)
	})
}

// TestSubscribeUnderFlood checks that Subscribe and Unsubscribe stay
// prompt on a SUB whose PUB floods it.
func TestSubscribeUnderFlood(t *testing.T) {
	eachTransport(t, func(t *testing.T, zc *zchan.Context, tr testutil.Transport) {
		ctx := testContext(t, time.Minute)
		fctx, stopFlood := context.WithCancel(ctx)
		var wg sync.WaitGroup
		defer func() { stopFlood(); wg.Wait() }()
		pub, sub := pair(t, ctx, zc, tr, zchan.Pub, zchan.Sub, zchan.Frames, nil,
			[]zchan.Option{zchan.WithSubscribe("flood"), zchan.WithRecvBuffer(256)})
		var got atomic.Int64
		consume(fctx, &wg, sub, &got)
		flood(fctx, &wg, pub, zchan.NewMsg("flood"))
		if !testutil.Eventually(watchdog, func() bool { return got.Load() >= 2000 }) {
			t.Fatalf("flood did not start: %d messages", got.Load())
		}
		var worst time.Duration
		for range 50 {
			worst = max(worst, timed(t, "Subscribe", func(ctx context.Context) error { return sub.Subscribe(ctx, "other") }))
			worst = max(worst, timed(t, "Unsubscribe", func(ctx context.Context) error { return sub.Unsubscribe(ctx, "other") }))
		}
		t.Logf("worst Subscribe/Unsubscribe under flood: %v", worst)
	})
}
