package pipeline_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/pipeline"
	"github.com/zmqchan/zmqchan/zchan"
)

// multipart returns message i: 1 to 4 frames, some of them empty.
func multipart(i int) zchan.Msg {
	m := zchan.Msg{[]byte(fmt.Sprintf("m%d", i))}
	for f := 1; f <= i%4; f++ {
		m = append(m, bytes.Repeat([]byte{byte(f)}, (i*f)%7))
	}
	return m
}

func sameMsg(a, b zchan.Msg) bool {
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

func open(t *testing.T, ctx context.Context, typ zchan.Type, opts ...zchan.Option) *zchan.Socket[zchan.Msg] {
	t.Helper()
	s, err := zchan.Open(ctx, typ, append([]zchan.Option{zchan.WithLinger(0)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func recv(t *testing.T, ctx context.Context, s *zchan.Socket[zchan.Msg]) zchan.Msg {
	t.Helper()
	select {
	case m, ok := <-s.In():
		if !ok {
			t.Fatalf("%s closed: %v", s.Name(), s.Err())
		}
		return m
	case <-ctx.Done():
		t.Fatalf("%s: timed out", s.Name())
	}
	return nil
}

// closeBounded closes d and fails if that takes longer than 10s.
func closeBounded(t *testing.T, d *pipeline.Device) {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- d.Close() }()
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("close: %v", err)
		}
	case <-timer.C:
		t.Fatal("device close hangs")
	}
}

const nDevice = 1000

// TestQueueMultipart: multipart messages go through a queue device to a
// DEALER worker and its echoes come back to the client, intact.
func TestQueueMultipart(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	d, err := pipeline.Queue(ctx, "tcp://127.0.0.1:*", "tcp://127.0.0.1:*")
	if err != nil {
		t.Fatal(err)
	}
	defer closeBounded(t, d)
	fe, be := d.Endpoints()
	worker := open(t, ctx, zchan.Dealer, zchan.WithConnect(be))
	client := open(t, ctx, zchan.Dealer, zchan.WithConnect(fe))
	go func() { // echo: [client id, frames...] back as they came
		for m := range worker.In() {
			if worker.Send(ctx, m) != nil {
				return
			}
		}
	}()
	go func() {
		for i := range nDevice {
			if client.Send(ctx, multipart(i)) != nil {
				return
			}
		}
	}()
	for i := range nDevice {
		if got := recv(t, ctx, client); !sameMsg(got, multipart(i)) {
			t.Fatalf("message %d: got %q, want %q", i, got, multipart(i))
		}
	}
	if d.Forwarded() != 2*nDevice {
		t.Fatalf("forwarded %d", d.Forwarded())
	}
	// Every request went forward and every reply back, each read before
	// it was written.
	if st := d.Stats(); st.WrittenForward != nDevice || st.WrittenBack != nDevice ||
		st.ReadForward < st.WrittenForward || st.ReadBack < st.WrittenBack || st.WrittenForward+st.WrittenBack != d.Forwarded() {
		t.Fatalf("stats %+v, forwarded %d: want %d each way", st, d.Forwarded(), nDevice)
	}
}

// TestForwarderMultipart: published multipart messages reach a subscriber
// through a forwarder intact, and subscriptions flow upstream.
func TestForwarderMultipart(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	d, err := pipeline.Forwarder(ctx, "tcp://127.0.0.1:*", "tcp://127.0.0.1:*")
	if err != nil {
		t.Fatal(err)
	}
	defer closeBounded(t, d)
	fe, be := d.Endpoints()
	pub := open(t, ctx, zchan.Pub, zchan.WithConnect(fe))
	sub := open(t, ctx, zchan.Sub, zchan.WithConnect(be), zchan.WithSubscribe("m"))
	// PUB drops until the subscription has gone through the forwarder to
	// the publisher: send probes (not subscribed to) and a marker until
	// the marker arrives.
	for probe := 0; ; probe++ {
		if err := pub.Send(ctx, zchan.NewMsg("x-noise")); err != nil {
			t.Fatal(err)
		}
		if err := pub.Send(ctx, zchan.NewMsg("m-ready")); err != nil {
			t.Fatal(err)
		}
		wait := time.NewTimer(50 * time.Millisecond)
		select {
		case m := <-sub.In():
			wait.Stop()
			if string(m[0]) != "m-ready" {
				t.Fatalf("unsubscribed message %q came through", m)
			}
		case <-wait.C:
			if ctx.Err() != nil {
				t.Fatal("subscription never reached the publisher")
			}
			continue
		}
		break
	}
	// PUB drops at its high-water mark by design, and on a loaded machine
	// 1,000 messages sent in a burst can reach it (the forwarder or the
	// subscriber falling behind). The test is about multipart integrity
	// and subscription flow, not about PUB's drop policy, so the
	// publisher keeps at most window messages in flight.
	const window = 100
	credit := make(chan struct{}, window)
	for range window {
		credit <- struct{}{}
	}
	go func() {
		for i := range nDevice {
			select {
			case <-credit:
			case <-ctx.Done():
				return
			}
			if pub.Send(ctx, zchan.NewMsg("x-noise")) != nil || pub.Send(ctx, multipart(i)) != nil {
				return
			}
		}
	}()
	for i := 0; i < nDevice; {
		got := recv(t, ctx, sub)
		if string(got[0]) == "m-ready" {
			continue
		}
		if !sameMsg(got, multipart(i)) {
			t.Fatalf("message %d: got %q, want %q", i, got, multipart(i))
		}
		i++
		credit <- struct{}{}
	}
}

// TestStreamerCapture: multipart messages go through a streamer intact
// and a copy of each goes to the capture socket.
func TestStreamerCapture(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	capEP := fmt.Sprintf("inproc://capture-%p", t)
	d, err := pipeline.Streamer(ctx, "tcp://127.0.0.1:*", "tcp://127.0.0.1:*", pipeline.WithCapture(capEP))
	if err != nil {
		t.Fatal(err)
	}
	defer closeBounded(t, d)
	fe, be := d.Endpoints()
	capture := open(t, ctx, zchan.Sub, zchan.WithConnect(capEP), zchan.WithSubscribe(""))
	push := open(t, ctx, zchan.Push, zchan.WithConnect(fe))
	pull := open(t, ctx, zchan.Pull, zchan.WithConnect(be))
	go func() {
		for i := range nDevice {
			if push.Send(ctx, multipart(i)) != nil {
				return
			}
		}
	}()
	var captured []zchan.Msg
	var mu sync.Mutex
	capDone := make(chan struct{})
	go func() {
		defer close(capDone)
		for m := range capture.In() {
			mu.Lock()
			captured = append(captured, m)
			n := len(captured)
			mu.Unlock()
			if n == nDevice {
				return
			}
		}
	}()
	for i := range nDevice {
		if got := recv(t, ctx, pull); !sameMsg(got, multipart(i)) {
			t.Fatalf("message %d: got %q, want %q", i, got, multipart(i))
		}
	}
	// The capture SUB was connected (inproc, synchronously) before the
	// first message, so it sees every one.
	select {
	case <-capDone:
	case <-ctx.Done():
		mu.Lock()
		t.Fatalf("captured %d of %d", len(captured), nDevice)
	}
	for i, m := range captured {
		if !sameMsg(m, multipart(i)) {
			t.Fatalf("capture %d: got %q", i, m)
		}
	}
}

// TestBroker: the guide's rrbroker: REQ clients, a queue device, REP
// workers; and the multithreaded server: tcp ROUTER in front, inproc
// DEALER behind, REP workers on inproc. Every request is answered.
func TestBroker(t *testing.T) {
	for _, tc := range []struct{ name, backend string }{
		{"rrbroker", "tcp://127.0.0.1:*"},
		{"mtserver", "inproc://mtserver-workers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t, time.Minute)
			d, err := pipeline.Queue(ctx, "tcp://127.0.0.1:*", tc.backend)
			if err != nil {
				t.Fatal(err)
			}
			defer closeBounded(t, d)
			fe, be := d.Endpoints()
			for w := range 4 {
				rep, err := zchan.OpenWith(ctx, zchan.Rep, zchan.String, zchan.WithConnect(be), zchan.WithLinger(0))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { rep.Close() })
				go func() {
					for req := range rep.In() {
						if rep.Send(ctx, fmt.Sprintf("%s from %d", req, w)) != nil {
							return
						}
					}
				}()
			}
			const clients, requests = 5, 100
			errc := make(chan error, clients)
			for c := range clients {
				go func() {
					req, err := zchan.OpenWith(ctx, zchan.Req, zchan.String, zchan.WithConnect(fe), zchan.WithLinger(0))
					if err != nil {
						errc <- err
						return
					}
					defer req.Close()
					for i := range requests {
						want := fmt.Sprintf("c%d-r%d", c, i)
						if err := req.Send(ctx, want); err != nil {
							errc <- err
							return
						}
						select {
						case got := <-req.In():
							var w int
							if _, err := fmt.Sscanf(got, want+" from %d", &w); err != nil {
								errc <- fmt.Errorf("reply %q to %q", got, want)
								return
							}
						case <-ctx.Done():
							errc <- fmt.Errorf("client %d: no reply to %d", c, i)
							return
						}
					}
					errc <- nil
				}()
			}
			for range clients {
				if err := <-errc; err != nil {
					t.Fatal(err)
				}
			}
			if d.Forwarded() != 2*clients*requests {
				t.Fatalf("forwarded %d", d.Forwarded())
			}
		})
	}
}

// TestDeviceCancel: cancelling a device's lifetime context stops it while
// a direction is blocked (a streamer with nobody on its backend); Close
// then returns promptly with the cause.
func TestDeviceCancel(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	cctx, cancel := context.WithCancelCause(ctx)
	d, err := pipeline.Streamer(ctx, "tcp://127.0.0.1:*", "tcp://127.0.0.1:*", pipeline.WithLinger(0), pipeline.WithLifetime(cctx))
	if err != nil {
		t.Fatal(err)
	}
	fe, _ := d.Endpoints()
	push := open(t, ctx, zchan.Push, zchan.WithConnect(fe))
	for i := range 10 {
		if err := push.Send(ctx, multipart(i)); err != nil {
			t.Fatal(err)
		}
	}
	cause := errors.New("operator stop")
	cancel(cause)
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	select {
	case <-d.Done():
	case <-timer.C:
		t.Fatal("device did not stop on cancel")
	}
	if err := d.Err(); !errors.Is(err, cause) {
		t.Fatalf("err %v", err)
	}
	if err := d.Close(); !errors.Is(err, cause) {
		t.Fatalf("close %v", err)
	}
	t.Logf("undelivered %d", d.Undelivered())
}

// TestStreamerShutdown: Shutdown forwards everything the streamer's
// frontend has received, its libzmq queue included, before it closes:
// nothing undelivered, every message out of the backend. The backend's
// peer connects only once Shutdown has begun, so the device holds most of
// the messages when it does (a drain that stopped taking from the
// frontend would leave them undelivered).
func TestStreamerShutdown(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	d, err := pipeline.Streamer(ctx, "tcp://127.0.0.1:*", "tcp://127.0.0.1:*")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	fe, be := d.Endpoints()
	push := open(t, ctx, zchan.Push, zchan.WithConnect(fe))
	const n = 500
	for i := range n {
		if err := push.Send(ctx, multipart(i)); err != nil {
			t.Fatal(err)
		}
	}
	if !testutil.Eventually(30*time.Second, func() bool { return push.Stats().MsgsOut == n }) {
		t.Fatalf("push sent %d of %d", push.Stats().MsgsOut, n)
	}
	shut := make(chan error, 1)
	go func() { shut <- d.Shutdown(ctx) }()
	pull := open(t, ctx, zchan.Pull, zchan.WithConnect(be))
	for i := range n {
		if got := recv(t, ctx, pull); !sameMsg(got, multipart(i)) {
			t.Fatalf("message %d: got %q", i, got)
		}
	}
	if err := testutil.MustRecv(t, shut, 30*time.Second, "shutdown"); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if d.Forwarded() != n || d.Undelivered() != 0 {
		t.Fatalf("forwarded %d, undelivered %d", d.Forwarded(), d.Undelivered())
	}
	if err := d.Err(); !errors.Is(err, pipeline.ErrClosed) {
		t.Fatalf("err after shutdown: %v", err)
	}
}

// TestDeviceShutdownDeadline: a Streamer whose backend has no peer cannot
// forward what its frontend received; a Shutdown with a short deadline
// returns the deadline's cause, closes the device at once and counts
// every message abandoned: the frontend's queue, the one the pump holds,
// those queued on the backend.
func TestDeviceShutdownDeadline(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	d, err := pipeline.Streamer(ctx, "tcp://127.0.0.1:*", "tcp://127.0.0.1:*", pipeline.WithLinger(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	fe, _ := d.Endpoints()
	push := open(t, ctx, zchan.Push, zchan.WithConnect(fe))
	const n = 100
	for i := range n {
		if err := push.Send(ctx, multipart(i)); err != nil {
			t.Fatal(err)
		}
	}
	if !testutil.Eventually(30*time.Second, func() bool { return push.Stats().MsgsOut == n }) {
		t.Fatalf("push sent %d of %d", push.Stats().MsgsOut, n)
	}
	deadline := errors.New("deadline for the test")
	sctx, cancel := context.WithTimeoutCause(ctx, 100*time.Millisecond, deadline)
	defer cancel()
	if err := d.Shutdown(sctx); !errors.Is(err, deadline) {
		t.Fatalf("shutdown: %v, want the ctx's cause", err)
	}
	if u := d.Undelivered(); u != n {
		t.Fatalf("undelivered %d, want %d (forwarded %d)", u, n, d.Forwarded())
	}
}
