package main

import (
	"context"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/examples/internal/exampletest"
	"github.com/zmqchan/zmqchan/zchan"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

// pipeline opens the ventilator and the sink a worker connects to.
func pipeline(t *testing.T, ctx context.Context) (ventEP, sinkEP string, vent, sink *zchan.Socket[zchan.Msg]) {
	t.Helper()
	ventEP, sinkEP = exampletest.TCP(t), exampletest.TCP(t)
	vent, err := zchan.Open(ctx, zchan.Push, zchan.WithBind(ventEP))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { vent.Close() })
	sink, err = zchan.Open(ctx, zchan.Pull, zchan.WithBind(sinkEP))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	return ventEP, sinkEP, vent, sink
}

// TestWorks sends tasks to taskwork and checks that each comes back as one
// empty frame and that the workloads are printed in order.
func TestWorks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ventEP, sinkEP, vent, sink := pipeline(t, ctx)

	var out exampletest.Output
	worker := exampletest.Go(t, "taskwork", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-connect", ventEP, "-sink", sinkEP}, &out)
	})
	for _, w := range []string{"3", "1", "2"} {
		if err := vent.Send(ctx, zchan.NewMsg(w)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		select {
		case m := <-sink.In():
			if len(m) != 1 || len(m[0]) != 0 {
				t.Errorf("result %d: %q, want one empty frame", i, m)
			}
		case <-ctx.Done():
			t.Fatalf("result %d: %v", i, ctx.Err())
		}
	}
	worker.Stop()
	if err := worker.Wait(t); err != nil {
		t.Errorf("taskwork after interrupt: %v", err)
	}
	if got := out.String(); got != "3.1.2." {
		t.Errorf("output %q, want %q", got, "3.1.2.")
	}
}

// TestBadTask checks that a task that is not a workload is an error exit.
func TestBadTask(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ventEP, sinkEP, vent, _ := pipeline(t, ctx)
	var out exampletest.Output
	worker := exampletest.Go(t, "taskwork", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-connect", ventEP, "-sink", sinkEP}, &out)
	})
	if err := vent.Send(ctx, zchan.NewMsg("soon")); err != nil {
		t.Fatal(err)
	}
	if err := worker.Wait(t); err == nil {
		t.Error("taskwork accepted the task \"soon\"")
	}
}
