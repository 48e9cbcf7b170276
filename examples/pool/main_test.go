package main

import (
	"context"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

var summary = regexp.MustCompile(`^tasks (\d+), workers (\d+), elapsed \S+, \d+ tasks/s$`)

// TestPool runs a batch and checks the progress lines, the summary line and
// that every worker stopped on the KILL.
func TestPool(t *testing.T) {
	var out exampletest.Output
	tk := exampletest.Go(t, "pool", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-tasks", "2000", "-workers", "3"}, &out)
	})
	if err := tk.Wait(t); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	lines := out.Lines()
	if len(lines) != 13 {
		t.Fatalf("got %d lines, want a header, 10 progress lines and two summary lines:\n%s", len(lines), out.String())
	}
	if lines[0] != "batch of 2000 tasks, 3 workers" {
		t.Errorf("header = %q", lines[0])
	}
	lines = lines[1:]
	for i, l := range lines[:10] {
		if !strings.HasPrefix(l, "progress: ") {
			t.Errorf("line %d = %q, want a progress line", i, l)
		}
	}
	if lines[9] != "progress: 100% (2000/2000 tasks)" {
		t.Errorf("last progress line = %q", lines[9])
	}
	m := summary.FindStringSubmatch(lines[10])
	if m == nil || m[1] != "2000" || m[2] != "3" {
		t.Errorf("summary = %q, want tasks 2000, workers 3", lines[10])
	}
	if lines[11] != "workers stopped: 3 on KILL, 0 after -grace" {
		t.Errorf("last line = %q, want every worker stopped on KILL", lines[11])
	}
	t.Logf("%s", lines[10])
}

// TestPoolInterrupt sends SIGINT and SIGTERM to a running pool (a child
// process) in the middle of a batch too large to finish: it must stop
// promptly, say why, and exit with status 1.
func TestPoolInterrupt(t *testing.T) {
	bin := exampletest.Build(t, "pool")
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			p := exampletest.Start(t, time.Minute, bin, "-tasks", "1000000000")
			p.Stdout.WaitFor(t, "batch of", 30*time.Second)
			if err := p.Signal(sig); err != nil {
				t.Fatal(err)
			}
			p.Wait(t)
			if code := p.ExitCode(); code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			p.Stderr.WaitFor(t, "pool: interrupted after", time.Second)
		})
	}
}

// TestPoolFlags checks that bad flags are refused before anything starts.
func TestPoolFlags(t *testing.T) {
	for _, args := range [][]string{{"-tasks", "0"}, {"-workers", "0"}, {"-grace", "0s"}, {"-nosuchflag"}} {
		if err := run(context.Background(), args, &exampletest.Output{}); err == nil {
			t.Errorf("run %v: no error", args)
		}
	}
}
