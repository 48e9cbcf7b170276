package zchan_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/zchan"
)

// stallAfter is how long the lost wake-up test lets every counter stand
// still before it declares a stall. Healthy runs move thousands of
// messages in that time.
const stallAfter = 10 * time.Second

// pauser pauses its goroutine at random moments: mostly a yield, now and
// then a short sleep, so that each side sometimes falls behind the other
// and the queues fill to the HWM and drain again. The sleeps are the
// variation under test, not synchronisation.
type pauser struct{ r *rand.Rand }

func newPauser(seed uint64) pauser { return pauser{rand.New(rand.NewPCG(seed, 2))} }

func (p pauser) maybe() {
	switch n := p.r.IntN(2000); {
	case n < 2:
		time.Sleep(time.Duration(p.r.IntN(2000)) * time.Microsecond)
	case n < 40:
		runtime.Gosched()
	}
}

// TestNoLostWakeup runs a DEALER and a ROUTER that send continuously to
// each other in both directions at once, with random pauses on all four
// sides and HWMs of 10, so every kind of edge (input ready, output ready,
// both, and an edge consumed by the other direction) happens many times.
// An owner that misses a wake-up stalls with messages pending; a watchdog
// that sees no progress for stallAfter fails the test with the counts.
// Every message must arrive once, in order, both ways.
func TestNoLostWakeup(t *testing.T) {
	counts := map[string]int{"inproc": 100_000, "ipc": 100_000, "tcp": 100_000}
	eachTransport(t, func(t *testing.T, zc *zchan.Context, tr testutil.Transport) {
		n := counts[tr.Name]
		sockCtx := testContext(t, 2*time.Minute)
		// The goroutines below watch ctx; the sockets live on sockCtx, so
		// that stopping the goroutines leaves the sockets as they stalled.
		ctx, cancel := context.WithCancel(sockCtx)
		defer cancel()
		hwm := []zchan.Option{zchan.WithSendHWM(10), zchan.WithRecvHWM(10)}
		// ROUTER_MANDATORY: without it a ROUTER drops what it cannot queue
		// at the HWM instead of pushing back.
		router, dealer := pair(t, sockCtx, zc, tr, zchan.Router, zchan.Dealer, zchan.Frames,
			append(hwm, zchan.WithSetup(func(s *zmq.Socket) error { return s.SetRouterMandatory(1) })),
			append(hwm, zchan.WithIdentity("dealer")))

		var progress [4]atomic.Int64 // dealer sent, router got, router sent, dealer got
		var wg sync.WaitGroup
		errc := make(chan error, 4)
		fail := func(err error) {
			select {
			case errc <- err:
			default:
			}
			cancel()
		}
		routerUp := make(chan struct{}) // the router has heard from the dealer

		wg.Add(4)
		go func() { // dealer sends
			defer wg.Done()
			p := newPauser(1)
			for i := range n {
				if err := dealer.Send(ctx, zchan.Msg{[]byte(strconv.Itoa(i))}); err != nil {
					fail(fmt.Errorf("dealer send %d: %w", i, err))
					return
				}
				progress[0].Add(1)
				p.maybe()
			}
		}()
		go func() { // router receives
			defer wg.Done()
			p := newPauser(2)
			for i := range n {
				select {
				case m, ok := <-router.In():
					if !ok {
						fail(fmt.Errorf("router In closed at %d: %w", i, router.Err()))
						return
					}
					if len(m) != 2 || string(m[0]) != "dealer" || string(m[1]) != strconv.Itoa(i) {
						fail(fmt.Errorf("router message %d: got %q", i, m))
						return
					}
				case <-ctx.Done():
					return
				}
				if i == 0 {
					close(routerUp)
				}
				progress[1].Add(1)
				p.maybe()
			}
		}()
		go func() { // router sends
			defer wg.Done()
			select {
			case <-routerUp:
			case <-ctx.Done():
				return
			}
			p := newPauser(3)
			for i := range n {
				if err := router.Send(ctx, zchan.Msg{[]byte("dealer"), []byte(strconv.Itoa(i))}); err != nil {
					fail(fmt.Errorf("router send %d: %w", i, err))
					return
				}
				progress[2].Add(1)
				p.maybe()
			}
		}()
		go func() { // dealer receives
			defer wg.Done()
			p := newPauser(4)
			for i := range n {
				select {
				case m, ok := <-dealer.In():
					if !ok {
						fail(fmt.Errorf("dealer In closed at %d: %w", i, dealer.Err()))
						return
					}
					if len(m) != 1 || string(m[0]) != strconv.Itoa(i) {
						fail(fmt.Errorf("dealer message %d: got %q", i, m))
						return
					}
				case <-ctx.Done():
					return
				}
				progress[3].Add(1)
				p.maybe()
			}
		}()

		all := make(chan struct{})
		go func() { wg.Wait(); close(all) }()
		start := time.Now()
		snapshot := func() [4]int64 {
			var s [4]int64
			for i := range progress {
				s[i] = progress[i].Load()
			}
			return s
		}
		last, lastMove := snapshot(), time.Now()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
	watch:
		for {
			select {
			case <-all:
				break watch
			case <-tick.C:
				if now := snapshot(); now != last {
					last, lastMove = now, time.Now()
				} else if time.Since(lastMove) > stallAfter {
					ds, rs := dealer.Stats(), router.Stats()
					// Wake both owners with a command: a stall that a
					// wake-up ends is a lost wake-up.
					dev, rev := events(dealer), events(router)
					resumed := testutil.Eventually(2*time.Second, func() bool { return snapshot() != now })
					cancel()
					<-all
					t.Fatalf("stalled for %v: dealer sent %d, router got %d, router sent %d, dealer got %d of %d\n dealer stats %+v, ZMQ_EVENTS %v\n router stats %+v, ZMQ_EVENTS %v\n progress resumed after a command woke the owners: %v",
						stallAfter, now[0], now[1], now[2], now[3], n, ds, dev, rs, rev, resumed)
				}
			}
		}
		select {
		case err := <-errc:
			if !errors.Is(err, context.Canceled) {
				t.Fatal(err)
			}
			t.Fatalf("cancelled: %v", err)
		default:
		}
		if got := snapshot(); got != [4]int64{int64(n), int64(n), int64(n), int64(n)} {
			t.Fatalf("progress %v, want %d each", got, n)
		}
		el := time.Since(start)
		t.Logf("%d messages each way in %v (%.0f msg/s each way); dealer stalls %d, router stalls %d",
			n, el.Round(time.Millisecond), float64(n)/el.Seconds(), dealer.Stats().SendStalls, router.Stats().SendStalls)
	})
}

// events reads a socket's ZMQ_EVENTS through its owner, for a failure
// report.
func events[T any](s *zchan.Socket[T]) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var ev zmq.State
	if err := s.Do(ctx, func(z *zmq.Socket) (err error) { ev, err = z.GetEvents(); return err }); err != nil {
		return err.Error()
	}
	return ev.String()
}
