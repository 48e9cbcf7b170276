package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/examples/internal/exampletest"
	"github.com/zmqchan/zmqchan/zchan"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

// TestEventLoop drives every source of the loop: weather updates for the
// followed zip code and for others, Hello requests, the timer, and
// cancellation.
func TestEventLoop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pub, err := zchan.OpenWith(ctx, zchan.Pub, zchan.String, zchan.WithBind("tcp://127.0.0.1:*"))
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	repEP := exampletest.TCP(t)

	var out exampletest.Output
	loop := exampletest.Go(t, "eventloop", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-rep", repEP, "-sub", pub.Endpoints()[0], "-tick", "5ms"}, &out)
	})

	// Publish as the weather server does, every millisecond, until a
	// status line shows updates: a PUB drops what it sends before the
	// subscription arrives. Every update for 10001 says 75F; if 100010 or
	// 20000 got through the filter, the average would drop.
	stopPub, pubDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(pubDone)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			for _, u := range []string{"10001 75 40", "100010 0 0", "20000 0 0"} {
				if pub.Send(ctx, u) != nil {
					return
				}
			}
			select {
			case <-tick.C:
			case <-stopPub:
				return
			}
		}
	}()
	out.WaitFor(t, "average temperature 75.0F", 20*time.Second)
	close(stopPub)
	<-pubDone

	req, err := zchan.OpenWith(ctx, zchan.Req, zchan.String, zchan.WithConnect(repEP))
	if err != nil {
		t.Fatal(err)
	}
	defer req.Close()
	for range 2 {
		if err := req.Send(ctx, "Hello"); err != nil {
			t.Fatal(err)
		}
		if rep := recv(t, ctx, req); rep != "World" {
			t.Fatalf("reply %q, want World", rep)
		}
	}
	// A request the String codec cannot decode (two frames) gets an empty
	// reply, and the loop goes on; it is not counted as a request.
	raw, err := zchan.Open(ctx, zchan.Req, zchan.WithConnect(repEP), zchan.WithLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if err := raw.Send(ctx, zchan.NewMsg("Hello", "and more")); err != nil {
		t.Fatal(err)
	}
	select {
	case rep := <-raw.In():
		if len(rep) != 1 || len(rep[0]) != 0 {
			t.Fatalf("reply to an undecodable request %q, want one empty frame", rep)
		}
	case <-loop.Done():
		t.Fatalf("eventloop ended on an undecodable request: %v", loop.Wait(t))
	case <-ctx.Done():
		t.Fatal("no reply to an undecodable request")
	}

	loop.Stop()
	if err := loop.Wait(t); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	lines := out.Lines()
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "stopped (context canceled): 2 requests, ") ||
		!strings.HasSuffix(last, " updates (0 bad), average temperature 75.0F") {
		t.Errorf("summary = %q", last)
	}
	if n := out.Count("request: Hello"); n != 2 {
		t.Errorf("%d request lines, want 2", n)
	}
	t.Logf("%s", last)
}

// TestEventLoopFor stops the loop with its -for deadline.
func TestEventLoopFor(t *testing.T) {
	var out exampletest.Output
	loop := exampletest.Go(t, "eventloop", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-rep", exampletest.TCP(t), "-sub", exampletest.TCP(t), "-for", "50ms"}, &out)
	})
	if err := loop.Wait(t); err != nil {
		t.Fatalf("run: %v", err)
	}
	out.WaitFor(t, "stopped (context deadline exceeded): 0 requests, 0 updates (0 bad), average temperature none", time.Second)
}

func recv(t *testing.T, ctx context.Context, s *zchan.Socket[string]) string {
	t.Helper()
	select {
	case m := <-s.In():
		return m
	case <-ctx.Done():
		t.Fatal("no reply")
		return ""
	}
}
