package shutdown_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/shutdown"
	"github.com/zmqchan/zmqchan/zchan"
)

// openIn opens a socket in g's context, or fails the test (after shutting
// g down).
func openIn(t *testing.T, g *shutdown.Group, typ zchan.Type, name string, o ...zchan.Option) *zchan.Socket[zchan.Msg] {
	t.Helper()
	s, err := zchan.Open(context.Background(), typ, append(o, zchan.WithContext(g.ZMQ()), zchan.WithName(name))...)
	if err != nil {
		g.Shutdown()
		g.Wait()
		t.Fatal(err)
	}
	return s
}

// smallKernelBuffers sets the kernel's socket buffers (ZMQ_SNDBUF,
// ZMQ_RCVBUF) to 4 KiB, so that with 1 KB messages what a tcp link holds
// in flight is mostly in the HWMs, and known.
func smallKernelBuffers() zchan.Option {
	return zchan.WithSetup(func(s *zmq.Socket) error {
		if err := s.SetSndbuf(4096); err != nil {
			return err
		}
		return s.SetRcvbuf(4096)
	})
}

var kilobyte = strings.Repeat("k", 1000)

// sendN sends n messages on s, or fails the test.
func sendN(t *testing.T, s *zchan.Socket[zchan.Msg], n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	for i := 0; i < n; i++ {
		if err := s.Send(ctx, zchan.NewMsg(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
}

// recvN receives n messages from s, or fails the test.
func recvN(t *testing.T, s *zchan.Socket[zchan.Msg], n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		testutil.MustRecv(t, s.In(), bound, fmt.Sprintf("%s: message %d of %d", s.Name(), i, n))
	}
}

// TestLinksFound builds fan-in, fan-out and two-way topologies over tcp
// and inproc, moves a known number of messages over each, and checks that
// the Report finds every link by its endpoints (a connect to
// tcp://localhost:P finds the bind to tcp://*:P, which libzmq resolves to
// tcp://0.0.0.0:P), with exact figures and nothing lost, and that PUB and
// SUB sockets are in no link.
func TestLinksFound(t *testing.T) {
	g, err := shutdown.New(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Fan-in over tcp: two PUSHes connect to one PULL, one of them by
	// "localhost".
	sink := openIn(t, g, zchan.Pull, "sink", zchan.WithBind("tcp://*:*"))
	port := sink.Endpoints()[0][strings.LastIndexByte(sink.Endpoints()[0], ':')+1:]
	a := openIn(t, g, zchan.Push, "a", zchan.WithConnect("tcp://localhost:"+port))
	b := openIn(t, g, zchan.Push, "b", zchan.WithConnect("tcp://127.0.0.1:"+port))
	// Fan-out over inproc: one PUSH binds, two PULLs connect.
	ep := testutil.Inproc(t)
	vent := openIn(t, g, zchan.Push, "vent", zchan.WithBind(ep))
	w1 := openIn(t, g, zchan.Pull, "w1", zchan.WithConnect(ep))
	w2 := openIn(t, g, zchan.Pull, "w2", zchan.WithConnect(ep))
	// Two-way over tcp.
	router := openIn(t, g, zchan.Router, "router", zchan.WithBind("tcp://127.0.0.1:*"))
	dealer := openIn(t, g, zchan.Dealer, "dealer", zchan.WithConnect(router.Endpoints()[0]))
	// PUB and SUB: never a link.
	pub := openIn(t, g, zchan.Pub, "pub", zchan.WithBind(testutil.Inproc(t)))
	sub := openIn(t, g, zchan.Sub, "sub", zchan.WithConnect(pub.Endpoints()[0]), zchan.WithSubscribe(""))
	for _, c := range []shutdown.Component{a, b, vent, dealer, router, sink, w1, w2, pub, sub} {
		if err := g.Add(c); err != nil {
			t.Fatal(err)
		}
	}
	sendN(t, a, 30)
	sendN(t, b, 20)
	recvN(t, sink, 50)
	sendN(t, vent, 40)
	// PUSH round-robins over the peers it has: wait until both are
	// there, then read whatever each got.
	var got atomic.Int64
	for _, w := range []*zchan.Socket[zchan.Msg]{w1, w2} {
		go func() {
			for range w.In() {
				got.Add(1)
			}
		}()
	}
	if !testutil.Eventually(bound, func() bool { return got.Load() == 40 }) {
		t.Fatalf("fan-out delivered %d of 40", got.Load())
	}
	sendN(t, dealer, 5)
	for i := 0; i < 5; i++ {
		m := testutil.MustRecv(t, router.In(), bound, "a request at the router")
		if err := router.Send(context.Background(), m); err != nil { // echo, with the identity
			t.Fatal(err)
		}
	}
	recvN(t, dealer, 5)

	g.Shutdown()
	rep, err := wait(t, g)
	if err != nil {
		t.Fatalf("err %v\n%s", err, rep)
	}
	want := map[string]shutdown.Link{
		"a,b -> sink":                    {Sent: 50, Received: 50},
		"vent -> w1,w2":                  {Sent: 40, Received: 40},
		"dealer,router -> dealer,router": {Sent: 10, Received: 10},
	}
	if len(rep.Links) != len(want) {
		t.Fatalf("links:\n%s", rep)
	}
	for _, l := range rep.Links {
		key := strings.Join(l.Senders, ",") + " -> " + strings.Join(l.Receivers, ",")
		w, ok := want[key]
		if !ok || !l.Exact || l.Lost != 0 || l.Sent != w.Sent || l.Received != w.Received || len(l.Endpoints) != 1 {
			t.Errorf("link %v (key %q), want sent %d received %d, exact, nothing lost, one endpoint", l, key, w.Sent, w.Received)
		}
		if slices.Contains(l.Senders, "pub") || slices.Contains(l.Receivers, "sub") {
			t.Errorf("PUB/SUB in a link: %v", l)
		}
	}
	t.Logf("\n%s", rep)
}

// TestLinkOutsidePeer: a PULL of the group receives from a PUSH of the
// group and from one outside it (in another zmq context). The group
// cannot see the outsider, so the link's receiver takes more than its
// sender sent: the link is inexact, counts nothing as lost, and Wait's
// error is nil. A socket whose only peer is outside is a link of its own,
// of unknown fate.
func TestLinkOutsidePeer(t *testing.T) {
	g, err := shutdown.New(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	pull := openIn(t, g, zchan.Pull, "pull", zchan.WithBind("tcp://127.0.0.1:*"))
	push := openIn(t, g, zchan.Push, "push", zchan.WithConnect(pull.Endpoints()[0]))
	outsideCtx, err := zchan.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	outside, err := zchan.Open(context.Background(), zchan.Push, zchan.WithContext(outsideCtx), zchan.WithName("outside"),
		zchan.WithConnect(pull.Endpoints()[0]))
	if err != nil {
		t.Fatal(err)
	}
	lone := openIn(t, g, zchan.Push, "lone", zchan.WithBind(testutil.Inproc(t)))
	for _, c := range []shutdown.Component{push, lone, pull} {
		g.Add(c)
	}
	sendN(t, push, 5)
	sendN(t, outside, 7)
	recvN(t, pull, 12)
	g.Shutdown()
	rep, err := wait(t, g)
	if err := outside.Close(); err != nil {
		t.Error(err)
	}
	termCtx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	if err := outsideCtx.Term(termCtx); err != nil {
		t.Error(err)
	}
	if err != nil {
		t.Fatalf("err %v\n%s", err, rep)
	}
	if len(rep.Links) != 2 {
		t.Fatalf("links:\n%s", rep)
	}
	for _, l := range rep.Links {
		switch {
		case slices.Equal(l.Senders, []string{"push"}):
			if l.Exact || l.Lost != 0 || l.Sent != 5 || l.Received != 12 || !strings.Contains(l.Cause, "outside the group") {
				t.Errorf("link %v: want inexact, sent 5, received 12, nothing lost, a cause naming the outsider", l)
			}
		case slices.Equal(l.Senders, []string{"lone"}):
			if l.Exact || l.Lost != 0 || len(l.Receivers) != 0 || !strings.Contains(l.String(), "fate unknown") {
				t.Errorf("link %v: want a lone sender of unknown fate", l)
			}
		default:
			t.Errorf("unexpected link %v", l)
		}
	}
	t.Logf("\n%s", rep)
}

// TestLosslessDrain: a PUSH with a zero linger (so closing it drops at
// once whatever libzmq still queues for the peer) feeds 1 KB messages to
// a PULL over tcp (HWMs 100, kernel buffers 4 KiB) whose consumer takes
// 50µs per message, with the PUSH's queue full when
// shutdown begins. With the lossless drain (the default), the PUSH's turn
// waits until the PULL has taken everything, and nothing is lost; without
// it, what was queued is lost when the PUSH closes, and the Report counts
// it on the link (Wait's error wraps ErrLostInTransit). Either way
// Accepted = MsgsIn + Undelivered + lost in transit.
func TestLosslessDrain(t *testing.T) {
	for _, lossless := range []bool{true, false} {
		t.Run(fmt.Sprintf("lossless=%v", lossless), func(t *testing.T) {
			g, err := shutdown.New(context.Background(), shutdown.WithLosslessDrain(lossless))
			if err != nil {
				t.Fatal(err)
			}
			pull := openIn(t, g, zchan.Pull, "pull", zchan.WithBind("tcp://127.0.0.1:*"), zchan.WithRecvHWM(100), smallKernelBuffers())
			push := openIn(t, g, zchan.Push, "push", zchan.WithConnect(pull.Endpoints()[0]), zchan.WithSendHWM(100), zchan.WithLinger(0), smallKernelBuffers())
			g.Go("source", func(ctx context.Context) error {
				for push.Send(ctx, zchan.NewMsg(kilobyte)) == nil {
				}
				return nil
			})
			g.Add(push)
			g.Add(pull)
			var consumed atomic.Uint64
			g.Go("consumer", func(ctx context.Context) error {
				for range pull.In() {
					time.Sleep(50 * time.Microsecond) // the work
					consumed.Add(1)
				}
				return nil
			})
			if !testutil.Eventually(bound, func() bool { return push.Stats().SendStalls > 0 && consumed.Load() > 100 }) {
				t.Fatal("the link never filled")
			}
			g.Shutdown()
			rep, err := wait(t, g)
			ps, ls := push.Stats(), pull.Stats()
			if ps.Accepted != ls.MsgsIn+rep.TotalUndelivered()+rep.TotalLost() || ls.MsgsIn != consumed.Load() {
				t.Errorf("accepted %d != consumed %d (MsgsIn %d) + undelivered %d + lost in transit %d\n%s",
					ps.Accepted, consumed.Load(), ls.MsgsIn, rep.TotalUndelivered(), rep.TotalLost(), rep)
			}
			if lossless {
				if err != nil || rep.TotalLost() != 0 || !slices.Contains(actions(rep), "deliver push") {
					t.Errorf("err %v, lost in transit %d, want none, after a deliver step\n%s", err, rep.TotalLost(), rep)
				}
			} else if rep.TotalLost() == 0 || !errors.Is(err, shutdown.ErrLostInTransit) || errors.Is(err, shutdown.ErrDrainTimeout) {
				t.Errorf("err %v, lost in transit %d: want some, and ErrLostInTransit alone\n%s", err, rep.TotalLost(), rep)
			}
			t.Logf("accepted %d, consumed %d, undelivered %d, lost in transit %d\n%s", ps.Accepted, consumed.Load(), rep.TotalUndelivered(), rep.TotalLost(), rep)
		})
	}
}

// TestLosslessDrainDeadline: the lossless drain waits for a consumer that
// never reads only until the drain deadline; the PUSH then stops at once,
// what was in flight is counted as lost in transit, and the cause says the
// deadline cut the wait short.
func TestLosslessDrainDeadline(t *testing.T) {
	const drain = 300 * time.Millisecond
	g, err := shutdown.New(context.Background(), shutdown.WithDrainTimeout(drain))
	if err != nil {
		t.Fatal(err)
	}
	pull := openIn(t, g, zchan.Pull, "pull", zchan.WithBind("tcp://127.0.0.1:*"), zchan.WithRecvHWM(10), smallKernelBuffers())
	push := openIn(t, g, zchan.Push, "push", zchan.WithConnect(pull.Endpoints()[0]), zchan.WithSendHWM(10), zchan.WithLinger(0), smallKernelBuffers())
	g.Go("source", func(ctx context.Context) error {
		for push.Send(ctx, zchan.NewMsg(kilobyte)) == nil {
		}
		return nil
	})
	g.Add(push)
	g.Add(pull) // In is never read
	if !testutil.Eventually(bound, func() bool { return push.Stats().SendStalls > 0 }) {
		t.Fatal("the link never filled")
	}
	g.Shutdown()
	rep, err := wait(t, g)
	if !errors.Is(err, shutdown.ErrDrainTimeout) {
		t.Fatalf("err %v: want ErrDrainTimeout\n%s", err, rep)
	}
	// Whether anything is still on the wire when the two sockets close
	// depends on timing (the PULL's own queues can take it all, and it
	// is then undelivered, not lost); when something is, the link says
	// so and names the deadline.
	if rep.TotalLost() > 0 && (!errors.Is(err, shutdown.ErrLostInTransit) ||
		!strings.Contains(err.Error(), "the drain deadline passed while the receivers were still taking them")) {
		t.Fatalf("err %v: want ErrLostInTransit with the deadline as its cause\n%s", err, rep)
	}
	ps, ls := push.Stats(), pull.Stats()
	if ps.Accepted != ls.MsgsIn+rep.TotalUndelivered()+rep.TotalLost() {
		t.Errorf("accepted %d != MsgsIn %d + undelivered %d + lost in transit %d\n%s", ps.Accepted, ls.MsgsIn, rep.TotalUndelivered(), rep.TotalLost(), rep)
	}
	t.Logf("\n%s", rep)
}

// TestLosslessDrainRouterDropAtHWM: a ROUTER WithDropAtHWM drops (and
// counts in Stats.Dropped) what finds its peer's pipe full; those messages
// never reach the peer, so the lossless drain must not wait for them. The
// group ends within the drain deadline, without ErrDrainTimeout, and the
// link is exact with nothing lost. (The drain used to count the drops as
// in flight and wait out the whole deadline.)
func TestLosslessDrainRouterDropAtHWM(t *testing.T) {
	g, err := shutdown.New(context.Background(), shutdown.WithDrainTimeout(bound))
	if err != nil {
		t.Fatal(err)
	}
	ep := testutil.Inproc(t)
	router := openIn(t, g, zchan.Router, "router", zchan.WithBind(ep), zchan.WithDropAtHWM(true), zchan.WithSendHWM(10))
	dealer := openIn(t, g, zchan.Dealer, "dealer", zchan.WithConnect(ep), zchan.WithRecvHWM(10))
	for _, c := range []shutdown.Component{router, dealer} {
		if err := g.Add(c); err != nil {
			t.Fatal(err)
		}
	}
	sendN(t, dealer, 1)
	hello := testutil.MustRecv(t, router.In(), bound, "the dealer's hello")
	id := string(hello[0])
	// The dealer's consumer does not read yet: the pipe fills and the
	// router drops the rest.
	const n = 5000
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	for i := 0; i < n; i++ {
		if err := router.Send(ctx, zchan.NewMsg(id, fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	if !testutil.Eventually(bound, func() bool { return router.Stats().Dropped > 0 }) {
		t.Fatalf("the router dropped nothing: %+v", router.Stats())
	}
	go func() {
		for range dealer.In() {
		}
	}()
	// Start the shutdown only once the router has handled every message
	// (sent or dropped): the rest is in libzmq's pipe or the dealer's hands.
	if !testutil.Eventually(bound, func() bool { s := router.Stats(); return s.MsgsOut+s.Dropped == n }) {
		t.Fatalf("router never handled all %d: %+v", n, router.Stats())
	}
	g.Shutdown()
	rep, err := g.Wait()
	if err != nil {
		t.Fatalf("Wait: %v\n%v", err, rep)
	}
	if len(rep.Links) != 1 || !rep.Links[0].Exact || rep.Links[0].Lost != 0 {
		t.Fatalf("links %v, want one exact link with nothing lost", rep.Links)
	}
	rs := router.Stats()
	if rs.Dropped == 0 || rs.MsgsOut+rs.Dropped != n {
		t.Errorf("router %+v, want %d sent or dropped, some dropped", rs, n)
	}
}
