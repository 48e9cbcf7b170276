package main

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

// TestRelay4 checks that every reading goes through the four steps, in
// order, scaled and converted.
func TestRelay4(t *testing.T) {
	var out exampletest.Output
	tk := exampletest.Go(t, "relay4", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-n", "3", "-scale", "2"}, &out)
	})
	if err := tk.Wait(t); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	want := []string{
		"reading 1: 42.00 C = 107.60 F",
		"reading 2: 44.00 C = 111.20 F",
		"reading 3: 46.00 C = 114.80 F",
		"done: 3 readings",
	}
	if got := out.Lines(); !slices.Equal(got, want) {
		t.Errorf("output:\n%q\nwant:\n%q", got, want)
	}
}

// TestRelay4Cancelled cancels the relay: run must return the cancellation
// from every step and not claim completion.
func TestRelay4Cancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out exampletest.Output
	if err := run(ctx, nil, &out); err == nil {
		t.Fatalf("run with a cancelled context: no error\n%s", out.String())
	}
	if out.Count("done:") != 0 {
		t.Errorf("cancelled relay claims completion:\n%s", out.String())
	}
}
