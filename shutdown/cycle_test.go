package shutdown_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/shutdown"
	"github.com/zmqchan/zmqchan/zchan"
)

// zmqThreads counts libzmq's background threads (I/O and reaper, named
// "ZMQbg/..."), which a context that was never terminated would leave.
func zmqThreads() int {
	names, _ := filepath.Glob("/proc/self/task/*/comm")
	n := 0
	for _, f := range names {
		b, err := os.ReadFile(f)
		if err == nil && strings.HasPrefix(string(b), "ZMQbg") {
			n++
		}
	}
	return n
}

// cycle starts a group with a PUSH/PULL pair and a consumer, moves one
// message, shuts down and checks the outcome.
func cycle(t *testing.T, i int) {
	g, err := shutdown.New(context.Background(), shutdown.WithSettle(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	bg := context.Background()
	pull, err := zchan.Open(bg, zchan.Pull, zchan.WithContext(g.ZMQ()), zchan.WithBind("inproc://cycle"))
	if err != nil {
		t.Fatal(err)
	}
	push, err := zchan.Open(bg, zchan.Push, zchan.WithContext(g.ZMQ()), zchan.WithConnect("inproc://cycle"))
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{}, 1)
	g.Add(push)
	g.Add(pull)
	g.Go("consumer", func(context.Context) error {
		for range pull.In() {
			select {
			case got <- struct{}{}:
			default:
			}
		}
		return nil
	})
	if err := push.Send(bg, zchan.NewMsg("m")); err != nil {
		t.Fatal(err)
	}
	testutil.MustRecv(t, got, bound, "message")
	g.Shutdown()
	if _, err := wait(t, g); err != nil {
		t.Fatalf("cycle %d: %v", i, err)
	}
}

// TestCycles runs 1,000 start/shutdown cycles in process and checks that
// goroutines, file descriptors and libzmq threads are back at their
// baseline once settled. The baseline is taken after a few warm-up cycles
// so that lazily created runtime state (netpoller, timers) is in it. Go's
// own OS threads are not released by the runtime, so the total thread
// count is logged, and only libzmq's threads are held to the baseline.
func TestCycles(t *testing.T) {
	const warmup, cycles = 10, 1000
	for i := 0; i < warmup; i++ {
		cycle(t, i)
	}
	base := testutil.Snapshot()
	baseZMQ := zmqThreads()
	start := time.Now()
	for i := 0; i < cycles; i++ {
		cycle(t, i)
	}
	el := time.Since(start)
	var now testutil.Resources
	settled := testutil.Eventually(bound, func() bool {
		now = testutil.Snapshot()
		return now.Goroutines <= base.Goroutines && now.FDs <= base.FDs && zmqThreads() <= baseZMQ
	})
	t.Logf("%d cycles in %v (%v each); baseline %+v zmq threads %d; after %+v zmq threads %d",
		cycles, el, el/cycles, base, baseZMQ, now, zmqThreads())
	if !settled {
		t.Fatalf("resources not back at baseline: before %+v (zmq threads %d), after %+v (zmq threads %d)",
			base, baseZMQ, now, zmqThreads())
	}
	if now.Threads > base.Threads {
		t.Logf("Go runtime threads grew by %d (the runtime keeps idle threads)", now.Threads-base.Threads)
	}
}
