package zchan_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/zchan"
)

// put sends v on ch inside a select, as a broker loop would, bounded by d.
func put[T any](ch chan<- T, v T, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case ch <- v:
		return true
	case <-t.C:
		return false
	}
}

// TestSendFrom: values put on the SendFrom channel from a select are sent
// in order, each counted as Accepted; closing the channel ends the stream
// and not the socket: Send still works and SendFrom takes a new channel.
// The library never closes the caller's channel (closing it twice here
// would panic).
func TestSendFrom(t *testing.T) {
	eachTransport(t, func(t *testing.T, zc *zchan.Context, tr testutil.Transport) {
		ctx := testContext(t, watchdog)
		pull, push := pair(t, ctx, zc, tr, zchan.Pull, zchan.Push, zchan.String, nil, nil)
		out := make(chan string)
		if err := push.SendFrom(ctx, out); err != nil {
			t.Fatal(err)
		}
		const n = 10_000
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := range n {
				if v := testutil.MustRecv(t, pull.In(), watchdog, "message"); v != strconv.Itoa(i) {
					t.Errorf("message %d: %q", i, v)
					return
				}
			}
		}()
		for i := range n {
			if !put(out, strconv.Itoa(i), watchdog) {
				t.Fatalf("value %d not taken", i)
			}
		}
		<-done
		close(out)
		if err := push.Send(ctx, "after the stream"); err != nil {
			t.Fatal(err)
		}
		if v := testutil.MustRecv(t, pull.In(), watchdog, "Send after the stream closed"); v != "after the stream" {
			t.Fatalf("got %q", v)
		}
		again := make(chan string, 1)
		// The owner sees the close of out when it next can take a message;
		// until then a second SendFrom is refused.
		if !testutil.Eventually(watchdog, func() bool { return push.SendFrom(ctx, again) == nil }) {
			t.Fatal("SendFrom after the first channel was closed never succeeded")
		}
		again <- "again"
		if v := testutil.MustRecv(t, pull.In(), watchdog, "value of the second stream"); v != "again" {
			t.Fatalf("got %q", v)
		}
		if err := push.Close(); err != nil {
			t.Fatal(err)
		}
		close(again) // still the caller's to close
		st := push.Stats()
		if st.Accepted != n+2 || st.MsgsOut != n+2 {
			t.Errorf("stats %+v, want %d accepted and sent", st, n+2)
		}
		checkAccounting(t, push.Name(), st)
	})
}

// TestSendFromBackPressure: the owner takes a value from the channel only
// when it can send it: with the peer not reading, the caller's send blocks
// in its select once the pipes are full, and Accepted stops short of
// what the caller offered.
func TestSendFromBackPressure(t *testing.T) {
	ctx := testContext(t, watchdog)
	zc := newContext(t)
	ep := testutil.Inproc(t)
	pull := open(t, ctx, zchan.Pull, zchan.Frames, zchan.WithContext(zc), zchan.WithBind(ep),
		zchan.WithRecvHWM(5), zchan.WithRecvBuffer(0))
	push := open(t, ctx, zchan.Push, zchan.Frames, zchan.WithContext(zc), zchan.WithConnect(ep), zchan.WithSendHWM(5))
	out := make(chan zchan.Msg)
	if err := push.SendFrom(ctx, out); err != nil {
		t.Fatal(err)
	}
	// A put that times out before the owner has stalled was only slow (a
	// loaded machine): offer the same value again.
	offered := 0
	for offered < 10_000 {
		if put(out, zchan.NewMsg(strconv.Itoa(offered)), 200*time.Millisecond) {
			offered++
		} else if push.Stats().SendStalls > 0 {
			break
		}
	}
	st := push.Stats()
	t.Logf("blocked after %d values: %+v", offered, st)
	if offered == 10_000 || st.SendStalls == 0 || st.Accepted != uint64(offered) {
		t.Fatalf("the owner took %d of 10000 values with the peer not reading: %+v", offered, st)
	}
	// The peer reads again: everything arrives, in order.
	go func() {
		for i := offered; i < offered+100; i++ {
			if !put(out, zchan.NewMsg(strconv.Itoa(i)), watchdog) {
				return
			}
		}
	}()
	for i := range offered + 100 {
		if m := testutil.MustRecv(t, pull.In(), watchdog, "message"); string(m[0]) != strconv.Itoa(i) {
			t.Fatalf("message %d: %q", i, m)
		}
	}
}

// TestSendFromRefused: a value the codec cannot encode is counted in
// Stats.Refused, not Accepted, and the stream goes on.
func TestSendFromRefused(t *testing.T) {
	ctx := testContext(t, watchdog)
	zc := newContext(t)
	ep := testutil.Inproc(t)
	pull := open(t, ctx, zchan.Pull, zchan.JSON[any](), zchan.WithContext(zc), zchan.WithBind(ep))
	push := open(t, ctx, zchan.Push, zchan.JSON[any](), zchan.WithContext(zc), zchan.WithConnect(ep))
	out := make(chan any)
	if err := push.SendFrom(ctx, out); err != nil {
		t.Fatal(err)
	}
	for _, v := range []any{1.0, make(chan int), 2.0} {
		if !put(out, v, watchdog) {
			t.Fatal("value not taken")
		}
	}
	for _, want := range []float64{1, 2} {
		if v := testutil.MustRecv(t, pull.In(), watchdog, "good value"); v != want {
			t.Fatalf("got %v, want %v", v, want)
		}
	}
	close(out)
	if err := push.Close(); err != nil {
		t.Fatal(err)
	}
	st := push.Stats()
	if st.Refused != 1 || st.Accepted != 2 {
		t.Errorf("stats %+v, want 1 refused, 2 accepted", st)
	}
	checkAccounting(t, push.Name(), st)
}

// TestSendFromShutdown: Shutdown drains the stream until the caller closes
// it: a producer that puts its values, closes the channel and calls
// Shutdown has every one sent; a stream that stays open holds Shutdown
// until its ctx ends.
func TestSendFromShutdown(t *testing.T) {
	ctx := testContext(t, watchdog)
	zc := newContext(t)
	t.Run("closed", func(t *testing.T) {
		ep := testutil.Inproc(t)
		pull := open(t, ctx, zchan.Pull, zchan.String, zchan.WithContext(zc), zchan.WithBind(ep))
		push := open(t, ctx, zchan.Push, zchan.String, zchan.WithContext(zc), zchan.WithConnect(ep))
		const n = 1000
		out := make(chan string, n)
		if err := push.SendFrom(ctx, out); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			out <- strconv.Itoa(i)
		}
		close(out)
		if err := push.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			if v := testutil.MustRecv(t, pull.In(), watchdog, "message"); v != strconv.Itoa(i) {
				t.Fatalf("message %d: %q", i, v)
			}
		}
		st := push.Stats()
		if st.MsgsOut != n {
			t.Errorf("stats %+v, want %d sent", st, n)
		}
		checkAccounting(t, push.Name(), st)
	})
	t.Run("open", func(t *testing.T) {
		ep := testutil.Inproc(t)
		open(t, ctx, zchan.Pull, zchan.String, zchan.WithContext(zc), zchan.WithBind(ep))
		push := open(t, ctx, zchan.Push, zchan.String, zchan.WithContext(zc), zchan.WithConnect(ep))
		out := make(chan string)
		if err := push.SendFrom(ctx, out); err != nil {
			t.Fatal(err)
		}
		sctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		if err := push.Shutdown(sctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Shutdown with the stream open: %v, want it to wait for the close until its deadline", err)
		}
		if err := push.SendFrom(ctx, make(chan string)); !errors.Is(err, zchan.ErrClosed) {
			t.Errorf("SendFrom after Shutdown: %v, want ErrClosed", err)
		}
	})
}

// TestSendFromRejects: a nil channel, a type that cannot send, a second
// channel while one is open.
func TestSendFromRejects(t *testing.T) {
	ctx := testContext(t, watchdog)
	zc := newContext(t)
	ep := testutil.Inproc(t)
	pull := open(t, ctx, zchan.Pull, zchan.Frames, zchan.WithContext(zc), zchan.WithBind(ep))
	push := open(t, ctx, zchan.Push, zchan.Frames, zchan.WithContext(zc), zchan.WithConnect(ep))
	if err := push.SendFrom(ctx, nil); !errors.Is(err, zchan.ErrInvalidOption) {
		t.Errorf("nil channel: %v", err)
	}
	if err := pull.SendFrom(ctx, make(chan zchan.Msg)); !errors.Is(err, zchan.ErrUnsupported) {
		t.Errorf("SendFrom on PULL: %v", err)
	}
	first := make(chan zchan.Msg)
	if err := push.SendFrom(ctx, first); err != nil {
		t.Fatal(err)
	}
	if err := push.SendFrom(ctx, make(chan zchan.Msg)); !errors.Is(err, zchan.ErrUnsupported) {
		t.Errorf("second channel: %v, want ErrUnsupported", err)
	}
}

// TestSendFromShutdownIdleRep: a REP that answers through SendFrom, whose
// caller has closed the channel and owes no reply, has nothing to drain:
// Shutdown returns nil at once. (The owner reads the SendFrom channel only
// in a REP's turn, so it never saw the close, and Shutdown used to wait for
// it until its ctx ended.)
func TestSendFromShutdownIdleRep(t *testing.T) {
	ctx := testContext(t, watchdog)
	zc := newContext(t)
	ep := testutil.Inproc(t)
	rep := open(t, ctx, zchan.Rep, zchan.String, zchan.WithContext(zc), zchan.WithBind(ep))
	req := open(t, ctx, zchan.Req, zchan.String, zchan.WithContext(zc), zchan.WithConnect(ep))
	replies := make(chan string)
	if err := rep.SendFrom(ctx, replies); err != nil {
		t.Fatal(err)
	}
	if err := req.Send(ctx, "ping"); err != nil {
		t.Fatal(err)
	}
	if v := testutil.MustRecv(t, rep.In(), watchdog, "request"); v != "ping" {
		t.Fatalf("request %q", v)
	}
	if !put(replies, "pong", watchdog) {
		t.Fatal("reply not taken")
	}
	if v := testutil.MustRecv(t, req.In(), watchdog, "reply"); v != "pong" {
		t.Fatalf("reply %q", v)
	}
	close(replies)
	sctx, cancel := context.WithTimeout(ctx, watchdog/2)
	defer cancel()
	if err := rep.Shutdown(sctx); err != nil {
		t.Fatalf("Shutdown of an idle REP whose SendFrom channel is closed: %v, want nil", err)
	}
	st := rep.Stats()
	if st.Accepted != 1 || st.MsgsOut != 1 {
		t.Errorf("stats %+v, want 1 accepted and sent", st)
	}
	checkAccounting(t, rep.Name(), st)
}
