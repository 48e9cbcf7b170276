package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/examples/internal/exampletest"
	"github.com/zmqchan/zmqchan/zchan"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

// TestEchoAndOverload: a plain REQ gets each request echoed; the
// overloaded one (every 2nd) comes late but right.
func TestEchoAndOverload(t *testing.T) {
	ep := exampletest.TCP(t)
	var out exampletest.Output
	srv := exampletest.Go(t, "lpserver", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-bind", ep, "-overload-every", "2", "-overload", "10ms"}, &out)
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, err := zchan.OpenWith(ctx, zchan.Req, zchan.String, zchan.WithConnect(ep))
	if err != nil {
		t.Fatal(err)
	}
	defer req.Close()
	for i := range 4 {
		msg := fmt.Sprint(i)
		if err := req.Send(ctx, msg); err != nil {
			t.Fatal(err)
		}
		select {
		case rep := <-req.In():
			if rep != msg {
				t.Fatalf("reply %q to %q", rep, msg)
			}
		case <-ctx.Done():
			t.Fatal("no reply")
		}
	}
	srv.Stop()
	if err := srv.Wait(t); err != nil {
		t.Fatalf("lpserver after interrupt: %v", err)
	}
	if n := out.Count("simulating CPU overload"); n != 2 {
		t.Errorf("%d overloads, want 2:\n%s", n, out.String())
	}
	out.WaitFor(t, "I: received 4, answered 4, abandoned 0, unread 0, unroutable 0", time.Second)
}

// TestCrash: after -crash-after requests the server exits with an error,
// and the next request gets no reply.
func TestCrash(t *testing.T) {
	ep := exampletest.TCP(t)
	var out exampletest.Output
	srv := exampletest.Go(t, "lpserver", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-bind", ep, "-overload-every", "0", "-crash-after", "2"}, &out)
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, err := zchan.OpenWith(ctx, zchan.Req, zchan.String, zchan.WithConnect(ep), zchan.WithLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	defer req.Close()
	for i := range 3 {
		if err := req.Send(ctx, fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			break
		}
		<-req.In()
	}
	select {
	case <-srv.Done():
	case rep := <-req.In():
		t.Fatalf("a reply after the crash: %q", rep)
	}
	if err := srv.Wait(t); !errors.Is(err, errCrash) {
		t.Fatalf("lpserver: %v, want the simulated crash", err)
	}
	if !strings.Contains(out.String(), "I: simulating a crash") {
		t.Errorf("output:\n%s", out.String())
	}
}
