package zchan_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/zchan"
)

// TestBackPressure stops the consumer of a PULL and checks that its PUSH
// sender is held back: Send blocks (its context deadline passes) after a
// bounded number of messages, Stats.SendStalls counts the stall, and
// nothing is dropped. When the consumer resumes, every message arrives in
// order.
//
// The bound: over inproc the pipe holds exactly SNDHWM+RCVHWM messages,
// each owner holds one more (the PUSH one it could not send, the PULL one
// nobody took), and the Send queue and the In channel hold what their
// buffers size. Over ipc and tcp the kernel's socket buffers add what they
// hold, so the bound there only tells "bounded" from "unbounded".
func TestBackPressure(t *testing.T) {
	const hwm, sendBuf, recvBuf = 10, 4, 4
	const payload = 1024
	bounds := map[string]int{"inproc": 2*hwm + 2 + sendBuf + recvBuf, "ipc": 50_000, "tcp": 50_000}
	eachTransport(t, func(t *testing.T, zc *zchan.Context, tr testutil.Transport) {
		ctx := testContext(t, time.Minute)
		pull, push := pair(t, ctx, zc, tr, zchan.Pull, zchan.Push, zchan.String,
			[]zchan.Option{zchan.WithRecvHWM(hwm), zchan.WithRecvBuffer(recvBuf)},
			[]zchan.Option{zchan.WithSendHWM(hwm), zchan.WithSendBuffer(sendBuf)})
		pad := string(make([]byte, payload))
		msg := func(i int) string { return strconv.Itoa(i) + ":" + pad }

		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		sent := 0
		for {
			sctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			err := push.Send(sctx, msg(sent))
			cancel()
			if errors.Is(err, context.DeadlineExceeded) {
				break
			}
			if err != nil {
				t.Fatalf("send %d: %v", sent, err)
			}
			if sent++; sent > bounds[tr.Name] {
				t.Fatalf("sent %d messages to a consumer that reads nothing without blocking (bound %d)", sent, bounds[tr.Name])
			}
		}
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		st := push.Stats()
		t.Logf("Send blocked after %d messages of %d bytes (HWM %d each side, buffers %d+%d); PUSH stalls %d; Go heap %+d KiB",
			sent, payload, hwm, sendBuf, recvBuf, st.SendStalls, (int64(after.HeapAlloc)-int64(before.HeapAlloc))/1024)
		if st.SendStalls == 0 {
			t.Errorf("Stats.SendStalls = 0 after Send blocked at the HWM")
		}
		if sent < hwm {
			t.Errorf("Send blocked after %d messages, before the HWM (%d) could be reached", sent, hwm)
		}

		// Resume: read everything, while the sender finishes the rest.
		total := sent + 200
		errc := make(chan error, 1)
		go func() {
			for i := sent; i < total; i++ {
				if err := push.Send(ctx, msg(i)); err != nil {
					errc <- fmt.Errorf("send %d: %w", i, err)
					return
				}
			}
			errc <- nil
		}()
		for i := range total {
			v := testutil.MustRecv(t, pull.In(), watchdog, fmt.Sprintf("message %d", i))
			if v != msg(i) {
				t.Fatalf("message %d: got %.20q", i, v)
			}
		}
		if err := testutil.MustRecv(t, errc, watchdog, "sender"); err != nil {
			t.Fatal(err)
		}
		if d := pull.Stats().Dropped; d != 0 {
			t.Errorf("Stats.Dropped = %d without WithDropWhenSlow", d)
		}
	})
}

// TestDropWhenSlow checks the opt-in alternative: a PULL with
// WithDropWhenSlow (and no In buffer) whose consumer reads nothing keeps
// reading the socket, holds the first message for the consumer, and counts
// every later one in Stats.Dropped; the sender is never held back.
func TestDropWhenSlow(t *testing.T) {
	const n = 100
	ctx := testContext(t, watchdog)
	zc := newContext(t)
	tr := testutil.Transports()[0]
	pull, push := pair(t, ctx, zc, tr, zchan.Pull, zchan.Push, zchan.String,
		[]zchan.Option{zchan.WithDropWhenSlow(true), zchan.WithRecvHWM(5), zchan.WithRecvBuffer(0)}, []zchan.Option{zchan.WithSendHWM(5)})
	if err := testutil.MustRecv(t, sendAll(ctx, push, strconv.Itoa, n), watchdog, "sender"); err != nil {
		t.Fatal(err)
	}
	if !testutil.Eventually(watchdog, func() bool { return pull.Stats().Dropped == n-1 }) {
		t.Fatalf("Stats %+v, want Dropped %d", pull.Stats(), n-1)
	}
	if v := testutil.MustRecv(t, pull.In(), watchdog, "held message"); v != "0" {
		t.Errorf("held message %q, want the first one", v)
	}
	// MsgsIn counts the hand-over, which the owner records just after it.
	if !testutil.Eventually(watchdog, func() bool { return pull.Stats().MsgsIn == 1 }) {
		t.Errorf("MsgsIn = %d, want 1", pull.Stats().MsgsIn)
	}
}
