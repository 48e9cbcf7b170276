package zchan_test

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/zchan"
)

// TestWaitRoundTrips drives the owner's one wait (a select over its Go
// channels and the waiter's report of ZMQ_FD) through every hand-over:
// REQ/REP round trips, where each Send on the unbuffered queue must wake
// an owner waiting on ZMQ_FD, alternate with Do commands and with round
// trips whose caller arrives while the owner is busy. A lost wake-up
// leaves a caller blocked: the per-step watchdog fails it.
func TestWaitRoundTrips(t *testing.T) {
	eachTransport(t, func(t *testing.T, zc *zchan.Context, tr testutil.Transport) {
		ctx := testContext(t, 2*time.Minute)
		rep, req := pair(t, ctx, zc, tr, zchan.Rep, zchan.Req, zchan.String, nil, nil)
		served := make(chan struct{})
		go func() {
			defer close(served)
			for q := range rep.In() {
				if rep.Send(ctx, q) != nil {
					return
				}
			}
		}()
		const n = 5000
		for i := range n {
			step, cancel := context.WithTimeout(ctx, watchdog)
			v := strconv.Itoa(i)
			if err := req.Send(step, v); err != nil {
				cancel()
				t.Fatalf("round trip %d: send: %v", i, err)
			}
			select {
			case got := <-req.In():
				if got != v {
					t.Fatalf("round trip %d: got %q", i, got)
				}
			case <-step.Done():
				t.Fatalf("round trip %d: no reply within %v: lost wake-up", i, watchdog)
			}
			if i%97 == 0 { // a command between round trips: wakes a waiting owner
				if err := req.Do(step, func(*zmq.Socket) error { return nil }); err != nil {
					t.Fatalf("round trip %d: do: %v", i, err)
				}
			}
			cancel()
		}
		req.Close()
		rep.Close()
		if !testutil.Done(served, watchdog) {
			t.Fatal("server did not end after Close")
		}
	})
}

// TestWaitStopAndGo sends bursts with idle gaps in between, so the
// receiving owner waits on ZMQ_FD between bursts and the sending owner
// waits with an empty queue; every burst must arrive in full.
func TestWaitStopAndGo(t *testing.T) {
	eachTransport(t, func(t *testing.T, zc *zchan.Context, tr testutil.Transport) {
		ctx := testContext(t, 2*time.Minute)
		pull, push := pair(t, ctx, zc, tr, zchan.Pull, zchan.Push, zchan.String, nil, nil)
		next := 0
		for burst := range 200 {
			size := 1 + burst%70 // crosses the 64-message budget and buffers
			for j := range size {
				if err := push.Send(ctx, strconv.Itoa(next+j)); err != nil {
					t.Fatal(err)
				}
			}
			for j := range size {
				got := testutil.MustRecv(t, pull.In(), watchdog, "burst "+strconv.Itoa(burst))
				if got != strconv.Itoa(next+j) {
					t.Fatalf("burst %d: got %q, want %d", burst, got, next+j)
				}
			}
			next += size
		}
	})
}

// TestControlWithSlowConsumer keeps a PULL's In full: its consumer takes
// one message at a time, a little slower than the PUSH sends, so every
// turn of the owner moves a message or two and never uses its budget. Do,
// Subscribe-style commands and Close must still be seen by the owner.
func TestControlWithSlowConsumer(t *testing.T) {
	eachTransport(t, func(t *testing.T, zc *zchan.Context, tr testutil.Transport) {
		ctx := testContext(t, 2*time.Minute)
		pull, push := pair(t, ctx, zc, tr, zchan.Pull, zchan.Push, zchan.String, nil, nil)
		sctx, stop := context.WithCancel(ctx)
		defer stop()
		errc := sendAll(sctx, push, strconv.Itoa, 1<<30)
		consumed := make(chan struct{})
		go func() {
			defer close(consumed)
			for range pull.In() {
				for range 50 {
					runtime.Gosched() // slower than the sender: In stays full
				}
			}
		}()
		for i := range 20 {
			step, cancel := context.WithTimeout(ctx, watchdog)
			if err := pull.Do(step, func(*zmq.Socket) error { return nil }); err != nil {
				cancel()
				t.Fatalf("Do %d on a socket whose consumer lags: %v", i, err)
			}
			cancel()
		}
		closed := make(chan error, 1)
		go func() { closed <- pull.Close() }()
		select {
		case err := <-closed:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(watchdog):
			t.Fatal("Close did not return while the consumer lagged")
		}
		stop()
		<-errc
		if !testutil.Done(consumed, watchdog) {
			t.Fatal("consumer did not see In closed")
		}
	})
}
