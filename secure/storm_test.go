package secure_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/zmqchan/zmqchan/monitor"
	"github.com/zmqchan/zmqchan/secure"
	"github.com/zmqchan/zmqchan/zchan"
)

// Storm size: stormClients connects with random keys, stormBatch at a
// time, each batch closed once the server has refused all of it.
const (
	stormClients = 1000
	stormBatch   = 50
)

// echo answers every message of srv with the same frames until srv ends,
// and counts the messages that did not come from the allowed client
// (whose bodies start with "allowed").
func echo(srv *zchan.Socket[zchan.Msg], strangers *int) {
	for m := range srv.In() {
		if len(m) < 2 || !bytes.HasPrefix(m[1], []byte("allowed")) {
			*strangers++
		}
		if err := srv.Send(context.Background(), m); err != nil {
			return
		}
	}
}

// roundTrips sends n messages from cli, window at a time, and waits for
// their echoes; it returns how long they took, or 0 after failing the
// test. The window keeps messages in flight, so that what is measured is
// throughput rather than the latency of one message.
func roundTrips(t *testing.T, cli *zchan.Socket[zchan.Msg], n int) time.Duration {
	const window = 50
	start := time.Now()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for sent := 0; sent < n; sent += window {
		w := min(window, n-sent)
		for range w {
			if err := cli.Send(t.Context(), zchan.NewMsg("allowed")); err != nil {
				t.Error(err)
				return 0
			}
		}
		for range w {
			select {
			case <-cli.In():
			case <-timer.C:
				t.Error("allowed client: no echo")
				return 0
			}
		}
	}
	return time.Since(start)
}

// TestAuthStorm connects 1,000 clients with random keys: none gets a
// message through, the server sees each as an authentication failure and
// the handler logs each key as denied, while a client with an allowed
// key keeps its round trips going; their rate during the storm is
// compared with the rate before it.
func TestAuthStorm(t *testing.T) {
	zc := newContext(t)
	core, logs := observer.New(zapcore.DebugLevel)
	a := newAuth(t, zc, secure.WithLogger(zap.New(core)))
	skp, ckp := newKeyPair(t), newKeyPair(t)
	if err := a.Allow(ckp.Public()); err != nil {
		t.Fatal(err)
	}
	srv, smon := secureServer(t, a, skp, secure.DefaultLimits())
	ep := srv.Endpoints()[0]

	// One goroutine reads the server's events and passes on the
	// authentication failures.
	fails := make(chan monitor.Event, stormClients+16)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for ev := range smon.Events() {
			if authFailure(ev) {
				fails <- ev
			}
		}
	}()
	strangers := 0
	go func() {
		defer wg.Done()
		echo(srv, &strangers)
	}()
	defer func() {
		srv.Close()
		smon.Close()
		wg.Wait()
		if strangers != 0 {
			t.Errorf("%d messages from refused clients were delivered", strangers)
		}
	}()

	// The allowed client and the storm each get their own context (and so
	// their own libzmq I/O thread), as peers on other machines would: what
	// is measured is the server's side of the storm, on the same 2 cores.
	cli, _ := dial(t, newContext(t), ckp, skp.Public(), ep)
	stormZC := newContext(t)
	const baselineN = 2000
	roundTrips(t, cli, 50) // warm up: the handshake
	before := roundTrips(t, cli, baselineN)

	stormDone := make(chan struct{})
	var during time.Duration
	var duringN int
	var lwg sync.WaitGroup
	lwg.Add(1)
	go func() {
		defer lwg.Done()
		start := time.Now()
		for {
			select {
			case <-stormDone:
				during = time.Since(start)
				return
			default:
			}
			if roundTrips(t, cli, 100) == 0 {
				return
			}
			duringN += 100
		}
	}()

	start, cpu0 := time.Now(), cpuTime()
	keys := make(map[string]bool, stormClients)
	for b := 0; b < stormClients/stormBatch; b++ {
		batch := make([]*zchan.Socket[zchan.Msg], 0, stormBatch)
		for range stormBatch {
			kp := newKeyPair(t)
			keys[kp.Public()] = true
			c, err := zchan.Open(context.Background(), zchan.Dealer, zchan.WithContext(stormZC),
				secure.Client(kp, skp.Public()), zchan.WithConnect(ep), zchan.WithLinger(0),
				zchan.WithReconnect(time.Minute, 0))
			if err != nil {
				t.Fatal(err)
			}
			batch = append(batch, c)
			// Queued in the client's pipe; it must never reach the server.
			if err := c.Send(t.Context(), zchan.NewMsg("stranger")); err != nil {
				t.Fatal(err)
			}
		}
		// While the handler answers this batch, its lists change under it
		// (the race detector watches): a key comes and goes, and a deny
		// list that does not match loopback is replaced.
		extra := newKeyPair(t)
		if err := a.Allow(extra.Public()); err != nil {
			t.Fatal(err)
		}
		if err := a.SetIPDeny(fmt.Sprintf("10.%d.0.0/16", b)); err != nil {
			t.Fatal(err)
		}
		if err := a.Revoke(extra.Public()); err != nil {
			t.Fatal(err)
		}
		timer := time.NewTimer(wait)
		for i := range stormBatch {
			select {
			case <-fails:
			case <-timer.C:
				t.Fatalf("batch %d: %d of %d refusals seen on the server", b, i, stormBatch)
			}
		}
		timer.Stop()
		for _, c := range batch {
			c.Close()
		}
	}
	storm, cpu := time.Since(start), cpuTime()-cpu0
	close(stormDone)
	lwg.Wait()

	denied := map[string]bool{}
	for _, e := range logs.FilterMessage("secure: denied").All() {
		if k, ok := e.ContextMap()["key"].(string); ok {
			denied[k] = true
		}
	}
	for k := range keys {
		if !denied[k] {
			t.Errorf("key %s was not logged as denied", k)
			break
		}
	}
	if n := smon.Dropped(); n != 0 {
		t.Errorf("%d server events dropped", n)
	}
	st := a.Stats()
	if st.Denied < stormClients {
		t.Errorf("handler denied %d, want at least %d", st.Denied, stormClients)
	}
	rateBefore := float64(baselineN) / before.Seconds()
	rateDuring := float64(duringN) / during.Seconds()
	t.Logf("storm: %d refused connects in %v (%.0f/s, process CPU %.0f%% of one core); allowed client: %.0f round trips/s before, %.0f/s during (ratio %.2f); handler %+v",
		stormClients, storm.Round(time.Millisecond), stormClients/storm.Seconds(), 100*cpu.Seconds()/storm.Seconds(),
		rateBefore, rateDuring, rateDuring/rateBefore, st)
}

// cpuTime returns the user plus system CPU time the process has used, over
// all its threads (libzmq's included).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
