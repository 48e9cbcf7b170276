package metrics_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/zmqchan/zmqchan/metrics"
	"github.com/zmqchan/zmqchan/monitor"
	"github.com/zmqchan/zmqchan/pipeline"
	"github.com/zmqchan/zmqchan/secure"
	"github.com/zmqchan/zmqchan/zchan"
)

// TestForContext registers one collector for a context: sockets opened
// after the registration are scraped with no Add, a socket that ends
// leaves the scrape, and two sockets of the same name do not fail it.
func TestForContext(t *testing.T) {
	zc := newContext(t)
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(metrics.ForContext(zc)); err != nil {
		t.Fatal(err)
	}
	pull := open(t, zc, zchan.Pull, zchan.WithName("in"), zchan.WithBind("inproc://for-context"))
	push := open(t, zc, zchan.Push, zchan.WithName("out"), zchan.WithConnect("inproc://for-context"))
	open(t, zc, zchan.Pull, zchan.WithName("in")) // same name: left out, not a failed scrape
	if err := push.Send(t.Context(), "four"); err != nil {
		t.Fatal(err)
	}
	<-pull.In()
	push.Close()
	want := `
# HELP zmqchan_received_bytes_total Bytes of the messages received, summed over frames.
# TYPE zmqchan_received_bytes_total counter
zmqchan_received_bytes_total{socket="in"} 4
# HELP zmqchan_messages_accepted_total Messages Send accepted.
# TYPE zmqchan_messages_accepted_total counter
zmqchan_messages_accepted_total{socket="in"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "zmqchan_received_bytes_total", "zmqchan_messages_accepted_total"); err != nil {
		t.Fatal(err)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", problems, err)
	}
}

// TestComponents collects a monitor, an authenticator and a chain's
// stats type by reflection, in a pedantic registry beside the socket
// collector, and checks names, values and the fields left out.
func TestComponents(t *testing.T) {
	zc := newContext(t)
	srv := open(t, zc, zchan.Pull, zchan.WithName("srv"), zchan.WithBind("tcp://127.0.0.1:*"))
	mon, err := monitor.Attach(t.Context(), srv)
	if err != nil {
		t.Fatal(err)
	}
	defer mon.Close()
	auth, err := secure.NewAuthenticator(zc)
	if err != nil {
		t.Fatal(err)
	}
	defer auth.Close()
	comps := metrics.NewComponents("", nil)
	type odd struct {
		Level      int8
		Negative   int
		TCPConns   uint16
		Healthy    bool
		Note       string
		unexported uint64
		Nested     struct{ X int }
	}
	for _, err := range []error{
		metrics.AddStats(comps, "monitor", mon.Name(), mon.Stats),
		metrics.AddStats(comps, "auth", "zap", auth.Stats),
		metrics.AddStats(comps, "chain", "c1", func() pipeline.ChainStats { return pipeline.ChainStats{Sent: 3, Delivered: 2} }),
		metrics.AddStats(comps, "odd", "o\xff", func() *odd { return &odd{Level: 7, Negative: -2, TCPConns: 5, Healthy: true, unexported: 9} }),
		metrics.AddStats(comps, "odd", "nil", func() *odd { return nil }),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(metrics.ForContext(zc)); err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(comps); err != nil {
		t.Fatal(err)
	}
	open(t, zc, zchan.Push, zchan.WithConnect(srv.Endpoints()[0]))
	if err := mon.WaitConnected(t.Context()); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP zmqchan_chain_sent ChainStats.Sent of the chain.
# TYPE zmqchan_chain_sent untyped
zmqchan_chain_sent{name="c1"} 3
# HELP zmqchan_monitor_handshakes Stats.Handshakes of the monitor.
# TYPE zmqchan_monitor_handshakes untyped
zmqchan_monitor_handshakes{name="` + mon.Name() + `"} 1
# HELP zmqchan_auth_denied AuthStats.Denied of the auth.
# TYPE zmqchan_auth_denied untyped
zmqchan_auth_denied{name="zap"} 0
# HELP zmqchan_odd_level odd.Level of the odd.
# TYPE zmqchan_odd_level untyped
zmqchan_odd_level{name="nil"} 0
zmqchan_odd_level{name="o\uFFFD"} 7
# HELP zmqchan_odd_negative odd.Negative of the odd.
# TYPE zmqchan_odd_negative untyped
zmqchan_odd_negative{name="nil"} 0
zmqchan_odd_negative{name="o\uFFFD"} -2
# HELP zmqchan_odd_tcp_conns odd.TCPConns of the odd.
# TYPE zmqchan_odd_tcp_conns untyped
zmqchan_odd_tcp_conns{name="nil"} 0
zmqchan_odd_tcp_conns{name="o\uFFFD"} 5
`
	want = strings.ReplaceAll(want, `\uFFFD`, "\uFFFD")
	names := []string{"zmqchan_chain_sent", "zmqchan_monitor_handshakes", "zmqchan_auth_denied",
		"zmqchan_odd_level", "zmqchan_odd_negative", "zmqchan_odd_tcp_conns"}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, mf := range mfs {
		got[mf.GetName()] = true
	}
	for _, left := range []string{"zmqchan_odd_healthy", "zmqchan_odd_note", "zmqchan_odd_unexported", "zmqchan_odd_nested"} {
		if got[left] {
			t.Errorf("%s collected", left)
		}
	}
	if !got["zmqchan_messages_received_total"] || !got["zmqchan_chain_undelivered"] || !got["zmqchan_monitor_dropped"] {
		t.Errorf("missing families: %v", got)
	}
	if !comps.Remove("odd", "nil") || comps.Remove("odd", "nil") {
		t.Error("Remove did not report presence")
	}
}

// TestComponentsMisuse: every bad input is an error of AddStats, and a
// stats function that panics is an invalid metric, not a panic.
func TestComponentsMisuse(t *testing.T) {
	comps := metrics.NewComponents("ns", nil)
	ok := func() pipeline.ChainStats { return pipeline.ChainStats{} }
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"nil func", metrics.AddStats[pipeline.ChainStats](comps, "chain", "x", nil), metrics.ErrNilSource},
		{"bad kind", metrics.AddStats(comps, "chain-x", "x", ok), metrics.ErrNotStats},
		{"empty kind", metrics.AddStats(comps, "", "x", ok), metrics.ErrNotStats},
		{"not a struct", metrics.AddStats(comps, "n", "x", func() int { return 1 }), metrics.ErrNotStats},
		{"no integer field", metrics.AddStats(comps, "n", "x", func() struct{ S string } { return struct{ S string }{} }), metrics.ErrNotStats},
	}
	for _, c := range cases {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, c.err, c.want)
		}
	}
	if err := metrics.AddStats(comps, "chain", "x", ok); err != nil {
		t.Fatal(err)
	}
	if err := metrics.AddStats(comps, "chain", "x", ok); !errors.Is(err, metrics.ErrDuplicate) {
		t.Fatalf("duplicate: %v", err)
	}
	if err := metrics.AddStats(comps, "boom", "y", func() pipeline.ChainStats { panic("stats") }); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(comps); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Gather(); err == nil || !strings.Contains(err.Error(), "panicked: stats") {
		t.Fatalf("Gather with a panicking stats function: %v", err)
	}
}
