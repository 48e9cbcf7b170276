package metrics_test

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zmqchan/zmqchan/metrics"
	"github.com/zmqchan/zmqchan/pipeline"
	"github.com/zmqchan/zmqchan/shutdown"
)

// ExampleForGroup registers one collector for a shutdown.Group: the pool
// added afterwards is scraped by its kind and name with no Add.
func ExampleForGroup() {
	ctx := context.Background()
	g, err := shutdown.New(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer g.Wait()     // on the early returns below
	defer g.Shutdown() // (both may be called again)
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.ForGroup(g))

	square := func(_ context.Context, n int) (int, error) { return n * n, nil }
	pool, err := pipeline.NewPool(ctx, square, pipeline.WithContext(g.ZMQ()), pipeline.WithName("squares"))
	if err != nil {
		fmt.Println(err)
		return
	}
	g.Add(pool)
	go pool.Submit(ctx, 3)
	fmt.Println(<-pool.Results())

	// A pool's counts follow its hand-offs by a moment, and are exact once
	// it is done: scrape after the shutdown (the group still lists it).
	g.Shutdown()
	g.Wait()
	mfs, err := reg.Gather()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, mf := range mfs {
		if mf.GetName() == "zmqchan_pool_results" {
			m := mf.GetMetric()[0]
			fmt.Println(mf.GetName(), m.GetLabel()[0].GetValue(), m.GetUntyped().GetValue())
		}
	}
	// Output:
	// 9
	// zmqchan_pool_results squares 1
}
