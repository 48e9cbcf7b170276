package main

import (
	"fmt"
	"slices"
	"time"
)

// result is one run of one case by one variant.
type result struct {
	round int
	msgs  int // messages (or round trips) inside the window
	bytes int64
	w     window
	rtts  []time.Duration // round trips, for the rtt scenarios
	extra map[string]float64
}

// Case is one row of the benchmark: a scenario on a transport with a
// message size, run by every variant that supports the transport.
type Case struct {
	Scenario  string
	Transport string
	Size      int
	N         int // messages or round trips per run
	run       func(c *Case, v *Variant, env Env, eps *endpoints) (result, error)
	// child runs the case in a fresh process of its own, so that its
	// threads, descriptors and memory are its own.
	child bool
	// once: the case runs in the first round only (it measures over a
	// long period, or in a process of its own, already).
	once bool
	// idle is how long the idle scenario stays idle.
	idle time.Duration
	// only, if set, names the variants that run the case.
	only map[string]bool
	// repeat is how many times the case runs in each round (at least
	// once), every variant in turn each time: a case whose runs are short
	// (tens of ms, where one scheduler hiccup on a shared machine moves a
	// run by 15%) gets more runs to take its median over.
	repeat int
}

// repeats is how many times c runs in each round.
func (c *Case) repeats() int { return max(1, c.repeat) }

// throughput: one PUSH (connected) to one PULL (bound). Message 0 warms the
// connection up; the window covers messages 1..N-1. The receiver checks
// every message's number, so a lost, duplicated or reordered message fails
// the run.
func runThroughput(c *Case, v *Variant, env Env, eps *endpoints) (result, error) {
	ep, err := eps.next(c.Transport)
	if err != nil {
		return result{}, err
	}
	r := newRoles(v, env, runTimeout(c))
	bound, warm, start, received, stop := make(chan struct{}), make(chan struct{}), make(chan struct{}), make(chan struct{}), make(chan struct{})
	var res result
	r.spawn("receiver", func() error {
		s, err := env.Open(Pull, ep, true)
		if err != nil {
			return err
		}
		defer s.Close()
		close(bound)
		for i := 0; i < c.N; i++ {
			m, err := s.Recv()
			if err != nil {
				return err
			}
			if err := check(m, c.Size, 0, uint64(i)); err != nil {
				return err
			}
			if i == 0 {
				close(warm)
			}
		}
		close(received)
		r.gate(stop)
		return nil
	})
	r.spawn("sender", func() error {
		if !r.gate(bound) {
			return nil
		}
		s, err := env.Open(Push, ep, false)
		if err != nil {
			return err
		}
		defer s.Close()
		ring := r.newRing(c.Size, 0)
		for i := 0; i < c.N; i++ {
			if i == 1 && !r.gate(start) {
				return nil
			}
			if err := s.Send(ring.next(uint64(i))); err != nil {
				return err
			}
		}
		// Closing before the receiver has everything could drop what
		// libzmq still queues once the linger passes.
		r.gate(stop)
		return nil
	})
	if err := r.await(warm); err != nil {
		return res, r.finishWith(stop, err)
	}
	a := snap()
	close(start)
	if err := r.await(received); err != nil {
		return res, r.finishWith(stop, err)
	}
	b := snap()
	close(stop)
	if err := r.finish(); err != nil {
		return res, err
	}
	res.msgs = c.N - 1
	res.bytes = int64(c.N-1) * int64(c.Size)
	res.w = between(a, b)
	return res, nil
}

// finishWith releases the roles waiting on stop and returns err (or the
// roles' own failure).
func (r *roles) finishWith(stop chan struct{}, err error) error {
	close(stop)
	if ferr := r.finish(); ferr != nil {
		return ferr
	}
	return err
}

// roundTrip: a client (REQ or DEALER, connected) and an echo server (REP or
// ROUTER, bound), both through the variant. Warm-up round trips first, then
// N timed ones; every reply is checked against its request.
func roundTrip(client, server Kind) func(c *Case, v *Variant, env Env, eps *endpoints) (result, error) {
	return func(c *Case, v *Variant, env Env, eps *endpoints) (result, error) {
		ep, err := eps.next(c.Transport)
		if err != nil {
			return result{}, err
		}
		r := newRoles(v, env, runTimeout(c))
		bound, measured, stop := make(chan struct{}), make(chan struct{}), make(chan struct{})
		warmup := warmups(c.N)
		total := warmup + c.N
		var res result
		r.spawn("server", func() error {
			s, err := env.Open(server, ep, true)
			if err != nil {
				return err
			}
			defer s.Close()
			close(bound)
			for i := 0; i < total; i++ {
				m, err := s.Recv()
				if err != nil {
					return err
				}
				if err := s.Send(m); err != nil {
					return err
				}
			}
			r.gate(stop)
			return nil
		})
		r.spawn("client", func() error {
			if !r.gate(bound) {
				return nil
			}
			s, err := env.Open(client, ep, false)
			if err != nil {
				return err
			}
			defer s.Close()
			ring := r.newRing(c.Size, 0)
			rtts := make([]time.Duration, 0, c.N)
			var a snapshot
			for i := 0; i < total; i++ {
				if i == warmup {
					a = snap()
				}
				t0 := time.Now()
				if err := s.Send(ring.next(uint64(i))); err != nil {
					return err
				}
				m, err := s.Recv()
				d := time.Since(t0)
				if err != nil {
					return err
				}
				if err := check(m, c.Size, 0, uint64(i)); err != nil {
					return err
				}
				if i >= warmup {
					rtts = append(rtts, d)
				}
			}
			b := snap()
			slices.Sort(rtts)
			res = result{msgs: c.N, bytes: int64(c.N) * int64(c.Size) * 2, w: between(a, b), rtts: rtts}
			close(measured)
			r.gate(stop)
			return nil
		})
		if err := r.await(measured); err != nil {
			return result{}, r.finishWith(stop, err)
		}
		close(stop)
		if err := r.finish(); err != nil {
			return result{}, err
		}
		return res, nil
	}
}

func warmups(n int) int { return max(10, min(n/10, 500)) }

// short is one line about a run, for -v.
func (r result) short(c *Case) string {
	s := fmt.Sprintf("%8.0f msgs/s  cpu %6.2f s/M  allocs %5.2f/msg", float64(r.msgs)/r.w.wall.Seconds(), r.w.cpu.Seconds()/float64(r.msgs)*1e6, float64(r.w.mallocs)/float64(r.msgs))
	if len(r.rtts) > 0 {
		s += fmt.Sprintf("  p50 %v p99 %v", percentile(r.rtts, 50), percentile(r.rtts, 99))
	}
	return s
}
