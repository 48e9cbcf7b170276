//go:build linux

package secure_test

import (
	"errors"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/secure"
)

// TestWatchdogDropsEndlessMultipart: a peer sends a multipart message
// that never ends, every frame under MaxMsgSize. libzmq buffers it
// without bound (measured and logged in the first phase); with a
// watchdog, the peer is disconnected once the C heap passes the limit,
// libzmq frees what it held, and the other peer carries on.
func TestWatchdogDropsEndlessMultipart(t *testing.T) {
	const (
		frame   = 60 << 10
		phase1  = 48 << 20 // bytes sent without a watchdog
		overBy  = 64 << 20 // the watchdog's limit above the baseline
		maxSent = 1 << 30  // the attacker gives up here
	)
	l := secure.DefaultLimits()
	l.MaxMsgSize = 64 << 10
	srv, _ := nullServer(t, l)
	ep := srv.Endpoints()[0]
	check := goodPeer(t, srv, ep)
	junk := make([]byte, frame)
	header := frameHeader(frame, true)

	// Phase 1: no watchdog. The unfinished message grows libzmq's heap.
	base := secure.CHeap()
	c := rawDial(t, ep)
	nullHandshake(t, c)
	for sent := 0; sent < phase1; sent += frame {
		if _, err := c.Write(append(header, junk...)); err != nil {
			t.Fatal(err)
		}
	}
	check() // also lets libzmq catch up with what was written
	grown := secure.CHeap()
	t.Logf("without a watchdog: %d MiB sent as one unfinished message; C heap %d MiB -> %d MiB",
		phase1>>20, base>>20, grown>>20)
	c.Close()
	if !heapBelow(grown - phase1/2) {
		t.Fatalf("C heap still %d MiB after the first attacker left", secure.CHeap()>>20)
	}

	// Phase 2: a watchdog with a limit well above the baseline.
	base = secure.CHeap()
	w, err := secure.NewWatchdog(secure.WatchdogConfig{
		Endpoints: srv.Endpoints(), Limit: base + overBy, Interval: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	c = rawDial(t, ep)
	nullHandshake(t, c)
	if err := c.SetWriteDeadline(time.Now().Add(wait)); err != nil {
		t.Fatal(err)
	}
	sent := 0
	var werr error
	for ; sent < maxSent; sent += frame {
		if _, werr = c.Write(append(header, junk...)); werr != nil {
			break
		}
	}
	t.Logf("attacker's write: %v; C heap %d MiB", werr, secure.CHeap()>>20)
	if sent >= maxSent {
		t.Fatalf("the attacker sent %d MiB and is still connected", sent>>20)
	}
	closedByPeer(t, c)
	if w.Disconnects() == 0 {
		t.Fatal("connection closed, but not by the watchdog")
	}
	check()
	after := secure.CHeap()
	t.Logf("with a watchdog (limit baseline + %d MiB): attacker dropped after %d MiB; C heap %d MiB -> %d MiB; %d disconnect(s)",
		overBy>>20, sent>>20, base>>20, after>>20, w.Disconnects())
	if !heapBelow(base + overBy) {
		t.Errorf("C heap still over the limit after the disconnect: %d MiB", secure.CHeap()>>20)
	}
	select {
	case m := <-srv.In():
		t.Fatalf("delivered from the attacker: %d frames", len(m))
	default:
	}
}

func TestWatchdogConfig(t *testing.T) {
	bad := []secure.WatchdogConfig{
		{Endpoints: []string{"tcp://127.0.0.1:5555"}},
		{Endpoints: []string{"ipc:///tmp/x"}, Limit: 1},
		{Endpoints: []string{"tcp://127.0.0.1:*"}, Limit: 1},
		{Endpoints: []string{"tcp://127.0.0.1:5555"}, Limit: 1, Interval: -1},
		{Limit: 1},
	}
	for _, cfg := range bad {
		if _, err := secure.NewWatchdog(cfg); !errors.Is(err, secure.ErrWatchdog) {
			t.Errorf("%+v: %v", cfg, err)
		}
	}
}

// heapBelow reports whether the C heap fell below n bytes within wait.
// libzmq frees a closed connection's buffers on its I/O thread, a moment
// after the close; there is no event to wait for.
func heapBelow(n int64) bool {
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for secure.CHeap() >= n {
		select {
		case <-deadline.C:
			return false
		case <-tick.C:
		}
	}
	return true
}
