package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/examples/internal/exampletest"
	"github.com/zmqchan/zmqchan/zchan"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

// TestBatch runs taskvent against a worker and a sink written in the test:
// the sink must get "0" first, the worker every task, each a workload in
// range, adding up to the total taskvent prints.
func TestBatch(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ventEP, sinkEP := exampletest.TCP(t), exampletest.TCP(t)
	sink, err := zchan.OpenWith(ctx, zchan.Pull, zchan.String, zchan.WithBind(sinkEP))
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	worker, err := zchan.OpenWith(ctx, zchan.Pull, zchan.String, zchan.WithConnect(ventEP))
	if err != nil {
		t.Fatal(err)
	}
	defer worker.Close()

	var out exampletest.Output
	err = exampletest.Go(t, "taskvent", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-bind", ventEP, "-sink", sinkEP, "-tasks", "10", "-maxcost", "5"},
			strings.NewReader("\n"), &out)
	}).Wait(t)
	if err != nil {
		t.Fatalf("taskvent: %v", err)
	}

	recv := func(s *zchan.Socket[string]) string {
		select {
		case m := <-s.In():
			return m
		case <-ctx.Done():
			t.Fatalf("%s: nothing received: %v", s.Name(), ctx.Err())
			return ""
		}
	}
	if m := recv(sink); m != "0" {
		t.Errorf("start of batch %q, want \"0\"", m)
	}
	total := 0
	for i := range 10 {
		m := recv(worker)
		n, err := strconv.Atoi(m)
		if err != nil || n < 1 || n > 5 {
			t.Fatalf("task %d: %q, want 1 to 5", i, m)
		}
		total += n
	}
	if !strings.HasPrefix(out.String(), "Press Enter when the workers are ready: Sending tasks to workers...\n") {
		t.Errorf("output:\n%s", out.String())
	}
	out.WaitFor(t, fmt.Sprintf("Total expected cost: %d msec", total), time.Second)
}

// TestInterruptedAtPrompt checks that Ctrl-C at the prompt ends taskvent
// with an error and sends nothing.
func TestInterruptedAtPrompt(t *testing.T) {
	stdin, typing := io.Pipe()
	t.Cleanup(func() { typing.Close() })
	var out exampletest.Output
	vent := exampletest.Go(t, "taskvent", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-bind", exampletest.TCP(t), "-sink", exampletest.TCP(t)}, stdin, &out)
	})
	out.WaitFor(t, "Press Enter", 30*time.Second)
	vent.Stop()
	if err := vent.Wait(t); err == nil {
		t.Error("taskvent interrupted at the prompt returned nil")
	}
	if strings.Contains(out.String(), "Sending") {
		t.Errorf("taskvent went on after the interrupt:\n%s", out.String())
	}
}
