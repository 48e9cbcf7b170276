package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/examples/internal/exampletest"
	"github.com/zmqchan/zmqchan/zchan"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

// TestBothSockets feeds msreader tasks and weather updates and checks that
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
	reader := exampletest.Go(t, "msreader", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-tasks", tasksEP, "-weather", weatherEP}, &out)
	})
	select {
	case sub := <-weather.In():
		if sub != "\x0110001 " {
			t.Fatalf("subscription %q, want \"\\x0110001 \"", sub)
		}
	case <-ctx.Done():
		t.Fatal("msreader did not subscribe")
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
	reader.Stop()
	if err := reader.Wait(t); err != nil {
		t.Errorf("msreader after interrupt: %v", err)
	}
	if strings.Contains(out.String(), "10002") || len(out.Lines()) != 3 {
		t.Errorf("output:\n%s", out.String())
	}
}

// TestTasksFirst checks the priority: when tasks and weather updates are
// both waiting, every waiting task is printed before the next update.
func TestTasksFirst(t *testing.T) {
	// With 10 of each waiting, a select without the priority would print
	// this order once in 2^10 runs.
	const n = 10
	tasks, weather := make(chan string, n), make(chan string, n)
	var want strings.Builder
	for i := range n {
		tasks <- fmt.Sprint("t", i)
		weather <- fmt.Sprint("w", i)
		fmt.Fprintf(&want, "task: t%d\n", i)
	}
	for i := range n {
		fmt.Fprintf(&want, "weather: w%d\n", i)
	}
	close(weather) // serve returns errEnded once the updates are printed
	var out strings.Builder
	if err := serve(context.Background(), tasks, weather, &out); err != errEnded {
		t.Fatalf("serve: %v, want errEnded", err)
	}
	if out.String() != want.String() {
		t.Fatalf("output:\n%s\nwant:\n%s", out.String(), want.String())
	}
}
