package zmqchan_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/zmqchan/zmqchan/shutdown"
	"github.com/zmqchan/zmqchan/zchan"
)

// TestShutdownMidStream runs a service (a ventilator, two workers and a
// sink over tcp) under sustained load, sends the test process a real
// SIGTERM mid-stream, and accounts for every message: each numbered task
// the ventilator handed over is delivered to the sink exactly once, or
// counted as undelivered by a socket, or counted as lost by a worker, or
// counted as lost in transit on a link (and Wait's error, ErrLostInTransit,
// fails the test).
func TestShutdownMidStream(t *testing.T) {
	const watchdog = time.Minute
	ctx, stop := shutdown.NotifyContext(context.Background(), shutdown.Signals(syscall.SIGTERM))
	defer stop()
	g, err := shutdown.New(ctx, shutdown.WithLogger(zaptest.NewLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	// ctx bounds only the opening: the sockets live until the group shuts
	// them down, in order, after the signal.
	open := func(typ zchan.Type, name string, o ...zchan.Option) *zchan.Socket[int] {
		t.Helper()
		s, err := zchan.OpenWith(ctx, typ, zchan.JSON[int](), append(o, zchan.WithContext(g.ZMQ()), zchan.WithName(name))...)
		if err != nil {
			g.Shutdown()
			g.Wait()
			t.Fatal(err)
		}
		return s
	}
	vent := open(zchan.Push, "vent", zchan.WithBind("tcp://127.0.0.1:*"))
	sink := open(zchan.Pull, "sink", zchan.WithBind("tcp://127.0.0.1:*"))
	var ins, outs []*zchan.Socket[int]
	for i := 0; i < 2; i++ {
		ins = append(ins, open(zchan.Pull, fmt.Sprintf("worker%d-in", i), zchan.WithConnect(vent.Endpoints()[0])))
		outs = append(outs, open(zchan.Push, fmt.Sprintf("worker%d-out", i), zchan.WithConnect(sink.Endpoints()[0])))
	}

	var sent, lost atomic.Uint64
	var mu sync.Mutex
	seen := make(map[int]int)
	midStream := make(chan struct{})

	// Stages in the direction messages flow.
	g.Go("source", func(ctx context.Context) error {
		for i := 0; ; i++ {
			if vent.Send(ctx, i) != nil {
				return nil
			}
			sent.Add(1)
		}
	})
	g.Add(vent)
	for _, in := range ins {
		g.Add(in)
	}
	for i := range ins {
		g.Go(fmt.Sprintf("worker%d", i), func(ctx context.Context) error {
			for v := range ins[i].In() {
				if outs[i].Send(ctx, v) != nil {
					lost.Add(1)
				}
			}
			return nil
		})
	}
	for _, out := range outs {
		g.Add(out)
	}
	g.Add(sink)
	g.Go("consumer", func(context.Context) error {
		n := 0
		for v := range sink.In() {
			mu.Lock()
			seen[v]++
			mu.Unlock()
			if n++; n == 5000 {
				close(midStream)
			}
		}
		return nil
	})

	select {
	case <-midStream:
	case <-time.After(watchdog):
		g.Shutdown()
		g.Wait()
		t.Fatal("no 5000 messages within the watchdog")
	}
	start := time.Now()
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-g.Done():
	case <-time.After(watchdog):
		t.Fatal("shutdown did not complete within the watchdog")
	}
	rep, err := g.Wait()
	el := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	var se *shutdown.SignalError
	if !errors.As(rep.Cause, &se) || se.Signal != syscall.SIGTERM {
		t.Fatalf("cause %v", rep.Cause)
	}
	mu.Lock()
	defer mu.Unlock()
	n := sent.Load()
	var delivered uint64
	for v, c := range seen {
		if c != 1 || v < 0 || uint64(v) >= n {
			t.Errorf("task %d delivered %d times (sent %d)", v, c, n)
		}
		delivered += uint64(c)
	}
	undelivered := rep.TotalUndelivered()
	if n != delivered+undelivered+lost.Load()+rep.TotalLost() {
		t.Errorf("sent %d != delivered %d + undelivered %d + lost %d + lost in transit %d\n%s", n, delivered, undelivered, lost.Load(), rep.TotalLost(), rep)
	}
	// The group found the two fan-in and fan-out links, with every peer
	// in it, so their figures are exact (and, with the lossless drain,
	// nothing is lost on them: Wait's error would say so).
	if len(rep.Links) != 2 {
		t.Errorf("links %v, want vent -> worker0-in,worker1-in and worker0-out,worker1-out -> sink", rep.Links)
	}
	for _, l := range rep.Links {
		if !l.Exact {
			t.Errorf("inexact link %v", l)
		}
	}
	t.Logf("SIGTERM mid-stream: sent %d, delivered %d, undelivered %d %v, lost %d, lost in transit %d; shutdown %v\n%s",
		n, delivered, undelivered, rep.Undelivered(), lost.Load(), rep.TotalLost(), el, rep)
}
