package zchan_test

import (
	"testing"

	"github.com/zmqchan/zmqchan/internal/testutil"
)

// TestSocketStats: the context lists its open sockets with their live
// counters, and a socket leaves the list when it ends.
func TestSocketStats(t *testing.T) {
	ctx := testContext(t, watchdog)
	zc := newContext(t)
	push, pull := pushPull(t, ctx, zc, "b-pull")
	if err := push.Send(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	testutil.MustRecv(t, pull.In(), watchdog, "the message")
	got := zc.SocketStats()
	if len(got) != 2 || got[0].Name != push.Name() || got[1].Name != "b-pull" {
		t.Fatalf("SocketStats() = %+v", got)
	}
	if got[0].Stats.Accepted != 1 || !testutil.Eventually(watchdog, func() bool { return zc.SocketStats()[1].Stats.MsgsIn == 1 }) {
		t.Fatalf("counters: %+v", zc.SocketStats())
	}
	push.Close()
	if got := zc.SocketStats(); len(got) != 1 || got[0].Name != "b-pull" {
		t.Fatalf("after Close: %+v", got)
	}
}
