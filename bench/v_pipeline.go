package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/zmqchan/zmqchan/pipeline"
	"github.com/zmqchan/zmqchan/zchan"
)

// pipelineVariant is zmqchan's own pipeline package: pipeline.Start with
// chainStages identity stages, and pipeline.NewPool with poolWorkers
// local workers. It runs the chain and pool scenarios only; the other
// variants build the same topologies from their sockets by hand.
func pipelineVariant() *Variant {
	return &Variant{
		Name: "pipeline",
		Doc:  "zmqchan's pipeline package: pipeline.Start (chain of stages) and pipeline.NewPool (worker pool), default options",
		Run:  map[string]runFunc{"chain": runPipelineChain, "pool": runPipelinePool},
	}
}

func identity(_ context.Context, b []byte) ([]byte, error) { return b, nil }

func runPipelineChain(c *Case, v *Variant, eps *endpoints) (res result, err error) {
	zc, err := zchan.NewContext()
	if err != nil {
		return result{}, err
	}
	defer termContext(zc, &err)
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout(c))
	defer cancel()
	p := pipeline.From[[]byte]()
	for k := 0; k < chainStages; k++ {
		ep, err := eps.next(c.Transport)
		if err != nil {
			return result{}, err
		}
		p = pipeline.Then(p, fmt.Sprintf("stage%d", k), identity, pipeline.Input(ep))
	}
	out, err := eps.next(c.Transport)
	if err != nil {
		return result{}, err
	}
	ch, err := pipeline.Start(ctx, p, pipeline.WithContext(zc), pipeline.WithOutput(out))
	if err != nil {
		return result{}, err
	}
	defer func() {
		if cerr := ch.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	ring := newRing(c.Size, 0)
	sent := make(chan error, 1)
	startSending := make(chan struct{})
	go func() { // owned: its result is awaited below
		for i := 1; i < c.N; i++ {
			if i == 1 {
				select {
				case <-startSending:
				case <-ctx.Done():
					sent <- context.Cause(ctx)
					return
				}
			}
			if err := ch.Send(ctx, ring.next(uint64(i))[0]); err != nil {
				sent <- err
				return
			}
		}
		sent <- nil
	}()
	if err := ch.Send(ctx, ring.next(0)[0]); err != nil {
		close(startSending)
		return result{}, errors.Join(err, <-sent)
	}
	// A plain receive, as a user's range over Out would be; the run's
	// timeout closes the chain, which ends Out.
	stopAfter := context.AfterFunc(ctx, func() { ch.Close() })
	defer stopAfter()
	recv := func(i int) error {
		b, ok := <-ch.Out()
		if !ok {
			return fmt.Errorf("chain ended: %w", errors.Join(ch.Err(), context.Cause(ctx)))
		}
		return check([][]byte{b}, c.Size, 0, uint64(i))
	}
	if err := recv(0); err != nil {
		close(startSending)
		return result{}, errors.Join(err, <-sent)
	}
	a := snap()
	close(startSending)
	for i := 1; i < c.N; i++ {
		if err := recv(i); err != nil {
			cancel()
			return result{}, errors.Join(err, <-sent)
		}
	}
	b := snap()
	if err := <-sent; err != nil {
		return result{}, err
	}
	return result{msgs: c.N - 1, bytes: int64(c.N-1) * int64(c.Size), w: between(a, b)}, nil
}

func runPipelinePool(c *Case, v *Variant, eps *endpoints) (res result, err error) {
	zc, err := zchan.NewContext()
	if err != nil {
		return result{}, err
	}
	defer termContext(zc, &err)
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout(c))
	defer cancel()
	pe, err := eps.next(c.Transport)
	if err != nil {
		return result{}, err
	}
	pool, err := pipeline.NewPool(ctx, identity, pipeline.WithContext(zc), pipeline.WithWorkers(poolWorkers), pipeline.WithEndpoint(pe))
	if err != nil {
		return result{}, err
	}
	defer func() {
		if cerr := pool.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	ring := newRing(c.Size, 0)
	sent := make(chan error, 1)
	startSending := make(chan struct{})
	go func() { // owned: its result is awaited below
		for i := 1; i < c.N; i++ {
			if i == 1 {
				select {
				case <-startSending:
				case <-ctx.Done():
					sent <- context.Cause(ctx)
					return
				}
			}
			if err := pool.Submit(ctx, ring.next(uint64(i))[0]); err != nil {
				sent <- err
				return
			}
		}
		sent <- nil
	}()
	if err := pool.Submit(ctx, ring.next(0)[0]); err != nil {
		close(startSending)
		return result{}, errors.Join(err, <-sent)
	}
	seen := make([]bool, c.N)
	// A plain receive, as a user's range over Results would be; the run's
	// timeout closes the pool, which ends Results.
	stopAfter := context.AfterFunc(ctx, func() { pool.Close() })
	defer stopAfter()
	recv := func(i int) error {
		b, ok := <-pool.Results()
		if !ok {
			return fmt.Errorf("pool ended: %w", errors.Join(pool.Err(), context.Cause(ctx)))
		}
		_, seq, hok := header([][]byte{b})
		if !hok || seq >= uint64(c.N) {
			return mismatch("result %d: no valid header", i)
		}
		if seen[seq] {
			return mismatch("task %d: two results", seq)
		}
		seen[seq] = true
		return check([][]byte{b}, c.Size, 0, seq)
	}
	if err := recv(0); err != nil {
		close(startSending)
		return result{}, errors.Join(err, <-sent)
	}
	a := snap()
	close(startSending)
	for i := 1; i < c.N; i++ {
		if err := recv(i); err != nil {
			cancel()
			return result{}, errors.Join(err, <-sent)
		}
	}
	b := snap()
	if err := <-sent; err != nil {
		return result{}, err
	}
	return result{msgs: c.N - 1, bytes: int64(c.N-1) * int64(c.Size), w: between(a, b)}, nil
}

// termContext terminates zc, bounded, and reports a failure in *err.
func termContext(zc *zchan.Context, err *error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if terr := zc.Term(ctx); terr != nil && *err == nil {
		*err = terr
	}
}
