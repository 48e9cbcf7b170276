package metrics_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	ztest "github.com/zmqchan/zmqchan/internal/testutil"
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
	// The receiver's owner counts a message just after the hand-off to
	// In, so the consumer can hold the last one a moment before it is
	// counted (seen once in a stress run): wait for the count, bounded.
	if !ztest.Eventually(10*time.Second, func() bool { return pull.Stats().MsgsIn == 3 }) {
		t.Fatalf("pull stats %+v: want 3 handed on", pull.Stats())
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
	if n := testutil.CollectAndCount(c); n != 2*12 {
		t.Fatalf("%d metrics, want 24 (12 per socket)", n)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", problems, err)
	}
	if !c.Remove("push") || c.Remove("push") {
		t.Fatal("Remove did not report presence")
	}
	if n := testutil.CollectAndCount(c); n != 12 {
		t.Fatalf("%d metrics after Remove, want 12", n)
	}
}

func newContext(t *testing.T) *zchan.Context {
	t.Helper()
	zc, err := zchan.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := zc.Term(ctx); err != nil {
			t.Error(err)
		}
	})
	return zc
}

func open(t *testing.T, zc *zchan.Context, typ zchan.Type, opts ...zchan.Option) *zchan.Socket[string] {
	t.Helper()
	s, err := zchan.OpenWith(t.Context(), typ, zchan.String, append(opts, zchan.WithContext(zc))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestInvalidUTF8Name: a socket whose name is not valid UTF-8 (a label
// value Prometheus refuses) is scraped under its name made valid, and
// the scrape carries every other socket's metrics too.
func TestInvalidUTF8Name(t *testing.T) {
	ctx := t.Context()
	zc := newContext(t)
	bad := open(t, zc, zchan.Pull, zchan.WithName("\xff\xfe"), zchan.WithBind("inproc://metrics-utf8"))
	good := open(t, zc, zchan.Push, zchan.WithName("push"), zchan.WithConnect("inproc://metrics-utf8"))
	c := metrics.NewCollector("", nil)
	for _, s := range []metrics.Source{bad, good} {
		if err := c.Add(s); err != nil {
			t.Fatal(err)
		}
	}
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	if err := good.Send(ctx, "abc"); err != nil {
		t.Fatal(err)
	}
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	select {
	case <-bad.In():
	case <-timer.C:
		t.Fatal("no message")
	}
	if err := good.Close(); err != nil { // its counts are final once closed
		t.Fatal(err)
	}
	// The receiver counts a hand-over just after it.
	for bad.Stats().BytesIn != 3 {
		select {
		case <-timer.C:
			t.Fatalf("BytesIn %d, want 3", bad.Stats().BytesIn)
		case <-time.After(time.Millisecond):
		}
	}
	// Outside a registry, which would recover a panic of Collect, and
	// through one.
	if n := len(collect(c)); n != 2*12 {
		t.Fatalf("Collect sent %d metrics, want 24", n)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	for _, mf := range mfs {
		var got []string
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "socket" {
					got = append(got, l.GetValue())
				}
			}
		}
		if want := []string{"push", "\uFFFD"}; !slices.Equal(got, want) {
			t.Errorf("%s: sockets %q, want %q", mf.GetName(), got, want)
		}
	}
	if len(mfs) != 12 {
		t.Errorf("%d metric families, want 12", len(mfs))
	}
	want := "# HELP zmqchan_received_bytes_total Bytes of the messages received, summed over frames.\n" +
		"# TYPE zmqchan_received_bytes_total counter\n" +
		"zmqchan_received_bytes_total{socket=\"push\"} 0\n" +
		"zmqchan_received_bytes_total{socket=\"\uFFFD\"} 3\n"
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "zmqchan_received_bytes_total"); err != nil {
		t.Fatal(err)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", problems, err)
	}
	// Another name that differs only in its invalid bytes would get the
	// same label, and fail the whole scrape: Add refuses it.
	twin := open(t, zc, zchan.Pair, zchan.WithName("\xfe"))
	if err := c.Add(twin); !errors.Is(err, metrics.ErrDuplicate) {
		t.Errorf("Add of a name with the same label: %v, want ErrDuplicate", err)
	}
	// The socket's own name removes it.
	if !c.Remove(bad.Name()) {
		t.Fatal("Remove of the socket's name did not find it")
	}
	if n := testutil.CollectAndCount(c); n != 12 {
		t.Fatalf("%d metrics after Remove, want 12", n)
	}
}

// collect calls c.Collect directly, as a registry would but without its
// checks, and returns what it sent.
func collect(c prometheus.Collector) []prometheus.Metric {
	ch := make(chan prometheus.Metric, 64) // Collect sends 9 per socket
	c.Collect(ch)
	close(ch)
	var out []prometheus.Metric
	for m := range ch {
		out = append(out, m)
	}
	return out
}

// TestCollectorMisuse: what used to panic is an error (Add, Register) or
// an invalid metric (Collect), and a zero Collector works.
func TestCollectorMisuse(t *testing.T) {
	zc := newContext(t)
	s := open(t, zc, zchan.Pair, zchan.WithName("pair"))

	var nilSocket *zchan.Socket[zchan.Msg] // as from a failed Open
	for _, src := range []metrics.Source{nil, nilSocket} {
		if err := metrics.NewCollector("", nil).Add(src); !errors.Is(err, metrics.ErrNilSource) {
			t.Errorf("Add(%#v): %v, want ErrNilSource", src, err)
		}
	}

	var zero metrics.Collector
	if err := zero.Add(s); err != nil {
		t.Fatalf("zero Collector: %v", err)
	}
	if n := testutil.CollectAndCount(&zero, "zmqchan_messages_received_total"); n != 1 {
		t.Fatalf("zero Collector: %d metrics, want 1", n)
	}

	bad := []struct {
		name        string
		namespace   string
		constLabels prometheus.Labels
	}{
		{"namespace not UTF-8", "\xff", nil},
		{"constant label named socket", "", prometheus.Labels{"socket": "x"}},
		{"constant label value not UTF-8", "", prometheus.Labels{"service": "\xff"}},
	}
	for _, b := range bad {
		c := metrics.NewCollector(b.namespace, b.constLabels)
		if err := c.Add(s); err != nil {
			t.Fatalf("%s: Add: %v", b.name, err)
		}
		if err := prometheus.NewPedanticRegistry().Register(c); err == nil {
			t.Errorf("%s: Register accepted it", b.name)
		}
		if n := len(collect(c)); n != 12 {
			t.Errorf("%s: Collect sent %d metrics, want 12", b.name, n)
		}
		// Through a registry that does not check descriptors, the scrape
		// reports the error instead of panicking.
		reg := prometheus.NewRegistry()
		reg.MustRegister(unchecked{c})
		if _, err := reg.Gather(); err == nil {
			t.Errorf("%s: Gather reported no error", b.name)
		}
	}
}

// unchecked is a collector that describes nothing, which a registry
// accepts without looking at its descriptors.
type unchecked struct{ c prometheus.Collector }

func (unchecked) Describe(chan<- *prometheus.Desc)      {}
func (u unchecked) Collect(ch chan<- prometheus.Metric) { u.c.Collect(ch) }
