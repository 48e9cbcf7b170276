package metrics_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	ztest "github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/metrics"
	"github.com/zmqchan/zmqchan/pipeline"
	"github.com/zmqchan/zmqchan/reqrep"
	"github.com/zmqchan/zmqchan/shutdown"
	"github.com/zmqchan/zmqchan/zchan"
)

// fake is a component of the test's own, with no Stats; the types that
// embed it add one.
type fake struct {
	name string
	done chan struct{}
}

func newFake(name string) fake { return fake{name: name, done: make(chan struct{})} }

func (f fake) Name() string                   { return f.name }
func (f fake) Done() <-chan struct{}          { return f.done }
func (f fake) Shutdown(context.Context) error { close(f.done); return nil }

type probeStats struct {
	Count int
	Label string
}

// probe is generic and its Stats returns a pointer, nil here: its kind
// is "probe" and its metrics are zero.
type probe[T any] struct{ fake }

func (probe[T]) Stats() *probeStats { return nil }

type (
	boom     struct{ fake } // Stats panics
	withArgs struct{ fake } // Stats takes an argument: not a stats method
	notStruc struct{ fake } // Stats returns an int
	sockLike struct{ fake } // Stats returns zchan.Stats: counted as a socket elsewhere
	counter  struct {
		fake
		n uint64
	}
)

func (boom) Stats() probeStats              { panic("stats") }
func (withArgs) Stats(int) probeStats       { return probeStats{Count: 1} }
func (notStruc) Stats() int                 { return 1 }
func (sockLike) Stats() zchan.Stats         { return zchan.Stats{MsgsIn: 1} }
func (c counter) Stats() struct{ N uint64 } { return struct{ N uint64 }{c.n} }

func newGroup(t *testing.T) *shutdown.Group {
	t.Helper()
	g, err := shutdown.New(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		g.Shutdown()
		select {
		case <-g.Done():
		case <-time.After(30 * time.Second):
			t.Error("group did not shut down")
		}
	})
	return g
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestForGroup registers one collector for a group before anything is in
// it, then adds a pool, a chain, a reqrep server and client, a zchan
// socket and components of the test's own: every component's stats are
// scraped under its kind and name, the sockets once each (the socket
// added as a component is not collected again as "socket"), and the
// final counts stay after shutdown.
func TestForGroup(t *testing.T) {
	ctx := t.Context()
	g := newGroup(t)
	reg := prometheus.NewPedanticRegistry()
	must(t, reg.Register(metrics.ForGroup(g)))

	sock, err := zchan.OpenWith(ctx, zchan.Pull, zchan.String, zchan.WithContext(g.ZMQ()),
		zchan.WithName("sock"), zchan.WithBind("inproc://forgroup-sock"))
	must(t, err)
	must(t, g.Add(sock))
	square := func(_ context.Context, n int) (int, error) { return n * n, nil }
	pool, err := pipeline.NewPool(ctx, square, pipeline.WithContext(g.ZMQ()), pipeline.WithName("squares"), pipeline.WithWorkers(2))
	must(t, err)
	must(t, g.Add(pool))
	double := func(_ context.Context, n int) (int, error) { return 2 * n, nil }
	chain, err := pipeline.Start(ctx, pipeline.Then(pipeline.From[int](), "double", double),
		pipeline.WithContext(g.ZMQ()), pipeline.WithName("doubler"))
	must(t, err)
	must(t, g.Add(chain))
	srv, err := reqrep.NewServer(ctx, zchan.String, zchan.String,
		func(_ context.Context, s string) (string, error) { return "hello " + s, nil },
		reqrep.WithName("greeter"), reqrep.WithBind("inproc://forgroup-rr"),
		reqrep.WithSocketOptions(zchan.WithContext(g.ZMQ())))
	must(t, err)
	cl, err := reqrep.NewClient(ctx, zchan.String, zchan.String, reqrep.WithName("asker"),
		reqrep.WithConnect("inproc://forgroup-rr"), reqrep.WithSocketOptions(zchan.WithContext(g.ZMQ())))
	must(t, err)
	must(t, g.Add(cl)) // the client first: it is where requests start
	must(t, g.Add(srv))
	for _, c := range []shutdown.Component{probe[int]{newFake("p")}, counter{newFake("c"), 7},
		withArgs{newFake("w")}, notStruc{newFake("n")}, sockLike{newFake("s")}, newFake("plain")} {
		must(t, g.Add(c))
	}

	go func() {
		for i := 1; i <= 3; i++ {
			if pool.Submit(ctx, i) != nil {
				return
			}
		}
	}()
	for range 3 {
		select {
		case <-pool.Results():
		case <-time.After(15 * time.Second):
			t.Fatal("no result from the pool")
		}
	}
	for _, v := range []int{1, 2} {
		must(t, chain.Send(ctx, v))
		select {
		case <-chain.Out():
		case <-time.After(15 * time.Second):
			t.Fatal("nothing out of the chain")
		}
	}
	rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if rep, err := cl.Request(rctx, "you"); err != nil || rep != "hello you" {
		t.Fatalf("request: %q %v", rep, err)
	}
	// The server counts the answer once its socket has taken the reply,
	// which may be after the client has it.
	if !ztest.Eventually(15*time.Second, func() bool { return srv.Stats().Answered == 1 }) {
		t.Fatalf("server stats %+v", srv.Stats())
	}

	want := `
# HELP zmqchan_pool_submitted PoolStats.Submitted of the pool.
# TYPE zmqchan_pool_submitted untyped
zmqchan_pool_submitted{name="squares"} 3
# HELP zmqchan_pool_results PoolStats.Results of the pool.
# TYPE zmqchan_pool_results untyped
zmqchan_pool_results{name="squares"} 3
# HELP zmqchan_chain_delivered ChainStats.Delivered of the chain.
# TYPE zmqchan_chain_delivered untyped
zmqchan_chain_delivered{name="doubler"} 2
# HELP zmqchan_server_answered ServerStats.Answered of the server.
# TYPE zmqchan_server_answered untyped
zmqchan_server_answered{name="greeter"} 1
# HELP zmqchan_client_answered ClientStats.Answered of the client.
# TYPE zmqchan_client_answered untyped
zmqchan_client_answered{name="asker"} 1
# HELP zmqchan_probe_count probeStats.Count of the probe.
# TYPE zmqchan_probe_count untyped
zmqchan_probe_count{name="p"} 0
# HELP zmqchan_counter_n .N of the counter.
# TYPE zmqchan_counter_n untyped
zmqchan_counter_n{name="c"} 7
`
	names := []string{"zmqchan_pool_submitted", "zmqchan_pool_results", "zmqchan_chain_delivered",
		"zmqchan_server_answered", "zmqchan_client_answered", "zmqchan_probe_count", "zmqchan_counter_n"}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Fatal(err)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", problems, err)
	}
	mfs, err := reg.Gather()
	must(t, err)
	// Every socket of the context once, under "socket"; none as a component.
	fams := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		fams[mf.GetName()] = mf
		for _, bad := range []string{"zmqchan_socket_", "zmqchan_socklike_", "zmqchan_withargs_", "zmqchan_notstruc_", "zmqchan_fake_"} {
			if strings.HasPrefix(mf.GetName(), bad) {
				t.Errorf("collected %s", mf.GetName())
			}
		}
	}
	recv := fams["zmqchan_messages_received_total"]
	if recv == nil {
		t.Fatal("no socket metrics")
	}
	bySocket := map[string]int{}
	for _, m := range recv.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "socket" {
				bySocket[l.GetValue()]++
			}
		}
	}
	open := g.ZMQ().Sockets()
	if len(bySocket) != len(open) || bySocket["sock"] != 1 {
		t.Errorf("sockets scraped %v, open %v", bySocket, open)
	}
	for s, n := range bySocket {
		if n != 1 {
			t.Errorf("socket %s scraped %d times", s, n)
		}
	}

	// After shutdown the sockets have left the context and the
	// components keep their final counts.
	g.Shutdown()
	if _, err := wait(t, g); err != nil {
		t.Fatal(err)
	}
	after := `
# HELP zmqchan_pool_submitted PoolStats.Submitted of the pool.
# TYPE zmqchan_pool_submitted untyped
zmqchan_pool_submitted{name="squares"} 3
# HELP zmqchan_pool_undelivered PoolStats.Undelivered of the pool.
# TYPE zmqchan_pool_undelivered untyped
zmqchan_pool_undelivered{name="squares"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(after), "zmqchan_pool_submitted", "zmqchan_pool_undelivered"); err != nil {
		t.Fatal(err)
	}
	if n, err := testutil.GatherAndCount(reg, "zmqchan_messages_received_total"); err != nil || n != 0 {
		t.Errorf("socket metrics after shutdown: %d %v", n, err)
	}
}

func wait(t *testing.T, g *shutdown.Group) (*shutdown.Report, error) {
	t.Helper()
	select {
	case <-g.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("shutdown did not complete")
	}
	return g.Wait()
}

// TestForGroupMisuse: a nil group collects nothing, a Stats that panics is
// an invalid metric (a failed scrape, no panic), and two components of
// the same kind and name are collected once rather than failing the
// scrape.
func TestForGroupMisuse(t *testing.T) {
	if ms := collect(metrics.ForGroup(nil)); len(ms) != 0 {
		t.Errorf("nil group: %d metrics", len(ms))
	}

	g := newGroup(t)
	reg := prometheus.NewPedanticRegistry()
	must(t, reg.Register(metrics.ForGroup(g)))
	must(t, g.Add(counter{newFake("twin"), 1}))
	must(t, g.Add(counter{newFake("twin"), 2}))
	want := `
# HELP zmqchan_counter_n .N of the counter.
# TYPE zmqchan_counter_n untyped
zmqchan_counter_n{name="twin"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "zmqchan_counter_n"); err != nil {
		t.Fatal(err)
	}
	must(t, g.Add(boom{newFake("b")}))
	if _, err := reg.Gather(); err == nil || !strings.Contains(err.Error(), "panicked: stats") {
		t.Fatalf("Gather with a panicking Stats: %v", err)
	}
}

// TestForGroupDevice: a pipeline Device in a group is collected as kind
// "device", with the counters of its Stats.
func TestForGroupDevice(t *testing.T) {
	g := newGroup(t)
	reg := prometheus.NewPedanticRegistry()
	must(t, reg.Register(metrics.ForGroup(g)))
	d, err := pipeline.Queue(context.Background(), ztest.Inproc(t), ztest.Inproc(t),
		pipeline.WithContext(g.ZMQ()), pipeline.WithName("queue"))
	must(t, err)
	must(t, g.Add(d))
	want := `
# HELP zmqchan_device_written_forward DeviceStats.WrittenForward of the device.
# TYPE zmqchan_device_written_forward untyped
zmqchan_device_written_forward{name="queue"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "zmqchan_device_written_forward"); err != nil {
		t.Fatal(err)
	}
}
