package zchan_test

import (
	"bytes"
	"fmt"
	"strconv"
	"testing"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/zchan"
)

// burstMsg is message i of a burst: a sequence frame, then 0 to 4 frames
// whose count and contents (empty frames included) depend on i, so that a
// message split or merged with its neighbour cannot look right.
func burstMsg(i int) zchan.Msg {
	m := zchan.Msg{[]byte(strconv.Itoa(i))}
	for j := range i % 5 {
		switch (i + j) % 3 {
		case 0:
			m = append(m, []byte{})
		case 1:
			m = append(m, []byte(fmt.Sprintf("%d.%d", i, j)))
		default:
			m = append(m, bytes.Repeat([]byte{byte(i)}, 1+i%300))
		}
	}
	return m
}

func equalMsg(a, b zchan.Msg) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// TestBurstRoundTrip sends a burst of multipart messages through
// PUSH/PULL, PAIR/PAIR and DEALER/DEALER and checks that each arrives
// exactly once, in order, with its frames neither split nor merged and its
// empty frames intact.
func TestBurstRoundTrip(t *testing.T) {
	const n = 5000
	kinds := []struct{ bind, conn zchan.Type }{
		{zchan.Pull, zchan.Push},
		{zchan.Pair, zchan.Pair},
		{zchan.Dealer, zchan.Dealer},
	}
	// The owner's hot path calls libzmq directly; the pebbe-only path is
	// its fallback, should pebbe/zmq4's Socket change layout.
	paths := []struct {
		name string
		opts []zchan.Option
	}{{"direct", nil}, {"pebbe", []zchan.Option{zchan.WithPebbeOnly()}}}
	eachTransport(t, func(t *testing.T, zc *zchan.Context, tr testutil.Transport) {
		for _, k := range kinds {
			for _, p := range paths {
				t.Run(k.conn.String()+"-"+k.bind.String()+"/"+p.name, func(t *testing.T) {
					ctx := testContext(t, watchdog)
					recv, send := pair(t, ctx, zc, tr, k.bind, k.conn, zchan.Frames, p.opts, p.opts)
					errc := sendAll(ctx, send, burstMsg, n)
					for i := range n {
						m := testutil.MustRecv(t, recv.In(), watchdog, fmt.Sprintf("message %d", i))
						if want := burstMsg(i); !equalMsg(m, want) {
							t.Fatalf("message %d: got %q, want %q", i, m, want)
						}
					}
					if err := testutil.MustRecv(t, errc, watchdog, "sender"); err != nil {
						t.Fatalf("send: %v", err)
					}
					if v, ok, _ := testutil.Recv(recv.In(), 0); ok {
						t.Fatalf("extra message after the burst: %q", v)
					}
					// Counted after libzmq took it: may trail the receipt.
					if !testutil.Eventually(watchdog, func() bool { return send.Stats().MsgsOut == n }) {
						t.Errorf("sender MsgsOut = %d, want %d", send.Stats().MsgsOut, n)
					}
					// Counted just after the hand-over: may trail the receipt too.
					if !testutil.Eventually(watchdog, func() bool { return recv.Stats().MsgsIn == n }) {
						t.Errorf("receiver MsgsIn = %d, want %d", recv.Stats().MsgsIn, n)
					}
				})
			}
		}
	})
}

// TestDirectPath checks that the owner's direct calls into libzmq are on:
// they are off only when pebbe/zmq4's Socket no longer keeps libzmq's
// handle where direct.go reads it, which an upgrade of pebbe must not do
// unnoticed.
func TestDirectPath(t *testing.T) {
	if !zchan.DirectBuilt {
		t.Skip("built with zchan_nodirect")
	}
	if !zchan.DirectOK {
		t.Fatal("pebbe/zmq4's Socket layout changed: the owner's hot path has fallen back to pebbe (see direct.go)")
	}
}

// TestFrameShapes sends messages of 1 to 9 frames (the owner sends and
// receives up to four frames per call into libzmq) whose sizes lie on
// either side of the size up to which a message's frames share one
// allocation, on the direct path and on pebbe's, and checks that each
// arrives exactly as sent and that an append to a received frame leaves
// the frame after it alone.
func TestFrameShapes(t *testing.T) {
	var msgs []zchan.Msg
	for n := 1; n <= 9; n++ {
		m := make(zchan.Msg, n)
		for j := range m {
			m[j] = bytes.Repeat([]byte{byte('a' + j)}, j*3)
		}
		msgs = append(msgs, m)
	}
	msgs = append(msgs,
		zchan.Msg{bytes.Repeat([]byte("x"), 4095), []byte("y")},
		zchan.Msg{bytes.Repeat([]byte("x"), 4096), []byte("y")},
		zchan.Msg{[]byte("id"), {}, bytes.Repeat([]byte("z"), 100<<10), []byte("t"), {}},
	)
	paths := []struct {
		name string
		opts []zchan.Option
	}{{"direct", nil}, {"pebbe", []zchan.Option{zchan.WithPebbeOnly()}}}
	eachTransport(t, func(t *testing.T, zc *zchan.Context, tr testutil.Transport) {
		for _, p := range paths {
			t.Run(p.name, func(t *testing.T) {
				ctx := testContext(t, watchdog)
				recv, send := pair(t, ctx, zc, tr, zchan.Pull, zchan.Push, zchan.Frames, p.opts, p.opts)
				errc := sendAll(ctx, send, func(i int) zchan.Msg { return msgs[i] }, len(msgs))
				for i, want := range msgs {
					m := testutil.MustRecv(t, recv.In(), watchdog, fmt.Sprintf("message %d", i))
					if !equalMsg(m, want) {
						t.Fatalf("message %d: got %d frames, want %d, or other bytes", i, len(m), len(want))
					}
					for j := 0; j+1 < len(m); j++ {
						next := bytes.Clone(m[j+1])
						_ = append(m[j], '!')
						if !bytes.Equal(m[j+1], next) {
							t.Fatalf("message %d: an append to frame %d changed frame %d", i, j, j+1)
						}
					}
				}
				if err := testutil.MustRecv(t, errc, watchdog, "sender"); err != nil {
					t.Fatal(err)
				}
			})
		}
	})
}

// TestEmptyFrames checks that messages made only of empty frames, or with
// empty frames first or last, arrive exactly as sent.
func TestEmptyFrames(t *testing.T) {
	msgs := []zchan.Msg{
		{{}},
		{{}, {}},
		{{}, []byte("x")},
		{[]byte("x"), {}},
		{{}, []byte("mid"), {}},
		{{}, {}, {}, {}, {}, {}, {}, {}},
	}
	eachTransport(t, func(t *testing.T, zc *zchan.Context, tr testutil.Transport) {
		ctx := testContext(t, watchdog)
		recv, send := pair(t, ctx, zc, tr, zchan.Pull, zchan.Push, zchan.Frames, nil, nil)
		errc := sendAll(ctx, send, func(i int) zchan.Msg { return msgs[i] }, len(msgs))
		for i, want := range msgs {
			m := testutil.MustRecv(t, recv.In(), watchdog, fmt.Sprintf("message %d", i))
			if !equalMsg(m, want) {
				t.Fatalf("message %d: got %q (%d frames), want %q (%d frames)", i, m, len(m), want, len(want))
			}
		}
		if err := testutil.MustRecv(t, errc, watchdog, "sender"); err != nil {
			t.Fatal(err)
		}
	})
}

// TestPendingBeforeFirstWait queues messages for a socket before it
// exists: over inproc a PUSH may connect before the PULL binds, and what it
// sends waits in the pipe. The PULL's owner must find those messages
// although no ZMQ_FD edge will ever announce them after its first wait.
func TestPendingBeforeFirstWait(t *testing.T) {
	const n = 50
	ctx := testContext(t, watchdog)
	zc := newContext(t)
	ep := testutil.Inproc(t)
	push := open(t, ctx, zchan.Push, zchan.String, zchan.WithContext(zc), zchan.WithConnect(ep))
	for i := range n {
		if err := push.Send(ctx, strconv.Itoa(i)); err != nil {
			t.Fatalf("send %d before the bind: %v", i, err)
		}
	}
	if !testutil.Eventually(watchdog, func() bool { return push.Stats().MsgsOut == n }) {
		t.Fatalf("PUSH handed %d of %d messages to libzmq before the bind", push.Stats().MsgsOut, n)
	}
	pull := open(t, ctx, zchan.Pull, zchan.String, zchan.WithContext(zc), zchan.WithBind(ep))
	for i := range n {
		v := testutil.MustRecv(t, pull.In(), watchdog, fmt.Sprintf("pending message %d", i))
		if v != strconv.Itoa(i) {
			t.Fatalf("pending message %d: got %q", i, v)
		}
	}

	// And the same right after a connect: the peer sends as soon as the
	// connecting socket exists, before its owner has waited once.
	ep2 := testutil.Inproc(t)
	push2 := open(t, ctx, zchan.Push, zchan.String, zchan.WithContext(zc), zchan.WithBind(ep2))
	pull2 := open(t, ctx, zchan.Pull, zchan.String, zchan.WithContext(zc), zchan.WithConnect(ep2))
	errc := sendAll(ctx, push2, strconv.Itoa, n)
	for i := range n {
		v := testutil.MustRecv(t, pull2.In(), watchdog, fmt.Sprintf("message %d after connect", i))
		if v != strconv.Itoa(i) {
			t.Fatalf("message %d after connect: got %q", i, v)
		}
	}
	if err := testutil.MustRecv(t, errc, watchdog, "sender"); err != nil {
		t.Fatal(err)
	}
}
