package main

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

var countsLine = regexp.MustCompile(`^(\w+):((?: \d{5}=\d+)+)$`)

// counts parses a line "what: 00000=3 00001=4" into its word and counts.
func counts(t *testing.T, line string) (string, []int) {
	t.Helper()
	m := countsLine.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("line %q", line)
	}
	var c []int
	for i, f := range strings.Fields(m[2]) {
		zip, n, _ := strings.Cut(f, "=")
		if zip != fmt.Sprintf("%05d", i) {
			t.Fatalf("line %q: socket %d is %s", line, i, zip)
		}
		v, _ := strconv.Atoi(n)
		c = append(c, v)
	}
	return m[1], c
}

// TestWithServer runs subs with four SUB sockets against the wuserver
// program publishing four zipcodes: it stops once every socket has had the
// number of updates asked for (each gets only its zipcode), and the timer
// printed the counts along the way.
func TestWithServer(t *testing.T) {
	ep := exampletest.TCP(t)
	server := exampletest.Start(t, time.Minute, exampletest.Build(t, "wuserver"), "-bind", ep, "-zipcodes", "4")
	var out exampletest.Output
	err := exampletest.Go(t, "subs", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-connect", ep, "-n", "4", "-every", "1ms", "-updates", "500"}, &out)
	}).Wait(t)
	if err != nil {
		t.Fatalf("subs: %v\n%s", err, out.String())
	}
	what, c := counts(t, out.WaitFor(t, "done:", time.Second))
	if what != "done" || len(c) != 4 {
		t.Fatalf("%s %v: want done and 4 counts", what, c)
	}
	for i, n := range c {
		if n < 500 {
			t.Errorf("socket %d had %d updates: %v", i, n, c)
		}
	}
	if out.Count("updates:") == 0 {
		t.Errorf("the timer never printed:\n%s", out.String())
	}
	if err := server.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := server.Wait(t); err != nil {
		t.Errorf("wuserver after SIGINT: %v\n%s", err, server.Stderr)
	}
}

// TestInterrupted: with no server, Ctrl-C (the context's end) stops the
// loop at once with the totals printed and a nil error.
func TestInterrupted(t *testing.T) {
	var out exampletest.Output
	subs := exampletest.Go(t, "subs", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-connect", exampletest.TCP(t), "-n", "5", "-every", "10ms"}, &out)
	})
	out.WaitFor(t, "updates:", 30*time.Second)
	subs.Stop()
	if err := subs.Wait(t); err != nil {
		t.Fatalf("interrupted subs: %v", err)
	}
	if _, c := counts(t, out.WaitFor(t, "interrupted:", time.Second)); len(c) != 5 {
		t.Fatalf("%d counts, want 5", len(c))
	}
}

// TestBadFlags: out-of-range flags are refused before anything opens.
func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-n", "0"}, {"-every", "0s"}, {"-updates", "-1"}} {
		if err := run(context.Background(), args, &exampletest.Output{}); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
