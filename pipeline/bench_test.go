package pipeline_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/pipeline"
)

// BenchmarkChain4 measures the 4-stage inproc chain of the numbered test
// (8-byte values): one op is one value out of the chain, a sender keeping
// it full.
func BenchmarkChain4(b *testing.B) {
	ctx := context.Background()
	c, err := pipeline.Start(ctx, numberedPlan(), pipeline.WithCodec(i64))
	if err != nil {
		b.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for i := int64(0); c.Send(sctx, i) == nil; i++ {
		}
	}()
	b.ReportAllocs()
	start := time.Now()
	var n int
	for b.Loop() {
		<-c.Out()
		n++
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "msgs/s")
	stop()
	<-sent
	go func() {
		for range c.Out() {
		}
	}()
	if err := c.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkPool4 measures a pool of 4 inproc workers running a trivial
// function at each credit of the table in DefaultCredit's doc: one op is
// one result, a submitter keeping the pool busy.
func BenchmarkPool4(b *testing.B) {
	for _, credit := range []int{4, 8, 16, 32, 64} {
		b.Run(fmt.Sprintf("credit%d", credit), func(b *testing.B) { benchPool4(b, credit) })
	}
}

func benchPool4(b *testing.B, credit int) {
	ctx := context.Background()
	inc := func(_ context.Context, n int) (int, error) { return n + 1, nil }
	p, err := pipeline.NewPool(ctx, inc, pipeline.WithWorkers(4), pipeline.WithWorkerCredit(credit))
	if err != nil {
		b.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for i := 0; p.Submit(sctx, i) == nil; i++ {
		}
	}()
	b.ReportAllocs()
	start := time.Now()
	var n int
	for b.Loop() {
		<-p.Results()
		n++
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "msgs/s")
	stop()
	<-sent
	go func() {
		for range p.Results() {
		}
	}()
	if err := p.Close(); err != nil {
		b.Fatal(err)
	}
}
