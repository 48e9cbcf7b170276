package main

import (
	"context"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/examples/internal/exampletest"
	"github.com/zmqchan/zmqchan/zchan"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

// TestKill gives taskwork2 two tasks, then sends KILL on the control
// socket and checks that it exits 0. The control socket is an XPUB, so the
// test sees the worker's subscription arrive and sends KILL only then.
func TestKill(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ventEP, sinkEP, controlEP := exampletest.TCP(t), exampletest.TCP(t), exampletest.TCP(t)
	vent, err := zchan.OpenWith(ctx, zchan.Push, zchan.String, zchan.WithBind(ventEP))
	if err != nil {
		t.Fatal(err)
	}
	defer vent.Close()
	sink, err := zchan.OpenWith(ctx, zchan.Pull, zchan.String, zchan.WithBind(sinkEP))
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	control, err := zchan.OpenWith(ctx, zchan.XPub, zchan.String, zchan.WithBind(controlEP))
	if err != nil {
		t.Fatal(err)
	}
	defer control.Close()

	var out exampletest.Output
	worker := exampletest.Go(t, "taskwork2", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-connect", ventEP, "-sink", sinkEP, "-control", controlEP}, &out)
	})
	select {
	case sub := <-control.In():
		if sub != "\x01" {
			t.Fatalf("subscription %q, want everything (\"\\x01\")", sub)
		}
	case <-ctx.Done():
		t.Fatal("taskwork2 did not subscribe")
	}
	for _, w := range []string{"2", "1"} {
		if err := vent.Send(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 {
		select {
		case r := <-sink.In():
			if r != "" {
				t.Errorf("result %q, want empty", r)
			}
		case <-ctx.Done():
			t.Fatalf("result %d: %v", i, ctx.Err())
		}
	}
	if err := control.Send(ctx, "KILL"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-worker.Done():
	case <-ctx.Done():
		t.Fatal("taskwork2 ignored KILL")
	}
	if err := worker.Wait(t); err != nil {
		t.Errorf("taskwork2 after KILL: %v", err)
	}
	if got := out.String(); got != "2.1." {
		t.Errorf("output %q, want \"2.1.\"", got)
	}
}
