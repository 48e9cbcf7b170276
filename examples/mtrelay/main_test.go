package main

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

// TestMTRelay checks that the signal goes through the three steps in order.
func TestMTRelay(t *testing.T) {
	var out exampletest.Output
	tk := exampletest.Go(t, "mtrelay", time.Minute, func(ctx context.Context) error {
		return run(ctx, nil, &out)
	})
	if err := tk.Wait(t); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	want := []string{
		"Step 1 ready, signaling step 2",
		"Step 2 ready, signaling step 3",
		"Test successful!",
	}
	if got := out.Lines(); !slices.Equal(got, want) {
		t.Errorf("output:\n%q\nwant:\n%q", got, want)
	}
}

// TestMTRelayCancelled cancels the relay before it starts: run must return
// the cancellation, not hang or claim success.
func TestMTRelayCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out exampletest.Output
	if err := run(ctx, nil, &out); err == nil {
		t.Fatalf("run with a cancelled context: no error\n%s", out.String())
	}
	if out.Count("Test successful!") != 0 {
		t.Errorf("cancelled relay claims success:\n%s", out.String())
	}
}
