package pipeline_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/pipeline"
	"github.com/zmqchan/zmqchan/shutdown"
)

// Chain, Pool and Device are shutdown components, under the contract the
// shutdown package has on this branch (Close) and under the new one
// (Shutdown(ctx), with Undelivered and Progress).
var (
	_ shutdown.Component = (*pipeline.Chain[int64, int64])(nil)
	_ shutdown.Component = (*pipeline.Pool[int, Square])(nil)
	_ shutdown.Component = (*pipeline.Device)(nil)

	_ component = (*pipeline.Chain[int64, int64])(nil)
	_ component = (*pipeline.Pool[int, Square])(nil)
	_ component = (*pipeline.Device)(nil)
)

// component is the new shutdown contract with its optional methods.
type component interface {
	Name() string
	Shutdown(ctx context.Context) error
	Done() <-chan struct{}
	Undelivered() uint64
	Progress() uint64
}

// TestShutdownGroup: a chain, a pool and a device in a shutdown.Group's
// zmq context are closed in order by the group, which then terminates the
// context without waiting on any of their sockets. They are opened with
// the group's context itself: a constructor's context bounds only the
// opening, so the signal that starts the shutdown does not cut them off
// before the group closes them in order.
func TestShutdownGroup(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	g, err := shutdown.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	zc := pipeline.WithContext(g.ZMQ())
	c, err := pipeline.Start(ctx, numberedPlan(), pipeline.WithCodec(i64), zc)
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.NewPool(ctx, squareAfter(0), pipeline.WithWorkers(2), zc)
	if err != nil {
		c.Close()
		t.Fatal(err)
	}
	front := fmt.Sprintf("inproc://shutdown-front-%p", t)
	d, err := pipeline.Queue(ctx, front, front+"-back", zc)
	if err != nil {
		c.Close()
		p.Close()
		t.Fatal(err)
	}
	for _, comp := range []shutdown.Component{c, p, d} {
		if err := g.Add(comp); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Send(ctx, 41); err != nil {
		t.Fatal(err)
	}
	if v := <-c.Out(); v != 41 {
		t.Fatalf("chain: %d", v)
	}
	if err := p.Submit(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if r := <-p.Results(); r.Sq != 9 {
		t.Fatalf("pool: %+v", r)
	}
	g.Shutdown()
	rep, err := g.Wait()
	if err != nil {
		t.Fatalf("shutdown: %v\n%v", err, rep)
	}
	for _, comp := range []shutdown.Component{c, p, d} {
		select {
		case <-comp.Done():
		default:
			t.Fatalf("%s not done", comp.Name())
		}
	}
	t.Logf("report:\n%v", rep)
}

// TestShutdownGroupReportsLostTasks: the tasks a pool lost with a dead
// worker (at most once) show in the group's Report as the pool's
// undelivered count, and the pool's identity adds up.
func TestShutdownGroupReportsLostTasks(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	g, err := shutdown.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan pipeline.PoolEvent[int], 8)
	p, err := pipeline.NewPool(ctx, squareAfter(0), pipeline.WithWorkers(0), pipeline.WithContext(g.ZMQ()),
		pipeline.WithEndpoint(testutil.IPC(t)), pipeline.WithEvents[int](events), pipeline.WithName("pool"),
		pipeline.WithHeartbeat(50*time.Millisecond, 4))
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Add(p); err != nil {
		t.Fatal(err)
	}
	stop := muteWorker(t, ctx, p.Endpoint(), 3)
	for i := range 3 {
		if err := p.Submit(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	for ev := range events {
		if ev.Kind == pipeline.WorkerDead {
			break
		}
	}
	stop()
	g.Shutdown()
	rep, err := g.Wait()
	if err != nil {
		t.Fatalf("shutdown: %v\n%v", err, rep)
	}
	if n := rep.Undelivered()["pool"]; n != 3 {
		t.Fatalf("report: pool undelivered %d, want the 3 lost\n%v", n, rep)
	}
	st := p.Stats()
	if st.Lost != 3 || st.Submitted != st.Results+st.Skipped+st.Failed+st.Undelivered {
		t.Fatalf("stats %+v", st)
	}
}
