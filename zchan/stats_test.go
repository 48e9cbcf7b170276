package zchan_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/zchan"
)

// TestStatsCounters checks the message and byte counters on both ends of a
// PUSH/PULL pair, that Stats stays readable after the socket has ended,
// and the socket's name, type and resolved endpoints.
func TestStatsCounters(t *testing.T) {
	eachTransport(t, func(t *testing.T, zc *zchan.Context, tr testutil.Transport) {
		ctx := testContext(t, watchdog)
		pull, push := pair(t, ctx, zc, tr, zchan.Pull, zchan.Push, zchan.Frames,
			[]zchan.Option{zchan.WithName("stats-pull")}, nil)
		var bytes uint64
		msgs := make([]zchan.Msg, 10)
		for i := range msgs {
			msgs[i] = zchan.NewMsg(strings.Repeat("x", i), "", strings.Repeat("y", 3*i))
			bytes += uint64(4 * i)
		}
		if err := testutil.MustRecv(t, sendAll(ctx, push, func(i int) zchan.Msg { return msgs[i] }, len(msgs)), watchdog, "sender"); err != nil {
			t.Fatal(err)
		}
		for range msgs {
			testutil.MustRecv(t, pull.In(), watchdog, "message")
		}
		// The sender counts a message after libzmq took it, so its count
		// may trail the receiver's by a moment.
		want := zchan.Stats{Accepted: 10, MsgsOut: 10, BytesOut: bytes, DirectPath: zchan.DirectOK}
		if !testutil.Eventually(watchdog, func() bool { return push.Stats() == want }) {
			t.Errorf("PUSH stats %+v, want %+v", push.Stats(), want)
		}
		want = zchan.Stats{Received: 10, MsgsIn: 10, BytesIn: bytes, DirectPath: zchan.DirectOK}
		if !testutil.Eventually(watchdog, func() bool { return pull.Stats() == want }) {
			t.Errorf("PULL stats %+v, want %+v", pull.Stats(), want)
		}

		if pull.Name() != "stats-pull" || pull.Type() != zchan.Pull {
			t.Errorf("name %q, type %v", pull.Name(), pull.Type())
		}
		if !strings.HasPrefix(push.Name(), "PUSH") {
			t.Errorf("default name %q, want the type and a number", push.Name())
		}
		if names := zc.Sockets(); !slices.Contains(names, "stats-pull") || !slices.Contains(names, push.Name()) {
			t.Errorf("Context.Sockets() = %v, want both sockets", names)
		}
		ep := pull.Endpoints()
		if len(ep) != 1 || !strings.HasPrefix(ep[0], tr.Name+"://") || strings.Contains(ep[0], "*") {
			t.Errorf("Endpoints() = %q, want one resolved %s endpoint", ep, tr.Name)
		}
		if len(push.Endpoints()) != 0 {
			t.Errorf("connected socket Endpoints() = %q, want none", push.Endpoints())
		}

		if err := pull.Close(); err != nil {
			t.Fatal(err)
		}
		if got := pull.Stats(); got != want {
			t.Errorf("PULL stats after Close %+v, want %+v", got, want)
		}
		if names := zc.Sockets(); slices.Contains(names, "stats-pull") {
			t.Errorf("Context.Sockets() after Close = %v, still lists it", names)
		}
	})
}
