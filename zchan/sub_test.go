package zchan_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/zchan"
)

// TestSubscribeAtRunTime changes a SUB's subscriptions while a PUB
// publishes "a:N" then "b:N" for N = 0, 1, 2, ... Subscriptions reach the
// PUB asynchronously, so each step waits for the first message that shows
// the change, then checks that nothing contradicts it from there on (one
// PUB over one connection delivers in order, and with no HWM drops
// nothing).
func TestSubscribeAtRunTime(t *testing.T) {
	eachTransport(t, func(t *testing.T, zc *zchan.Context, tr testutil.Transport) {
		ctx := testContext(t, time.Minute)
		// No HWM on either side: a PUB drops at its HWM, and a dropped
		// message would break the order the checks below rely on. The
		// publisher is paced and the test reads a few hundred messages.
		pub, sub := pair(t, ctx, zc, tr, zchan.Pub, zchan.Sub, zchan.String,
			[]zchan.Option{zchan.WithSendHWM(0)}, []zchan.Option{zchan.WithRecvHWM(0)})
		pctx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Go(func() {
			for n := 0; ; n++ {
				for _, topic := range []string{"a", "b"} {
					if err := pub.Send(pctx, fmt.Sprintf("%s:%d", topic, n)); err != nil {
						return
					}
				}
				if n%50 == 49 {
					// Pace the publisher: a PUB never blocks, it drops at
					// the HWM, and a spinning one would starve the test.
					time.Sleep(time.Millisecond)
				}
			}
		})
		defer func() { stop(); wg.Wait() }()

		next := func(what string) (topic string, n int) {
			t.Helper()
			v := testutil.MustRecv(t, sub.In(), watchdog, what)
			topic, num, _ := strings.Cut(v, ":")
			fmt.Sscan(num, &n)
			return topic, n
		}
		// No subscription: nothing arrives.
		if v, ok, _ := testutil.Recv(sub.In(), 200*time.Millisecond); ok {
			t.Fatalf("SUB with no subscription got %q", v)
		}
		// Subscribe to "a": only a's.
		if err := sub.Subscribe(ctx, "a"); err != nil {
			t.Fatal(err)
		}
		for range 100 {
			if topic, n := next("a message after Subscribe(a)"); topic != "a" {
				t.Fatalf("subscribed to a, got %s:%d", topic, n)
			}
		}
		// Add "b": b's begin to arrive; from the first b on, strict a, b order.
		if err := sub.Subscribe(ctx, "b"); err != nil {
			t.Fatal(err)
		}
		topic, n := next("messages after Subscribe(b)")
		for deadline := 0; topic != "b"; deadline++ {
			if deadline > 1_000_000 {
				t.Fatal("no b message after Subscribe(b)")
			}
			topic, n = next("messages after Subscribe(b)")
		}
		for range 100 {
			wantTopic, wantN := "a", n+1
			got, gn := next("a and b")
			if got != wantTopic || gn != wantN {
				t.Fatalf("subscribed to a and b: after b:%d got %s:%d, want a:%d", n, got, gn, wantN)
			}
			if got, gn = next("a and b"); got != "b" || gn != wantN {
				t.Fatalf("subscribed to a and b: after a:%d got %s:%d, want b:%d", wantN, got, gn, wantN)
			}
			n = wantN
		}
		// Drop "a": once a b arrives that its a did not precede, only b's.
		if err := sub.Unsubscribe(ctx, "a"); err != nil {
			t.Fatal(err)
		}
		prev := "b"
		for {
			topic, _ := next("messages after Unsubscribe(a)")
			if topic == "b" && prev == "b" {
				break
			}
			prev = topic
		}
		for range 100 {
			if topic, n := next("b after Unsubscribe(a)"); topic != "b" {
				t.Fatalf("unsubscribed from a, got %s:%d", topic, n)
			}
		}
	})
}
