package main

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

// TestIdentity checks the dump, frame by frame, over inproc (the guide's
// transport) and over tcp.
func TestIdentity(t *testing.T) {
	want := []*regexp.Regexp{
		regexp.MustCompile(`^-{40}$`),
		regexp.MustCompile(`^\[005\] [0-9A-F]{10}$`), // generated: a zero byte and a 32-bit number
		regexp.MustCompile(`^\[000\] $`),
		regexp.MustCompile(`^\[039\] ROUTER uses a generated 5 byte identity$`),
		regexp.MustCompile(`^-{40}$`),
		regexp.MustCompile(`^\[005\] PEER2$`),
		regexp.MustCompile(`^\[000\] $`),
		regexp.MustCompile(`^\[040\] ROUTER socket uses REQ's socket identity$`),
	}
	for _, ep := range []string{"inproc://example", exampletest.TCP(t)} {
		t.Run(ep[:3], func(t *testing.T) {
			var out exampletest.Output
			tk := exampletest.Go(t, "identity", time.Minute, func(ctx context.Context) error {
				return run(ctx, []string{"-endpoint", ep}, &out)
			})
			if err := tk.Wait(t); err != nil {
				t.Fatalf("run: %v\n%s", err, out.String())
			}
			lines := out.Lines()
			if len(lines) != len(want) {
				t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), out.String())
			}
			for i, re := range want {
				if !re.MatchString(lines[i]) {
					t.Errorf("line %d = %q, want %v", i, lines[i], re)
				}
			}
		})
	}
}
