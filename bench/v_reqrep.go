package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/zmqchan/zmqchan/reqrep"
	"github.com/zmqchan/zmqchan/zchan"
)

// reqrepVariant is zmqchan's reqrep package: a reqrep.Server echoing raw
// frames and a reqrep.Client, default options. In the round-trip scenarios
// the client is a REQ (rtt-req-rep, against a REP server) or a DEALER
// (rtt-dealer-router, against a ROUTER server): the cost of the request id,
// the routing goroutine and the server's handler goroutines over zmqchan's
// bare sockets. In the requests scenarios one DEALER client is shared by
// all the callers.
func reqrepVariant() *Variant {
	run := map[string]runFunc{
		"rtt-req-rep":       runReqrepRTT(zchan.Req, zchan.Rep, false),
		"rtt-dealer-router": runReqrepRTT(zchan.Dealer, zchan.Router, false),
	}
	for _, n := range requestCallers {
		run[requestsScenario(n)] = runReqrepConcurrent(n)
	}
	return &Variant{
		Name: "reqrep",
		Doc:  "zmqchan's reqrep package: reqrep.NewServer (REP or ROUTER, echo handler) and reqrep.NewClient (REQ, or one DEALER shared by every caller), default options",
		Run:  run,
	}
}

// reqrepClientVariant is the reqrep.Client alone: against a bare zchan
// REP or ROUTER echoing what it reads, from one goroutine, as the zmqchan
// variant's server does. Beside zmqchan and reqrep it separates the
// client's cost (the request id and delimiter frames, the correlation)
// from the reqrep.Server's.
func reqrepClientVariant() *Variant {
	return &Variant{
		Name: "reqrep-client",
		Doc:  "zmqchan's reqrep.NewClient (REQ, or DEALER) against a bare zchan REP or ROUTER echoing every message from one goroutine, default options; in the round-trip scenarios only",
		Run: map[string]runFunc{
			"rtt-req-rep":       runReqrepRTT(zchan.Req, zchan.Rep, true),
			"rtt-dealer-router": runReqrepRTT(zchan.Dealer, zchan.Router, true),
		},
	}
}

func echoFrames(_ context.Context, m zchan.Msg) (zchan.Msg, error) { return m, nil }

// reqrepPair opens an echo server and a client over the case's transport:
// a reqrep.Server, or with bare a zchan socket of type stype echoing what
// it reads from one goroutine (the reqrep-client variant). stop closes the
// server and waits for it.
func reqrepPair(c *Case, eps *endpoints, ctype, stype zchan.Type, bare bool) (zc *zchan.Context, cl *reqrep.Client[zchan.Msg, zchan.Msg], stop func(), err error) {
	zc, err = zchan.NewContext()
	if err != nil {
		return nil, nil, nil, err
	}
	ep, err := eps.next(c.Transport)
	if err != nil {
		return zc, nil, nil, err
	}
	ctx := context.Background()
	var srvEps []string
	if bare {
		s, err := zchan.Open(ctx, stype, zchan.WithContext(zc), zchan.WithLinger(benchLinger), zchan.WithBind(ep))
		if err != nil {
			return zc, nil, nil, err
		}
		sctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Go(func() {
			for m := range s.In() {
				if s.Send(sctx, m) != nil {
					return
				}
			}
		})
		stop = func() { cancel(); s.Close(); wg.Wait() }
		srvEps = s.Endpoints()
	} else {
		zo := reqrep.WithSocketOptions(zchan.WithContext(zc), zchan.WithLinger(benchLinger))
		srv, err := reqrep.NewServer(ctx, zchan.Frames, zchan.Frames, echoFrames, reqrep.WithType(stype), reqrep.WithBind(ep), zo)
		if err != nil {
			return zc, nil, nil, err
		}
		stop = func() { srv.Close() }
		srvEps = srv.Endpoints()
	}
	zo := reqrep.WithSocketOptions(zchan.WithContext(zc), zchan.WithLinger(benchLinger))
	cl, err = reqrep.NewClient(ctx, zchan.Frames, zchan.Frames, reqrep.WithType(ctype), reqrep.WithConnect(srvEps...), zo)
	if err != nil {
		stop()
		return zc, nil, nil, err
	}
	return zc, cl, stop, nil
}

func runReqrepRTT(ctype, stype zchan.Type, bare bool) runFunc {
	return func(c *Case, v *Variant, eps *endpoints) (res result, err error) {
		zc, cl, stop, err := reqrepPair(c, eps, ctype, stype, bare)
		defer termContext(zc, &err)
		if err != nil {
			return result{}, err
		}
		defer stop()
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), runTimeout(c))
		defer cancel()
		ring := newRing(c.Size, 0)
		warmup := warmups(c.N)
		rtts := make([]time.Duration, 0, c.N)
		var a snapshot
		for i := 0; i < warmup+c.N; i++ {
			if i == warmup {
				a = snap()
			}
			t0 := time.Now()
			m, err := cl.Request(ctx, ring.next(uint64(i)))
			d := time.Since(t0)
			if err != nil {
				return result{}, err
			}
			if err := check(m, c.Size, 0, uint64(i)); err != nil {
				return result{}, err
			}
			if i >= warmup {
				rtts = append(rtts, d)
			}
		}
		b := snap()
		slices.Sort(rtts)
		return result{msgs: c.N, bytes: int64(c.N) * int64(c.Size) * 2, w: between(a, b), rtts: rtts}, nil
	}
}

// runReqrepConcurrent: n callers share one DEALER client to a ROUTER
// server (WithConcurrency(n)); each makes c.N/n requests, one after
// another, each reply checked.
func runReqrepConcurrent(n int) runFunc {
	return func(c *Case, v *Variant, eps *endpoints) (res result, err error) {
		zc, cl, stop, err := reqrepPair(c, eps, zchan.Dealer, zchan.Router, false)
		defer termContext(zc, &err)
		if err != nil {
			return result{}, err
		}
		defer stop()
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), runTimeout(c))
		defer cancel()
		per := c.N / n
		// Warm up: every caller once.
		if err := callers(n, func(k int) error { return requestLoop(ctx, cl, c.Size, uint32(k), 0, 1) }); err != nil {
			return result{}, err
		}
		a := snap()
		if err := callers(n, func(k int) error { return requestLoop(ctx, cl, c.Size, uint32(k), 1, per) }); err != nil {
			return result{}, err
		}
		b := snap()
		return result{msgs: per * n, bytes: int64(per*n) * int64(c.Size) * 2, w: between(a, b)}, nil
	}
}

// requestLoop makes count requests from caller k, numbered from first.
func requestLoop(ctx context.Context, cl *reqrep.Client[zchan.Msg, zchan.Msg], size int, k uint32, first, count int) error {
	ring := newRing(size, k)
	for i := first; i < first+count; i++ {
		m, err := cl.Request(ctx, ring.next(uint64(i)))
		if err != nil {
			return err
		}
		if err := check(m, size, k, uint64(i)); err != nil {
			return err
		}
	}
	return nil
}

// callers runs f(0..n-1) on n goroutines and returns the first error.
func callers(n int, f func(k int) error) error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	for k := range n {
		wg.Go(func() { errs[k] = f(k) })
	}
	wg.Wait()
	for k, err := range errs {
		if err != nil {
			return fmt.Errorf("caller %d: %w", k, err)
		}
	}
	return nil
}
