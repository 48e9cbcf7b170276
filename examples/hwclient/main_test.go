package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/examples/internal/exampletest"
	"github.com/zmqchan/zmqchan/zchan"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

// TestAgainstREP runs hwclient against a REP socket written in the test
// that checks the exact frames of each request, and checks the client's
// output line by line.
func TestAgainstREP(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ep := exampletest.TCP(t)
	rep, err := zchan.Open(ctx, zchan.Rep, zchan.WithBind(ep))
	if err != nil {
		t.Fatal(err)
	}
	defer rep.Close()
	served := make(chan error, 1)
	go func() {
		for range 3 {
			select {
			case m := <-rep.In():
				if len(m) != 1 || string(m[0]) != "Hello" {
					served <- fmt.Errorf("request frames %q, want [\"Hello\"]", m)
					return
				}
				if err := rep.Send(ctx, zchan.NewMsg("World")); err != nil {
					served <- err
					return
				}
			case <-ctx.Done():
				served <- ctx.Err()
				return
			}
		}
		served <- nil
	}()

	var out exampletest.Output
	err = exampletest.Go(t, "hwclient", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-connect", ep, "-n", "3"}, &out)
	}).Wait(t)
	if err != nil {
		t.Fatalf("hwclient: %v", err)
	}
	if err := <-served; err != nil {
		t.Fatalf("server side: %v", err)
	}
	want := []string{
		"Connecting to hello world server...",
		"Sending Hello 0...", "Received World 0",
		"Sending Hello 1...", "Received World 1",
		"Sending Hello 2...", "Received World 2",
	}
	if got := out.Lines(); !slices.Equal(got, want) {
		t.Errorf("output:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestInterrupted checks that a client with no server stops when
// interrupted and says how far it got.
func TestInterrupted(t *testing.T) {
	var out exampletest.Output
	client := exampletest.Go(t, "hwclient", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-connect", exampletest.TCP(t)}, &out)
	})
	out.WaitFor(t, "Sending Hello 0...", 30*time.Second)
	client.Stop()
	err := client.Wait(t)
	if err == nil || !strings.Contains(err.Error(), "request 0") {
		t.Errorf("interrupted hwclient: %v, want an error naming request 0", err)
	}
}
