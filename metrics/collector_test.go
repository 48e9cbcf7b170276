package metrics_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/zmqchan/zmqchan/metrics"
	"github.com/zmqchan/zmqchan/zchan"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestCollector moves messages through a real PUSH/PULL pair and checks
// the counters a registry scrapes.
func TestCollector(t *testing.T) {
	ctx := t.Context()
	zc, err := zchan.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		tctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := zc.Term(tctx); err != nil {
			t.Error(err)
		}
	}()
	pull, err := zchan.OpenWith(ctx, zchan.Pull, zchan.String, zchan.WithContext(zc),
		zchan.WithName("pull"), zchan.WithBind("inproc://metrics-test"))
	if err != nil {
		t.Fatal(err)
	}
	defer pull.Close()
	push, err := zchan.OpenWith(ctx, zchan.Push, zchan.String, zchan.WithContext(zc),
		zchan.WithName("push"), zchan.WithConnect("inproc://metrics-test"))
	if err != nil {
		t.Fatal(err)
	}
	defer push.Close()

	c := metrics.NewCollector("", prometheus.Labels{"service": "test"})
	if err := c.Add(pull); err != nil {
		t.Fatal(err)
	}
	if err := c.Add(push); err != nil {
		t.Fatal(err)
	}
	if err := c.Add(pull); !errors.Is(err, metrics.ErrDuplicate) {
		t.Fatalf("duplicate: %v", err)
	}
	if err := c.Add(nil); !errors.Is(err, metrics.ErrNilSource) {
		t.Fatalf("nil: %v", err)
	}
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}

	for _, m := range []string{"a", "bb", "ccc"} {
		if err := push.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
		select {
		case <-pull.In():
		case <-time.After(10 * time.Second):
			t.Fatal("no message")
		}
	}
	// The sender counts a message once libzmq has taken it, which can be
	// after the receiver has it: close the sender so its counts are final.
	if err := push.Close(); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP zmqchan_messages_received_total Messages received from the socket and handed to the consumer.
# TYPE zmqchan_messages_received_total counter
zmqchan_messages_received_total{service="test",socket="pull"} 3
zmqchan_messages_received_total{service="test",socket="push"} 0
# HELP zmqchan_received_bytes_total Bytes of the messages received, summed over frames.
# TYPE zmqchan_received_bytes_total counter
zmqchan_received_bytes_total{service="test",socket="pull"} 6
zmqchan_received_bytes_total{service="test",socket="push"} 0
# HELP zmqchan_messages_sent_total Messages accepted by libzmq for sending.
# TYPE zmqchan_messages_sent_total counter
zmqchan_messages_sent_total{service="test",socket="pull"} 0
zmqchan_messages_sent_total{service="test",socket="push"} 3
# HELP zmqchan_sent_bytes_total Bytes of the messages sent, summed over frames.
# TYPE zmqchan_sent_bytes_total counter
zmqchan_sent_bytes_total{service="test",socket="pull"} 0
zmqchan_sent_bytes_total{service="test",socket="push"} 6
`
	names := []string{"zmqchan_messages_received_total", "zmqchan_received_bytes_total",
		"zmqchan_messages_sent_total", "zmqchan_sent_bytes_total"}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(c); n != 2*9 {
		t.Fatalf("%d metrics, want 18 (9 per socket)", n)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", problems, err)
	}
	if !c.Remove("push") || c.Remove("push") {
		t.Fatal("Remove did not report presence")
	}
	if n := testutil.CollectAndCount(c); n != 9 {
		t.Fatalf("%d metrics after Remove, want 9", n)
	}
}
