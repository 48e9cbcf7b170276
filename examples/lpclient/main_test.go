package main

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/examples/internal/exampletest"
	"github.com/zmqchan/zmqchan/zchan"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

// TestAgainstSlowServer: a ROUTER server in the test answers the first
// send of request 3 after the client's timeout (to a socket the client has
// closed by then) and everything else at once. The client retries request
// 3 on a new socket, and every reply it prints is its own.
func TestAgainstSlowServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ep := exampletest.TCP(t)
	router, err := zchan.Open(ctx, zchan.Router, zchan.WithBind(ep))
	if err != nil {
		t.Fatal(err)
	}
	defer router.Close()
	held := make(chan zchan.Msg, 1)
	go func() {
		late := false
		for m := range router.In() {
			if string(m[2]) == "3" && !late {
				late = true
				held <- m // answered below, after the retry
				continue
			}
			if err := router.Send(ctx, m); err != nil { // echo the envelope and the body
				return
			}
			if late && len(held) == 1 {
				router.Send(ctx, <-held) // the stale reply: to a closed socket
			}
		}
	}()
	var out exampletest.Output
	err = exampletest.Go(t, "lpclient", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-connect", ep, "-n", "5", "-timeout", "200ms"}, &out)
	}).Wait(t)
	if err != nil {
		t.Fatalf("lpclient: %v\n%s", err, out.String())
	}
	for i := 1; i <= 5; i++ {
		if n := out.Count(fmt.Sprintf("I: server replied OK (%d)", i)); n != 1 {
			t.Errorf("reply %d printed %d times:\n%s", i, n, out.String())
		}
	}
	if !strings.Contains(out.String(), "I: 5 requests, 1 retries") {
		t.Errorf("output:\n%s", out.String())
	}
}

// TestServerOffline: with no server, the client gives up after its
// attempts and exits with an error.
func TestServerOffline(t *testing.T) {
	var out exampletest.Output
	err := exampletest.Go(t, "lpclient", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-connect", exampletest.TCP(t), "-timeout", "50ms", "-retries", "3"}, &out)
	}).Wait(t)
	if err == nil || !strings.Contains(out.String(), "E: server seems to be offline, abandoning (3 attempts)") {
		t.Fatalf("lpclient without a server: %v\n%s", err, out.String())
	}
}

// TestWithLpserver runs the pair: lpserver (built, in its own process)
// overloaded on every 3rd request for longer than the client's timeout.
// The client gets every reply right, retrying the overloaded ones.
func TestWithLpserver(t *testing.T) {
	ep := exampletest.TCP(t)
	srv := exampletest.Start(t, time.Minute, exampletest.Build(t, "lpserver"),
		"-bind", ep, "-overload-every", "3", "-overload", "500ms")
	var out exampletest.Output
	err := exampletest.Go(t, "lpclient", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-connect", ep, "-n", "6", "-timeout", "200ms"}, &out)
	}).Wait(t)
	if err != nil {
		t.Fatalf("lpclient: %v\n%s", err, out.String())
	}
	for i := 1; i <= 6; i++ {
		if n := out.Count(fmt.Sprintf("I: server replied OK (%d)", i)); n != 1 {
			t.Errorf("reply %d printed %d times:\n%s", i, n, out.String())
		}
	}
	srv.Signal(syscall.SIGTERM)
	if err := srv.Wait(t); err != nil {
		t.Errorf("lpserver after SIGTERM: %v", err)
	}
}
