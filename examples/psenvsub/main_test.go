package main

import (
	"context"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

// TestPSEnvSub subscribes to our psenvpub (a child process): only the B
// envelopes may come through, each printed with its key.
func TestPSEnvSub(t *testing.T) {
	ep := exampletest.TCP(t)
	exampletest.Start(t, time.Minute, exampletest.Build(t, "psenvpub"), "-bind", ep, "-interval", "10ms")

	var out exampletest.Output
	sub := exampletest.Go(t, "psenvsub", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-connect", ep, "-count", "3"}, &out)
	})
	if err := sub.Wait(t); err != nil {
		t.Fatalf("run: %v", err)
	}
	lines := out.Lines()
	if len(lines) != 3 {
		t.Errorf("got %d lines, want 3:\n%s", len(lines), out.String())
	}
	for i, l := range lines {
		if l != "[B] We would like to see this" {
			t.Errorf("line %d = %q", i, l)
		}
	}
}

// TestPSEnvSubStop stops a subscriber with no publisher, as Ctrl-C would:
// it must return nil promptly.
func TestPSEnvSubStop(t *testing.T) {
	sub := exampletest.Go(t, "psenvsub", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-connect", exampletest.TCP(t)}, &exampletest.Output{})
	})
	sub.Stop()
	if err := sub.Wait(t); err != nil {
		t.Fatalf("run: %v", err)
	}
}
