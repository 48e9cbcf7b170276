package main

import (
	"context"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

// TestWithClientAndWorkers runs rrbroker in process between the rrclient
// program and two rrworker programs.
func TestWithClientAndWorkers(t *testing.T) {
	frontend, backend := exampletest.TCP(t), exampletest.TCP(t)
	var out exampletest.Output
	broker := exampletest.Go(t, "rrbroker", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-frontend", frontend, "-backend", backend}, &out)
	})
	workerBin := exampletest.Build(t, "rrworker")
	workers := []*exampletest.Proc{
		exampletest.Start(t, time.Minute, workerBin, "-connect", backend, "-work", "1ms"),
		exampletest.Start(t, time.Minute, workerBin, "-connect", backend, "-work", "1ms"),
	}
	client := exampletest.Start(t, time.Minute, exampletest.Build(t, "rrclient"), "-connect", frontend)
	if err := client.Wait(t); err != nil {
		t.Fatalf("rrclient: %v\n%s", err, client.Stderr)
	}
	if n := client.Stdout.Count("[World]"); n != 10 {
		t.Errorf("rrclient got %d replies, want 10:\n%s", n, client.Stdout)
	}
	handled := 0
	for i, w := range workers {
		n := w.Stdout.Count("Received request: [Hello]")
		t.Logf("worker %d handled %d requests", i, n)
		handled += n
	}
	if handled != 10 {
		t.Errorf("workers handled %d requests, want 10", handled)
	}
	broker.Stop()
	if err := broker.Wait(t); err != nil {
		t.Errorf("rrbroker after interrupt: %v", err)
	}
	out.WaitFor(t, "Forwarded 10 requests and 10 replies", time.Second)
}

// TestClientBeforeWorkers starts the client first: its requests wait in
// the broker (held for the backend's SendFrom channel) until a worker
// connects, and then every one is answered.
func TestClientBeforeWorkers(t *testing.T) {
	frontend, backend := exampletest.TCP(t), exampletest.TCP(t)
	var out exampletest.Output
	broker := exampletest.Go(t, "rrbroker", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-frontend", frontend, "-backend", backend}, &out)
	})
	client := exampletest.Start(t, time.Minute, exampletest.Build(t, "rrclient"), "-connect", frontend)
	worker := exampletest.Start(t, time.Minute, exampletest.Build(t, "rrworker"), "-connect", backend, "-work", "1ms")
	if err := client.Wait(t); err != nil {
		t.Fatalf("rrclient: %v\n%s", err, client.Stderr)
	}
	if n := client.Stdout.Count("[World]"); n != 10 {
		t.Errorf("rrclient got %d replies, want 10:\n%s", n, client.Stdout)
	}
	if n := worker.Stdout.Count("Received request: [Hello]"); n != 10 {
		t.Errorf("worker handled %d requests, want 10", n)
	}
	broker.Stop()
	if err := broker.Wait(t); err != nil {
		t.Errorf("rrbroker after interrupt: %v", err)
	}
	out.WaitFor(t, "Forwarded 10 requests and 10 replies", time.Second)
}
