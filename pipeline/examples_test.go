package pipeline_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/zmqchan/zmqchan/pipeline"
	"github.com/zmqchan/zmqchan/zchan"
)

// A chain of two typed stages over inproc links: what is sent before
// Shutdown comes out of Out, in order, and then Out closes.
func ExampleStart() {
	ctx := context.Background()
	double := func(_ context.Context, n int) (int, error) { return 2 * n, nil }
	show := func(_ context.Context, n int) (string, error) { return fmt.Sprintf("<%d>", n), nil }
	plan := pipeline.Then(pipeline.Then(pipeline.From[int](), "double", double), "show", show)

	c, err := pipeline.Start(ctx, plan)
	if err != nil {
		fmt.Println(err)
		return
	}
	go func() {
		for i := 1; i <= 3; i++ {
			c.Send(ctx, i)
		}
		c.Shutdown(ctx) // drains: the end of stream follows the last value
	}()
	for s := range c.Out() {
		fmt.Println(s)
	}
	fmt.Println(c.Wait())
	// Output:
	// <2>
	// <4>
	// <6>
	// <nil>
}

// A worker pool: four workers over inproc, each holding at most its
// credit of tasks; Shutdown waits for the tasks' results, then sends KILL
// and waits for the workers' goodbyes; Close would stop them at once.
// Give the pool WithEndpoint on tcp and run pipeline.Work elsewhere to
// move the workers out of the process.
func ExampleNewPool() {
	ctx := context.Background()
	square := func(_ context.Context, n int) (int, error) { return n * n, nil }
	pool, err := pipeline.NewPool(ctx, square, pipeline.WithWorkers(4))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pool.Close()
	go func() {
		for i := range 100 {
			pool.Submit(ctx, i)
		}
	}()
	sum := 0
	for range 100 {
		sum += <-pool.Results()
	}
	fmt.Println(sum)
	// Output: 328350
}

// The guide's request-reply broker: REQ clients on the frontend, REP
// workers on the backend, a queue device between them.
func ExampleQueue() {
	ctx := context.Background()
	broker, err := pipeline.Queue(ctx, "inproc://example-frontend", "inproc://example-backend")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer broker.Close()
	worker, err := zchan.OpenWith(ctx, zchan.Rep, zchan.String, zchan.WithConnect("inproc://example-backend"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer worker.Close()
	go func() {
		for req := range worker.In() {
			worker.Send(ctx, strings.ToUpper(req))
		}
	}()
	client, err := zchan.OpenWith(ctx, zchan.Req, zchan.String, zchan.WithConnect("inproc://example-frontend"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	for _, w := range []string{"hello", "world"} {
		client.Send(ctx, w)
		fmt.Println(<-client.In())
	}
	// Output:
	// HELLO
	// WORLD
}
