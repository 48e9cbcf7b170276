package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/examples/internal/exampletest"
	"github.com/zmqchan/zmqchan/zchan"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

// TestBatch sends the start of a batch and 12 results and checks the
// progress marks and the summary line.
func TestBatch(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ep := exampletest.TCP(t)
	var out exampletest.Output
	sink := exampletest.Go(t, "tasksink", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-bind", ep, "-tasks", "12"}, &out)
	})
	push, err := zchan.OpenWith(ctx, zchan.Push, zchan.String, zchan.WithConnect(ep))
	if err != nil {
		t.Fatal(err)
	}
	defer push.Close()
	for _, m := range append([]string{"0"}, make([]string, 12)...) {
		if err := push.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Wait(t); err != nil {
		t.Fatalf("tasksink: %v", err)
	}
	lines := out.Lines()
	if len(lines) != 2 || lines[0] != ":.........:." ||
		!regexp.MustCompile(`^Total elapsed time: \d+ msec$`).MatchString(lines[1]) {
		t.Errorf("output:\n%s", out.String())
	}
}

// TestInterrupted checks that Ctrl-C before the batch is an error exit
// that says what the sink was waiting for.
func TestInterrupted(t *testing.T) {
	var out exampletest.Output
	sink := exampletest.Go(t, "tasksink", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-bind", exampletest.TCP(t)}, &out)
	})
	sink.Stop()
	err := sink.Wait(t)
	if err == nil || !strings.Contains(err.Error(), "start of the batch") && !strings.Contains(err.Error(), "canceled") {
		t.Errorf("interrupted tasksink: %v", err)
	}
}
