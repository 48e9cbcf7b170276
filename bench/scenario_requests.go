package main

import (
	"fmt"
	"sync/atomic"
)

// requestCallers are the numbers of concurrent callers of the requests
// scenarios.
var requestCallers = []int{1, 16, 64}

func requestsScenario(n int) string { return fmt.Sprintf("requests-c%d", n) }

// requestVariants are the variants the requests scenarios run: raw pebbe
// and bare zmqchan sockets (one REQ per caller, the way to run concurrent
// requests without a correlating client) and reqrep (its own
// implementation: one DEALER client shared by the callers).
var requestVariants = map[string]bool{rawName: true, "zmqchan": true, "reqrep": true}

// runRequests: n callers, each on its own goroutine with its own REQ
// socket (connected), to one ROUTER echo server (bound) on one goroutine.
// Each caller makes c.N/n requests one after another; every reply is
// checked against its request. One warm-up request per caller first.
func runRequests(n int) func(c *Case, v *Variant, env Env, eps *endpoints) (result, error) {
	return func(c *Case, v *Variant, env Env, eps *endpoints) (result, error) {
		ep, err := eps.next(c.Transport)
		if err != nil {
			return result{}, err
		}
		r := newRoles(v, env, runTimeout(c))
		per := c.N / n
		bound, warm, start, measured, stop := make(chan struct{}), make(chan struct{}), make(chan struct{}), make(chan struct{}), make(chan struct{})
		r.spawn("server", func() error {
			s, err := env.Open(Router, ep, true)
			if err != nil {
				return err
			}
			defer s.Close()
			close(bound)
			for i := 0; i < n*(per+1); i++ {
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
		// The last caller to warm up closes warm, the last to finish
		// closes measured.
		var warming, working atomic.Int64
		warming.Store(int64(n))
		working.Store(int64(n))
		for k := range n {
			r.spawn(fmt.Sprintf("caller%d", k), func() error {
				if !r.gate(bound) {
					return nil
				}
				s, err := env.Open(Req, ep, false)
				if err != nil {
					return err
				}
				defer s.Close()
				ring := r.newRing(c.Size, uint32(k))
				for i := 0; i <= per; i++ {
					if i == 1 {
						if warming.Add(-1) == 0 {
							close(warm)
						}
						if !r.gate(start) {
							return nil
						}
					}
					if err := s.Send(ring.next(uint64(i))); err != nil {
						return err
					}
					m, err := s.Recv()
					if err != nil {
						return err
					}
					if err := check(m, c.Size, uint32(k), uint64(i)); err != nil {
						return err
					}
				}
				if working.Add(-1) == 0 {
					close(measured)
				}
				r.gate(stop)
				return nil
			})
		}
		if err := r.await(warm); err != nil {
			return result{}, r.finishWith(stop, err)
		}
		a := snap()
		close(start)
		if err := r.await(measured); err != nil {
			return result{}, r.finishWith(stop, err)
		}
		b := snap()
		close(stop)
		if err := r.finish(); err != nil {
			return result{}, err
		}
		return result{msgs: per * n, bytes: int64(per*n) * int64(c.Size) * 2, w: between(a, b)}, nil
	}
}
