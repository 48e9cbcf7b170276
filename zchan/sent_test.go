package zchan_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/zchan"
)

// TestWithSent checks WithSent's contract: the function gets the frames
// of every message libzmq took, the very slices given to Send, and only
// once libzmq has copied them. The function scribbles over each frame it
// gets and the sender reuses them: were it called before libzmq's copy,
// the receiver would see the scribbles. Both of the owner's paths into
// libzmq (its own C calls, and pebbe's) are checked.
func TestWithSent(t *testing.T) {
	for _, path := range []string{"direct", "pebbe"} {
		t.Run(path, func(t *testing.T) { testWithSent(t, path == "pebbe") })
	}
}

func testWithSent(t *testing.T, pebbeOnly bool) {
	const n = 3000
	eachTransport(t, func(t *testing.T, zc *zchan.Context, tr testutil.Transport) {
		ctx := testContext(t, watchdog)
		free := make(chan []byte, 16)
		var calls atomic.Int64
		sent := func(frames [][]byte) {
			calls.Add(1)
			for _, f := range frames {
				for i := range f {
					f[i] = 0xFF
				}
				select {
				case free <- f:
				default:
				}
			}
		}
		pull, push := pair(t, ctx, zc, tr, zchan.Pull, zchan.Push, zchan.Frames, nil,
			sentOpts(pebbeOnly, zchan.WithSent(sent), zchan.WithSendHWM(8)))
		errc := make(chan error, 1)
		go func() {
			for i := range n {
				var b []byte
				select {
				case b = <-free:
				default:
					b = make([]byte, 64)
				}
				for j := range b {
					b[j] = byte(i)
				}
				if err := push.Send(ctx, zchan.Msg{b}); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
		for i := range n {
			m := testutil.MustRecv(t, pull.In(), watchdog, "message")
			if want := bytes.Repeat([]byte{byte(i)}, 64); len(m) != 1 || !bytes.Equal(m[0], want) {
				t.Fatalf("message %d = %x, want %x: a frame was reused before libzmq took it", i, m, want)
			}
		}
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		// The last calls may follow the last receive by a moment: the
		// owner calls the function after libzmq has taken the message.
		if !testutil.Eventually(watchdog, func() bool { return calls.Load() == int64(push.Stats().MsgsOut) }) {
			t.Errorf("%d calls for %d messages sent, want one each", calls.Load(), push.Stats().MsgsOut)
		}
		if got := push.Stats().MsgsOut; got != n {
			t.Errorf("MsgsOut = %d, want %d", got, n)
		}
	})
}

// TestWithSentUnroutable checks that a message libzmq did not take (a
// ROUTER's, for a peer that is not there) is not handed to the function.
func TestWithSentUnroutable(t *testing.T) {
	ctx := testContext(t, watchdog)
	zc := newContext(t)
	var calls atomic.Int64
	router, dealer := pair(t, ctx, zc, testutil.Transports()[0], zchan.Router, zchan.Dealer, zchan.Frames,
		[]zchan.Option{zchan.WithSent(func([][]byte) { calls.Add(1) })}, nil)
	if err := dealer.Send(ctx, zchan.NewMsg("hello")); err != nil {
		t.Fatal(err)
	}
	hello := testutil.MustRecv(t, router.In(), watchdog, "hello")
	if err := router.Send(ctx, zchan.Msg{[]byte("nobody"), []byte("lost")}); err != nil {
		t.Fatal(err)
	}
	if err := router.Send(ctx, zchan.Msg{hello[0], []byte("reply")}); err != nil {
		t.Fatal(err)
	}
	if m := testutil.MustRecv(t, dealer.In(), watchdog, "reply"); string(m[0]) != "reply" {
		t.Fatalf("got %q", m)
	}
	testutil.Eventually(watchdog, func() bool { return calls.Load() == 1 })
	if st := router.Stats(); st.Unroutable != 1 || st.MsgsOut != 1 || calls.Load() != 1 {
		t.Errorf("unroutable %d, sent %d, calls %d: want 1, 1, 1 (no call for the unroutable message)",
			st.Unroutable, st.MsgsOut, calls.Load())
	}
}

// TestWithSentPanic checks that a panic in the function ends the socket
// with ErrPanic, after the message went (counted in MsgsOut), and that
// the accounting adds up.
func TestWithSentPanic(t *testing.T) {
	ctx := testContext(t, watchdog)
	zc := newContext(t)
	pull, push := pair(t, ctx, zc, testutil.Transports()[0], zchan.Pull, zchan.Push, zchan.Frames, nil,
		[]zchan.Option{zchan.WithSent(func([][]byte) { panic("sent boom") })})
	if err := push.Send(ctx, zchan.NewMsg("first")); err != nil {
		t.Fatal(err)
	}
	if m := testutil.MustRecv(t, pull.In(), watchdog, "first"); string(m[0]) != "first" {
		t.Fatalf("got %q", m)
	}
	select {
	case <-push.Done():
	case <-ctx.Done():
		t.Fatal("the socket did not end after a panic in its WithSent function")
	}
	if err := push.Err(); !errors.Is(err, zchan.ErrPanic) || !strings.Contains(err.Error(), "sent boom") {
		t.Fatalf("Err() = %v, want ErrPanic with the value", err)
	}
	st := push.Stats()
	if st.MsgsOut != 1 {
		t.Errorf("MsgsOut = %d, want 1", st.MsgsOut)
	}
	checkAccounting(t, push.Name(), st)
	if _, err := zchan.Open(ctx, zchan.Push, zchan.WithContext(zc), zchan.WithSent(nil)); !errors.Is(err, zchan.ErrInvalidOption) {
		t.Errorf("WithSent(nil): %v, want ErrInvalidOption", err)
	}
}

func sentOpts(pebbeOnly bool, opts ...zchan.Option) []zchan.Option {
	if pebbeOnly {
		return append(opts, zchan.WithPebbeOnly())
	}
	return opts
}

// TestWithSentPanicWhileClosing checks that a WithSent function that
// panics during a Close's flush is not called again for the messages
// flushed after it: they are sent without it, the socket keeps the reason
// it was closing for, and the accounting adds up.
func TestWithSentPanicWhileClosing(t *testing.T) {
	ctx := testContext(t, watchdog)
	zc := newContext(t)
	var closing atomic.Bool
	var late atomic.Int64 // calls once closing
	sent := func([][]byte) {
		if closing.Load() {
			late.Add(1)
			panic("sent boom while closing")
		}
	}
	ep := testutil.Inproc(t)
	pull := open(t, ctx, zchan.Pull, zchan.Frames, zchan.WithContext(zc), zchan.WithBind(ep),
		zchan.WithRecvHWM(1), zchan.WithRecvBuffer(0))
	push, err := zchan.Open(ctx, zchan.Push, zchan.WithContext(zc), zchan.WithConnect(ep),
		zchan.WithSendHWM(1), zchan.WithLinger(watchdog), zchan.WithSent(sent))
	if err != nil {
		t.Fatal(err)
	}
	// Fill the pipe and the send queue: the consumer of pull reads nothing
	// yet.
	accepted := 0
	for full := false; !full; {
		sctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		err := push.Send(sctx, zchan.NewMsg("m"))
		cancel()
		switch {
		case err == nil:
			accepted++
		case errors.Is(err, context.DeadlineExceeded):
			full = true
		default:
			t.Fatal(err)
		}
	}
	closed := make(chan error, 1)
	go func() { closed <- push.Close() }()
	// Close has begun once Send refuses at once (the owner closes stopping
	// just before its flush).
	if !testutil.Eventually(watchdog, func() bool {
		sctx, cancel := context.WithTimeout(ctx, time.Millisecond)
		defer cancel()
		err := push.Send(sctx, zchan.NewMsg("late"))
		if err == nil {
			accepted++
		}
		return err != nil && !errors.Is(err, context.DeadlineExceeded)
	}) {
		t.Fatal("Close did not begin")
	}
	closing.Store(true)
	received := 0
	for range pull.In() { // until Close has flushed everything
		received++
		if received == accepted {
			break
		}
	}
	if err := <-closed; err != nil && !errors.Is(err, zchan.ErrClosed) {
		t.Fatalf("Close = %v", err)
	}
	if n := late.Load(); n != 1 {
		t.Errorf("the function was called %d times once closing, want 1 (not again after its panic)", n)
	}
	if err := push.Err(); errors.Is(err, zchan.ErrPanic) || !errors.Is(err, zchan.ErrClosed) {
		t.Errorf("Err() = %v, want the close's reason", err)
	}
	st := push.Stats()
	if st.MsgsOut != uint64(accepted) || st.Undelivered != 0 {
		t.Errorf("sent %d, undelivered %d, want %d and 0", st.MsgsOut, st.Undelivered, accepted)
	}
	checkAccounting(t, push.Name(), st)
}
