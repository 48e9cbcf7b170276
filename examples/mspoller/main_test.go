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

// TestBothSockets feeds mspoller tasks and weather updates and checks that
// it serves both, filtered by zipcode, and exits 0 on interrupt.
func TestBothSockets(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tasksEP, weatherEP := exampletest.TCP(t), exampletest.TCP(t)
	vent, err := zchan.OpenWith(ctx, zchan.Push, zchan.String, zchan.WithBind(tasksEP))
	if err != nil {
		t.Fatal(err)
	}
	defer vent.Close()
	// An XPUB, so that the test sees the subscription arrive before it
	// publishes (a PUB would drop updates sent before it).
	weather, err := zchan.OpenWith(ctx, zchan.XPub, zchan.String, zchan.WithBind(weatherEP))
	if err != nil {
		t.Fatal(err)
	}
	defer weather.Close()

	var out exampletest.Output
	poller := exampletest.Go(t, "mspoller", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-tasks", tasksEP, "-weather", weatherEP}, &out)
	})
	select {
	case sub := <-weather.In():
		if sub != "\x0110001 " {
			t.Fatalf("subscription %q, want \"\\x0110001 \"", sub)
		}
	case <-ctx.Done():
		t.Fatal("mspoller did not subscribe")
	}
	for _, u := range []string{"10002 1 1", "10001 20 30"} {
		if err := weather.Send(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	for _, task := range []string{"7", "8"} {
		if err := vent.Send(ctx, task); err != nil {
			t.Fatal(err)
		}
	}
	out.WaitFor(t, "weather: 10001 20 30", 30*time.Second)
	out.WaitFor(t, "task: 7", 30*time.Second)
	out.WaitFor(t, "task: 8", 30*time.Second)
	poller.Stop()
	if err := poller.Wait(t); err != nil {
		t.Errorf("mspoller after interrupt: %v", err)
	}
	if strings.Contains(out.String(), "10002") || len(out.Lines()) != 3 {
		t.Errorf("output:\n%s", out.String())
	}
}
