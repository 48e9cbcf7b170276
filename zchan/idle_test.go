package zchan_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/zchan"
)

// idleWindow is how long TestIdleUsesNoCPU watches idle sockets.
const idleWindow = 2 * time.Second

// maxIdleCPU is the share of one core the whole test process may use while
// its sockets are idle. It is a spin detector, not a performance bound: an
// owner that polls on a timer or spins on a stale ZMQ_FD level uses a
// whole core (1.0); an owner parked in the netpoller uses nothing, and what
// remains is the Go runtime's housekeeping.
const maxIdleCPU = 0.05

// TestIdleUsesNoCPU opens connected sockets of several kinds on every
// transport, moves one message through each so that all of them have
// seen traffic and handled their edges, then measures the CPU time the
// whole process uses while nothing is sent. Afterwards every pair must
// still work: the owners were parked, not dead.
func TestIdleUsesNoCPU(t *testing.T) {
	ctx := testContext(t, time.Minute)
	type link struct{ a, b *zchan.Socket[zchan.Msg] }
	var links []link
	for _, tr := range testutil.Transports() {
		zc := newContext(t)
		for _, k := range []struct{ bind, conn zchan.Type }{
			{zchan.Pull, zchan.Push}, {zchan.Router, zchan.Dealer}, {zchan.Pair, zchan.Pair}, {zchan.Dealer, zchan.Dealer},
		} {
			b, c := pair(t, ctx, zc, tr, k.bind, k.conn, zchan.Frames, nil, nil)
			links = append(links, link{b, c})
		}
		rep, req := pair(t, ctx, zc, tr, zchan.Rep, zchan.Req, zchan.Frames, nil, nil)
		if err := req.Send(ctx, zchan.NewMsg("ping")); err != nil {
			t.Fatal(err)
		}
		testutil.MustRecv(t, rep.In(), watchdog, "request")
		if err := rep.Send(ctx, zchan.NewMsg("pong")); err != nil {
			t.Fatal(err)
		}
		testutil.MustRecv(t, req.In(), watchdog, "reply")
		// A lone SUB whose publisher never publishes.
		pub := open(t, ctx, zchan.Pub, zchan.Frames, zchan.WithContext(zc), zchan.WithBind(tr.Bind(t)))
		open(t, ctx, zchan.Sub, zchan.Frames, zchan.WithContext(zc), zchan.WithConnect(pub.Endpoints()[0]), zchan.WithSubscribe(""))
	}
	exchange := func(when string) {
		t.Helper()
		for i, l := range links {
			if err := l.b.Send(ctx, zchan.NewMsg(when)); err != nil {
				t.Fatalf("%s, link %d: send: %v", when, i, err)
			}
			m := testutil.MustRecv(t, l.a.In(), watchdog, when)
			if l.a.Type() == zchan.Router {
				m = m[1:]
			}
			if len(m) != 1 || string(m[0]) != when {
				t.Fatalf("%s, link %d: got %q", when, i, m)
			}
		}
	}
	exchange("before")

	runtime.GC()
	cpu0, t0 := testutil.CPUTime(), time.Now()
	idle := time.NewTimer(idleWindow)
	<-idle.C
	cpu, wall := testutil.CPUTime()-cpu0, time.Since(t0)
	share := cpu.Seconds() / wall.Seconds()
	t.Logf("%d idle sockets: %v CPU over %v = %.2f%% of one core", 2*len(links)+9, cpu, wall.Round(time.Millisecond), 100*share)
	if share > maxIdleCPU {
		t.Errorf("idle sockets used %.1f%% of a core (%v over %v), want under %.0f%%: something spins",
			100*share, cpu, wall.Round(time.Millisecond), 100*maxIdleCPU)
	}
	exchange("after")
}
