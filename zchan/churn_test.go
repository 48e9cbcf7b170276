package zchan_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/zchan"
)

// threadSlack is how many OS threads the process may hold above the
// baseline after the churn. Go never ends an idle thread it created (it
// parks it), and a cgo call that blocks makes it create one, so a busy
// moment on a loaded machine can leave some more than before. libzmq's own
// threads are counted exactly, apart from these.
const threadSlack = 16

// TestChurn opens, uses and closes sockets 1,000 times, rotating through
// transports and socket types, each cycle in a zmq context of its own that
// it then terminates. Afterwards the goroutines, file descriptors and
// libzmq threads (I/O threads, reaper) of the process must come back to
// their baseline, and its OS threads as a whole to within threadSlack of it.
func TestChurn(t *testing.T) {
	const cycles = 1000
	kinds := []struct{ bind, conn zchan.Type }{
		{zchan.Pull, zchan.Push}, {zchan.Rep, zchan.Req}, {zchan.Router, zchan.Dealer}, {zchan.Pair, zchan.Pair},
	}
	trs := testutil.Transports()
	cycle := func(i int) {
		ctx, cancel := context.WithTimeout(context.Background(), watchdog)
		defer cancel()
		zc, err := zchan.NewContext()
		if err != nil {
			t.Fatal(err)
		}
		k, tr := kinds[i%len(kinds)], trs[(i/len(kinds))%len(trs)]
		b, err := zchan.Open(ctx, k.bind, zchan.WithContext(zc), zchan.WithBind(tr.Bind(t)))
		if err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		c, err := zchan.Open(ctx, k.conn, zchan.WithContext(zc), zchan.WithConnect(b.Endpoints()[0]))
		if err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		if err := c.Send(ctx, zchan.NewMsg(fmt.Sprint(i))); err != nil {
			t.Fatalf("cycle %d: send: %v", i, err)
		}
		m := testutil.MustRecv(t, b.In(), watchdog, fmt.Sprintf("cycle %d (%s %s-%s)", i, tr.Name, k.conn, k.bind))
		if string(m[len(m)-1]) != fmt.Sprint(i) {
			t.Fatalf("cycle %d: got %q", i, m)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		if err := zc.Term(ctx); err != nil {
			t.Fatalf("cycle %d: Term: %v", i, err)
		}
	}
	for i := range 2 * len(kinds) * len(trs) { // warm up: each kind on each transport
		cycle(i)
	}
	base := testutil.Snapshot()
	start := time.Now()
	for i := range cycles {
		cycle(i)
	}
	el := time.Since(start)
	var now testutil.Resources
	settled := testutil.Eventually(watchdog, func() bool {
		now = testutil.Snapshot()
		return now.Goroutines <= base.Goroutines && now.FDs <= base.FDs &&
			now.ZMQThreads <= base.ZMQThreads && now.Threads <= base.Threads+threadSlack
	})
	t.Logf("%d cycles in %v (%v each); baseline %+v, after %+v", cycles, el.Round(time.Millisecond), (el / cycles).Round(time.Microsecond), base, now)
	if !settled {
		t.Errorf("resources did not return to baseline within %v: baseline %+v, after %+v (thread slack %d)", watchdog, base, now, threadSlack)
	}
}
