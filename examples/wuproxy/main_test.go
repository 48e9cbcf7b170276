package main

import (
	"context"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/examples/internal/exampletest"
	"github.com/zmqchan/zmqchan/zchan"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

// TestProxy puts wuproxy between a weather server and a subscriber written
// in the test. The server is an XPUB, so the test sees the subscriber's
// subscription arrive through the proxy; then only the update the
// subscriber asked for may come out the other side.
func TestProxy(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	serverEP, proxyEP := exampletest.TCP(t), exampletest.TCP(t)
	server, err := zchan.OpenWith(ctx, zchan.XPub, zchan.String, zchan.WithBind(serverEP))
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()

	var out exampletest.Output
	proxy := exampletest.Go(t, "wuproxy", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-frontend", serverEP, "-backend", proxyEP}, &out)
	})
	client, err := zchan.OpenWith(ctx, zchan.Sub, zchan.String, zchan.WithSubscribe("10001 "), zchan.WithConnect(proxyEP))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()

	select {
	case sub := <-server.In():
		if sub != "\x0110001 " {
			t.Fatalf("subscription at the server %q, want \"\\x0110001 \"", sub)
		}
	case <-ctx.Done():
		t.Fatal("the subscription did not reach the server")
	}
	for _, u := range []string{"10002 1 1", "10001 20 30"} {
		if err := server.Send(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case u := <-client.In():
		if u != "10001 20 30" {
			t.Errorf("update %q, want \"10001 20 30\"", u)
		}
	case <-ctx.Done():
		t.Fatal("no update through the proxy")
	}

	proxy.Stop()
	if err := proxy.Wait(t); err != nil {
		t.Errorf("wuproxy after interrupt: %v", err)
	}
	out.WaitFor(t, "Forwarded 2 messages", time.Second) // one subscription, one update
}
