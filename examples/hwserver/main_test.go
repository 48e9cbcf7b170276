package main

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/examples/internal/exampletest"
	"github.com/zmqchan/zmqchan/zchan"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

// TestWithClient runs hwserver in process against the hwclient program and
// checks both sides' output and exit.
func TestWithClient(t *testing.T) {
	ep := exampletest.TCP(t)
	var out exampletest.Output
	server := exampletest.Go(t, "hwserver", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-bind", ep, "-work", "1ms"}, &out)
	})

	client := exampletest.Start(t, time.Minute, exampletest.Build(t, "hwclient"), "-connect", ep, "-n", "3")
	if err := client.Wait(t); err != nil {
		t.Fatalf("hwclient: %v\n%s", err, client.Stderr)
	}
	for _, want := range []string{"Connecting to hello world server...", "Sending Hello 2...", "Received World 2"} {
		if client.Stdout.Count(want) != 1 {
			t.Errorf("hwclient output lacks %q:\n%s", want, client.Stdout)
		}
	}
	if n := out.Count("Received Hello"); n != 3 {
		t.Errorf("hwserver printed %d requests, want 3:\n%s", n, out.String())
	}

	server.Stop() // as Ctrl-C would
	if err := server.Wait(t); err != nil {
		t.Errorf("hwserver after interrupt: %v, want nil", err)
	}
}

// TestSIGTERM runs the hwserver binary, waits until it answers, sends it
// SIGTERM and checks that it exits 0.
func TestSIGTERM(t *testing.T) {
	ep := exampletest.TCP(t)
	server := exampletest.Start(t, time.Minute, exampletest.Build(t, "hwserver"), "-bind", ep, "-work", "0s")

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, err := zchan.OpenWith(ctx, zchan.Req, zchan.String, zchan.WithConnect(ep), zchan.WithLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	defer req.Close()
	if err := req.Send(ctx, "Hello"); err != nil {
		t.Fatal(err)
	}
	select {
	case reply := <-req.In():
		if reply != "World" {
			t.Errorf("reply %q, want World", reply)
		}
	case <-ctx.Done():
		t.Fatalf("no reply: %v", ctx.Err())
	}

	start := time.Now()
	if err := server.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := server.Wait(t); err != nil {
		t.Fatalf("hwserver after SIGTERM: %v (exit code %d)\n%s", err, server.ExitCode(), server.Stderr)
	}
	t.Logf("hwserver exited %v after SIGTERM", time.Since(start))
	if server.Stdout.Count("Received Hello") != 1 {
		t.Errorf("hwserver output:\n%s", server.Stdout)
	}
}

// TestBadEndpoint checks that a bind the library refuses is an error exit.
func TestBadEndpoint(t *testing.T) {
	var out exampletest.Output
	err := exampletest.Go(t, "hwserver", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-bind", "nonsense://x"}, &out)
	}).Wait(t)
	if !errors.Is(err, zchan.ErrBadEndpoint) {
		t.Errorf("run with a bad endpoint: %v, want ErrBadEndpoint", err)
	}
}

// TestGarbageRequest sends a request of two frames, which the String codec
// cannot decode: the server must answer it with an empty reply (so that
// the peer is not left waiting) and go on serving.
func TestGarbageRequest(t *testing.T) {
	ep := exampletest.TCP(t)
	var out exampletest.Output
	server := exampletest.Go(t, "hwserver", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-bind", ep, "-work", "0s"}, &out)
	})

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, err := zchan.Open(ctx, zchan.Req, zchan.WithConnect(ep), zchan.WithLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	defer req.Close()
	for _, tc := range []struct {
		request zchan.Msg
		want    string
	}{
		{zchan.NewMsg("Hello", "and more"), ""},
		{zchan.NewMsg("Hello"), "World"},
	} {
		if err := req.Send(ctx, tc.request); err != nil {
			t.Fatal(err)
		}
		select {
		case reply := <-req.In():
			if len(reply) != 1 || string(reply[0]) != tc.want {
				t.Fatalf("reply to %q: %q, want [%q]", tc.request, reply, tc.want)
			}
		case <-server.Done():
			t.Fatalf("hwserver ended on request %q: %v", tc.request, server.Wait(t))
		case <-ctx.Done():
			t.Fatalf("no reply to %q: %v", tc.request, ctx.Err())
		}
	}
	server.Stop()
	if err := server.Wait(t); err != nil {
		t.Errorf("hwserver after interrupt: %v, want nil", err)
	}
	if n := out.Count("Received"); n != 1 {
		t.Errorf("hwserver printed %d requests, want 1 (the undecodable one is not delivered):\n%s", n, out.String())
	}
}
