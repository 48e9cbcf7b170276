package main

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/examples/internal/exampletest"
	"github.com/zmqchan/zmqchan/zchan"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

// TestAverage publishes known temperatures for the default zipcode among
// updates for a neighbour that the client must filter out, and checks the
// exact average.
func TestAverage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ep := exampletest.TCP(t)
	pub, err := zchan.OpenWith(ctx, zchan.Pub, zchan.String, zchan.WithBind(ep))
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	// PUB drops what it sends before the subscription arrives (the guide's
	// slow joiner), so publish until the client is done. Consecutive 10001
	// updates alternate 10 and 20: any 4 in a row average 15.
	pubCtx, stopPub := context.WithCancel(ctx)
	published := make(chan struct{})
	go func() {
		defer close(published)
		for i := 0; ; i++ {
			for _, u := range []string{fmt.Sprintf("10001 %d 50", 10+10*(i%2)), "100010 99 10", "10002 99 10"} {
				if pub.Send(pubCtx, u) != nil {
					return
				}
			}
		}
	}()
	defer func() { stopPub(); <-published }()

	var out exampletest.Output
	err = exampletest.Go(t, "wuclient", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-connect", ep, "-n", "4"}, &out)
	}).Wait(t)
	if err != nil {
		t.Fatalf("wuclient: %v", err)
	}
	out.WaitFor(t, "Average temperature for zipcode '10001' was 15F", time.Second)
}

// TestWithServer runs wuclient against the wuserver program.
func TestWithServer(t *testing.T) {
	ep := exampletest.TCP(t)
	server := exampletest.Start(t, time.Minute, exampletest.Build(t, "wuserver"), "-bind", ep, "-zipcodes", "3")
	var out exampletest.Output
	err := exampletest.Go(t, "wuclient", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-connect", ep, "-n", "50", "00001"}, &out)
	}).Wait(t)
	if err != nil {
		t.Fatalf("wuclient: %v", err)
	}
	line := out.WaitFor(t, "Average temperature", time.Second)
	m := regexp.MustCompile(`^Average temperature for zipcode '00001' was (-?\d+)F$`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("line %q", line)
	}
	if avg, _ := strconv.Atoi(m[1]); avg < -80 || avg > 134 {
		t.Errorf("average %d out of the server's range", avg)
	}
	if err := server.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := server.Wait(t); err != nil {
		t.Errorf("wuserver after SIGINT: %v\n%s", err, server.Stderr)
	}
	server.Stdout.WaitFor(t, "Sent ", time.Second)
}

// TestInterrupted checks that a client with no server stops on interrupt
// and reports how far it got.
func TestInterrupted(t *testing.T) {
	var out exampletest.Output
	client := exampletest.Go(t, "wuclient", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-connect", exampletest.TCP(t)}, &out)
	})
	out.WaitFor(t, "Collecting updates", 30*time.Second)
	client.Stop()
	if err := client.Wait(t); err == nil {
		t.Error("interrupted wuclient returned nil")
	}
}
