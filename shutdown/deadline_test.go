package shutdown_test

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/shutdown"
	"github.com/zmqchan/zmqchan/zchan"
)

// TestDeadlineUnreadOutput shuts down a group whose last socket's consumer
// reads nothing, so that no component can ever drain: real zchan sockets
// over inproc, stuck at their high-water marks. The drain deadline must
// cut each Shutdown short (ErrDrainTimeout), and Wait must return within
// the bound of the package doc, the drain timeout plus the term timeout
// plus the linger of each socket that stops with output nobody takes (the
// PUSH sockets here), with nothing left running (goleak, every socket
// Done, no ErrStillRunning) and every message accounted for: what the
// source sent is what is still readable from the unread In, plus the
// Report's undelivered counts (each the socket's Undelivered), plus what
// the worker could not forward.
//
// The only timing asserted is that bound; the term timeout in it (2s) is
// far above what the termination takes here, which leaves room for a
// noisy machine. A group that waited for the natural drain would hang
// (the watchdog), and one that gave up on a Shutdown would leave it
// running (goleak, Done).
func TestDeadlineUnreadOutput(t *testing.T) {
	for _, tc := range []struct {
		name   string
		worker bool // vent -> worker-in -> worker -> worker-out -> sink, instead of vent -> sink
	}{
		{"pair", false},
		{"chain", true},
	} {
		t.Run(tc.name, func(t *testing.T) { deadlineUnreadOutput(t, tc.worker) })
	}
}

func deadlineUnreadOutput(t *testing.T, worker bool) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	const drain, term, linger = 300 * time.Millisecond, 2 * time.Second, 300 * time.Millisecond
	ctx := context.Background()
	g, err := shutdown.New(ctx, shutdown.WithDrainTimeout(drain), shutdown.WithTermTimeout(term))
	if err != nil {
		t.Fatal(err)
	}
	var socks []*zchan.Socket[string]
	open := func(typ zchan.Type, name string, opts ...zchan.Option) *zchan.Socket[string] {
		t.Helper()
		opts = append(opts, zchan.WithContext(g.ZMQ()), zchan.WithName(name), zchan.WithLinger(linger),
			zchan.WithSendHWM(50), zchan.WithRecvHWM(50))
		s, err := zchan.OpenWith(ctx, typ, zchan.String, opts...)
		if err != nil {
			g.Shutdown()
			g.Wait()
			t.Fatal(err)
		}
		socks = append(socks, s)
		return s
	}
	sinkEP := testutil.Inproc(t)
	sink := open(zchan.Pull, "sink", zchan.WithBind(sinkEP))
	var vent, win, wout *zchan.Socket[string]
	var pushes []*zchan.Socket[string]
	if worker {
		vent = open(zchan.Push, "vent", zchan.WithBind(testutil.Inproc(t)))
		win = open(zchan.Pull, "worker-in", zchan.WithConnect(vent.Endpoints()[0]))
		wout = open(zchan.Push, "worker-out", zchan.WithConnect(sinkEP))
		pushes = []*zchan.Socket[string]{vent, wout}
	} else {
		vent = open(zchan.Push, "vent", zchan.WithConnect(sinkEP))
		pushes = []*zchan.Socket[string]{vent}
	}

	var sent, lost atomic.Uint64
	g.Go("source", func(ctx context.Context) error {
		for i := 0; ; i++ {
			if vent.Send(ctx, strconv.Itoa(i)) != nil {
				return nil
			}
			sent.Add(1)
		}
	})
	g.Add(vent)
	if worker {
		g.Add(win)
		g.Go("worker", func(ctx context.Context) error {
			for v := range win.In() {
				if wout.Send(ctx, v) != nil {
					lost.Add(1)
				}
			}
			return nil
		})
		g.Add(wout)
	}
	g.Add(sink) // nobody reads sink.In()

	// Every PUSH stuck at its high-water mark: nothing can move any more.
	if !testutil.Eventually(bound, func() bool {
		for _, p := range pushes {
			if p.Stats().SendStalls == 0 {
				return false
			}
		}
		return true
	}) {
		g.Shutdown()
		g.Wait()
		t.Fatal("the sockets never filled up")
	}
	start := time.Now()
	g.Shutdown()
	rep, err := wait(t, g)
	el := time.Since(start)
	limit := drain + term + time.Duration(len(pushes))*linger
	t.Logf("Wait returned after %v (bound %v: drain %v + term %v + %d×linger %v): %v\n%s",
		el, limit, drain, term, len(pushes), linger, err, rep)
	if el > limit {
		t.Errorf("Wait returned after %v, beyond the bound %v", el, limit)
	}
	if !errors.Is(err, shutdown.ErrDrainTimeout) {
		t.Errorf("err %v, want ErrDrainTimeout", err)
	}
	for _, bad := range []error{shutdown.ErrStillRunning, shutdown.ErrLeftOpen, zchan.ErrTermTimeout, shutdown.ErrStage} {
		if errors.Is(err, bad) {
			t.Errorf("err %v wraps %v", err, bad)
		}
	}
	for _, s := range socks {
		select {
		case <-s.Done():
		default:
			t.Errorf("%s not done when Wait returned", s.Name())
		}
	}
	select {
	case <-g.ZMQ().Done():
	default:
		t.Error("zmq context not terminated when Wait returned")
	}

	// Accounting.
	readable := uint64(0)
	for range sink.In() { // closed, its buffer still readable
		readable++
	}
	var undelivered uint64
	perSocket := rep.Undelivered()
	for _, s := range socks {
		st := s.Stats()
		if perSocket[s.Name()] != st.Undelivered {
			t.Errorf("%s: Report says %d undelivered, Stats %d", s.Name(), perSocket[s.Name()], st.Undelivered)
		}
		undelivered += st.Undelivered
		if st.Accepted+st.Received != st.MsgsOut+st.MsgsIn+st.Dropped+st.DecodeErrors+st.TooManyFrames+st.Undelivered {
			t.Errorf("%s: Stats do not add up: %+v", s.Name(), st)
		}
	}
	// The PUSH into the unread sink is stuck for good once it has stalled,
	// so it holds a message at the close. One upstream of it may have
	// stalled only for a while (before its peer connected, say, or while
	// the worker's side filled up) and handed everything on.
	if last := pushes[len(pushes)-1]; perSocket[last.Name()] == 0 {
		t.Errorf("%s: nothing undelivered, although it was stuck", last.Name())
	}
	if sink.Stats().MsgsIn != readable {
		t.Errorf("sink: MsgsIn %d, %d readable from In", sink.Stats().MsgsIn, readable)
	}
	if rep.TotalUndelivered() != undelivered {
		t.Errorf("TotalUndelivered %d, sum of the sockets' %d", rep.TotalUndelivered(), undelivered)
	}
	if n, sum := sent.Load(), readable+rep.TotalUndelivered()+lost.Load(); n != sum {
		t.Errorf("sent %d != readable %d + undelivered %d + lost %d", n, readable, rep.TotalUndelivered(), lost.Load())
	}
	t.Logf("sent %d = readable %d + undelivered %d %v + lost %d", sent.Load(), readable, rep.TotalUndelivered(), perSocket, lost.Load())
}
