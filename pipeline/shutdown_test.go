package pipeline_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/pipeline"
	"github.com/zmqchan/zmqchan/shutdown"
)

// Chain, Pool and Device are shutdown components.
var (
	_ shutdown.Component = (*pipeline.Chain[int64, int64])(nil)
	_ shutdown.Component = (*pipeline.Pool[int, Square])(nil)
	_ shutdown.Component = (*pipeline.Device)(nil)
)

// TestShutdownGroup: a chain, a pool and a device in a shutdown.Group's
// zmq context are closed in order by the group, which then terminates the
// context without waiting on any of their sockets.
func TestShutdownGroup(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	g, err := shutdown.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bg := context.WithoutCancel(ctx)
	zc := pipeline.WithContext(g.ZMQ())
	c, err := pipeline.Start(bg, numberedPlan(), pipeline.WithCodec(i64), zc)
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.NewPool(bg, squareAfter(0), pipeline.WithWorkers(2), zc)
	if err != nil {
		c.Close()
		t.Fatal(err)
	}
	front := fmt.Sprintf("inproc://shutdown-front-%p", t)
	d, err := pipeline.Queue(bg, front, front+"-back", zc)
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
