package main

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/examples/internal/exampletest"
	"github.com/zmqchan/zmqchan/zchan"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

// TestInterrupt runs the server as a child process, checks that it
// answers, sends it SIGINT or SIGTERM, and checks that it says so and
// exits with status 0.
func TestInterrupt(t *testing.T) {
	bin := exampletest.Build(t, "interrupt")
	for _, sig := range []os.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			ep := exampletest.TCP(t)
			p := exampletest.Start(t, time.Minute, bin, "-bind", ep)
			hello(t, ep)
			if err := p.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if err := p.Wait(t); err != nil {
				t.Fatalf("exit: %v\n%s", err, p.Stderr.String())
			}
			p.Stdout.WaitFor(t, "Received request: [Hello]", time.Second)
			p.Stdout.WaitFor(t, "W: "+sig.String()+" received, killing server...", time.Second)
		})
	}
}

// TestInterruptInProcess cancels run's context, as a signal would, after
// a request.
func TestInterruptInProcess(t *testing.T) {
	ep := exampletest.TCP(t)
	var out exampletest.Output
	tk := exampletest.Go(t, "interrupt", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-bind", ep}, &out)
	})
	hello(t, ep)
	tk.Stop()
	if err := tk.Wait(t); err != nil {
		t.Fatalf("run: %v", err)
	}
	out.WaitFor(t, "W: interrupt received", time.Second)
}

// hello sends one request and checks the reply, which also tells that the
// server is up with its signal handler installed.
func hello(t *testing.T, ep string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := zchan.OpenWith(ctx, zchan.Req, zchan.String, zchan.WithConnect(ep))
	if err != nil {
		t.Fatal(err)
	}
	defer req.Close()
	if err := req.Send(ctx, "Hello"); err != nil {
		t.Fatal(err)
	}
	select {
	case rep := <-req.In():
		if rep != "World" {
			t.Fatalf("reply %q, want World", rep)
		}
	case <-ctx.Done():
		t.Fatal("no reply")
	}
}

// TestGarbageRequest sends a request of two frames, which the String codec
// cannot decode: the server must answer it with an empty reply and go on.
func TestGarbageRequest(t *testing.T) {
	ep := exampletest.TCP(t)
	tk := exampletest.Go(t, "interrupt", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-bind", ep}, &exampletest.Output{})
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := zchan.Open(ctx, zchan.Req, zchan.WithConnect(ep), zchan.WithLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	defer req.Close()
	if err := req.Send(ctx, zchan.NewMsg("Hello", "and more")); err != nil {
		t.Fatal(err)
	}
	select {
	case rep := <-req.In():
		if len(rep) != 1 || len(rep[0]) != 0 {
			t.Fatalf("reply %q, want one empty frame", rep)
		}
	case <-tk.Done():
		t.Fatalf("server ended on an undecodable request: %v", tk.Wait(t))
	case <-ctx.Done():
		t.Fatal("no reply")
	}
	hello(t, ep)
	tk.Stop()
	if err := tk.Wait(t); err != nil {
		t.Fatalf("run: %v", err)
	}
}
