package zchan_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/zchan"
)

// TestShutdownDrains checks Shutdown's drain on a receiving socket whose
// consumer keeps reading: upstream is shut down first, and every message
// it sent reaches the consumer; nothing is undelivered, and Shutdown
// returns nil. Send refuses new messages from the moment Shutdown is
// called. Over inproc the drain itself hands on what sits in libzmq's
// pipe; over tcp the test first waits for what is still in flight
// (Shutdown drains what has arrived: libzmq cannot say what is on its
// way). Not over ipc: libzmq 4.3 drops what a closing ipc socket queued
// (libzmq#4660).
func TestShutdownDrains(t *testing.T) {
	for _, tr := range testutil.Transports() {
		if tr.Name == "ipc" {
			continue
		}
		t.Run(tr.Name, func(t *testing.T) {
			zc := newContext(t)
			ctx := testContext(t, watchdog)
			const n = 500
			pull, push := pair(t, ctx, zc, tr, zchan.Pull, zchan.Push, zchan.String,
				[]zchan.Option{zchan.WithRecvBuffer(4)}, nil)
			if err := testutil.MustRecv(t, sendAll(ctx, push, strconv.Itoa, n), watchdog, "sender"); err != nil {
				t.Fatal(err)
			}
			if err := push.Shutdown(ctx); err != nil {
				t.Fatalf("PUSH Shutdown: %v", err)
			}
			if err := push.Send(ctx, "late"); !errors.Is(err, zchan.ErrClosed) {
				t.Errorf("Send after Shutdown = %v, want ErrClosed", err)
			}
			got := make(chan int, 1)
			go func() {
				i := 0
				for range pull.In() {
					i++
				}
				got <- i
			}()
			if tr.Name != "inproc" && !testutil.Eventually(watchdog, func() bool { return pull.Stats().Received == n }) {
				t.Fatalf("PULL received %d of %d", pull.Stats().Received, n)
			}
			if err := pull.Shutdown(ctx); err != nil {
				t.Fatalf("PULL Shutdown: %v", err)
			}
			if c := testutil.MustRecv(t, got, watchdog, "consumer"); c != n {
				t.Errorf("consumer read %d of %d", c, n)
			}
			for _, s := range []*zchan.Socket[string]{push, pull} {
				st := s.Stats()
				if st.Undelivered != 0 {
					t.Errorf("%s: Undelivered %d after a drain", s.Name(), st.Undelivered)
				}
				checkAccounting(t, s.Name(), st)
			}
			if !errors.Is(pull.Err(), zchan.ErrClosed) {
				t.Errorf("Err() after Shutdown = %v, want ErrClosed", pull.Err())
			}
		})
	}
}

// TestShutdownDeadline checks Shutdown with a deadline shorter than the
// drain: a PUSH with no peer and a full send queue, and a PULL whose
// consumer reads nothing. Shutdown returns the context's cause, within the
// deadline plus the linger (the test only bounds it by the watchdog and
// logs the time: timings are not asserted here), and every message it
// abandoned is counted.
func TestShutdownDeadline(t *testing.T) {
	ctx := testContext(t, watchdog)
	zc := newContext(t)
	const linger = 50 * time.Millisecond

	push := open(t, ctx, zchan.Push, zchan.String, zchan.WithContext(zc), zchan.WithConnect("tcp://127.0.0.1:1"),
		zchan.WithSendBuffer(8), zchan.WithLinger(linger), zchan.WithImmediate(true))
	accepted := 0
	for ; accepted < 8; accepted++ { // the queue's room; the owner holds none (no peer)
		if err := push.Send(ctx, "x"); err != nil {
			t.Fatal(err)
		}
	}
	pull, peer := pair(t, ctx, zc, testutil.Transports()[0], zchan.Pull, zchan.Push, zchan.String,
		[]zchan.Option{zchan.WithRecvBuffer(0), zchan.WithLinger(linger)}, nil)
	if err := testutil.MustRecv(t, sendAll(ctx, peer, strconv.Itoa, 20), watchdog, "peer"); err != nil {
		t.Fatal(err)
	}
	if !testutil.Eventually(watchdog, func() bool { return pull.Stats().Received == 1 }) {
		t.Fatalf("PULL stats %+v: want one message held", pull.Stats())
	}
	if err := peer.Close(); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		shut func(context.Context) error
		st   func() zchan.Stats
		want uint64
	}{
		{"PUSH with no peer", push.Shutdown, push.Stats, uint64(accepted)},
		{"PULL nobody reads", pull.Shutdown, pull.Stats, 20},
	} {
		cause := fmt.Errorf("test: deadline of %s", tc.name)
		dctx, cancel := context.WithTimeoutCause(ctx, 20*time.Millisecond, cause)
		start := time.Now()
		done := make(chan error, 1)
		go func() { done <- tc.shut(dctx) }()
		err := testutil.MustRecv(t, done, watchdog, tc.name+" Shutdown")
		cancel()
		t.Logf("%s: Shutdown returned after %v (deadline 20ms, linger %v)", tc.name, time.Since(start), linger)
		if !errors.Is(err, cause) {
			t.Errorf("%s: Shutdown = %v, want the deadline's cause", tc.name, err)
		}
		st := tc.st()
		if st.Undelivered != tc.want {
			t.Errorf("%s: Undelivered %d, want %d (stats %+v)", tc.name, st.Undelivered, tc.want, st)
		}
		checkAccounting(t, tc.name, st)
	}
}

// TestShutdownReqAwaitsReply checks that Shutdown on a REQ whose request
// is out waits for the reply and delivers it, and that a REP's reply to a
// request it delivered is still taken during Shutdown.
func TestShutdownReqAwaitsReply(t *testing.T) {
	ctx := testContext(t, watchdog)
	zc := newContext(t)
	rep, req := pair(t, ctx, zc, testutil.Transports()[0], zchan.Rep, zchan.Req, zchan.String, nil, nil)
	if err := req.Send(ctx, "question"); err != nil {
		t.Fatal(err)
	}
	if q := testutil.MustRecv(t, rep.In(), watchdog, "request"); q != "question" {
		t.Fatalf("request %q", q)
	}
	reqDone := make(chan error, 1)
	go func() { reqDone <- req.Shutdown(ctx) }()
	repDone := make(chan error, 1)
	go func() { repDone <- rep.Shutdown(ctx) }()
	if err := rep.Send(ctx, "answer"); err != nil {
		t.Fatalf("REP reply during Shutdown: %v", err)
	}
	if a := testutil.MustRecv(t, req.In(), watchdog, "reply during Shutdown"); a != "answer" {
		t.Fatalf("reply %q", a)
	}
	for name, c := range map[string]chan error{"REQ": reqDone, "REP": repDone} {
		if err := testutil.MustRecv(t, c, watchdog, name+" Shutdown"); err != nil {
			t.Errorf("%s Shutdown: %v", name, err)
		}
	}
}
