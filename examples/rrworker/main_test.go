package main

import (
	"context"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/examples/internal/exampletest"
	"github.com/zmqchan/zmqchan/zchan"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

// TestAgainstDEALER plays the broker's backend: it sends requests with a
// client's envelope, as rrbroker passes them on, and checks that each reply
// comes back in the same envelope.
func TestAgainstDEALER(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ep := exampletest.TCP(t)
	dealer, err := zchan.Open(ctx, zchan.Dealer, zchan.WithBind(ep))
	if err != nil {
		t.Fatal(err)
	}
	defer dealer.Close()

	var out exampletest.Output
	worker := exampletest.Go(t, "rrworker", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-connect", ep, "-work", "1ms"}, &out)
	})
	for _, client := range []string{"client-a", "client-b"} {
		if err := dealer.Send(ctx, zchan.NewMsg(client, "", "Hello")); err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-dealer.In():
			if len(m) != 3 || string(m[0]) != client || len(m[1]) != 0 || string(m[2]) != "World" {
				t.Errorf("reply %q, want [%q, \"\", \"World\"]", m, client)
			}
		case <-ctx.Done():
			t.Fatalf("no reply for %s", client)
		}
	}
	worker.Stop()
	if err := worker.Wait(t); err != nil {
		t.Errorf("rrworker after interrupt: %v", err)
	}
	if n := out.Count("Received request: [Hello]"); n != 2 {
		t.Errorf("rrworker printed %d requests, want 2:\n%s", n, out.String())
	}
}

// TestGarbageRequest sends, through the DEALER, a request of two frames,
// which the String codec cannot decode: the worker must answer it with an
// empty reply in the client's envelope and go on serving.
func TestGarbageRequest(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ep := exampletest.TCP(t)
	dealer, err := zchan.Open(ctx, zchan.Dealer, zchan.WithBind(ep))
	if err != nil {
		t.Fatal(err)
	}
	defer dealer.Close()

	worker := exampletest.Go(t, "rrworker", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-connect", ep, "-work", "0s"}, &exampletest.Output{})
	})
	for _, tc := range []struct {
		request zchan.Msg
		want    string
	}{
		{zchan.NewMsg("client", "", "Hello", "and more"), ""},
		{zchan.NewMsg("client", "", "Hello"), "World"},
	} {
		if err := dealer.Send(ctx, tc.request); err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-dealer.In():
			if len(m) != 3 || string(m[0]) != "client" || len(m[1]) != 0 || string(m[2]) != tc.want {
				t.Fatalf("reply to %q: %q, want [\"client\", \"\", %q]", tc.request, m, tc.want)
			}
		case <-worker.Done():
			t.Fatalf("rrworker ended on request %q: %v", tc.request, worker.Wait(t))
		case <-ctx.Done():
			t.Fatalf("no reply to %q", tc.request)
		}
	}
	worker.Stop()
	if err := worker.Wait(t); err != nil {
		t.Errorf("rrworker after interrupt: %v", err)
	}
}
