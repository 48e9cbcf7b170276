package main

import "fmt"

// chainStages and poolWorkers size the pipeline scenarios.
const (
	chainStages = 4
	poolWorkers = 4
)

// runChain: a source PUSH, chainStages stages (each one goroutine with a
// bound PULL in and a connected PUSH out, passing every message on
// unchanged) and a sink PULL, each link bound downstream. The sink checks
// every message's number: a chain keeps order. Message 0 warms every link
// up; the window covers the rest.
func runChain(c *Case, v *Variant, env Env, eps *endpoints) (result, error) {
	r := newRoles(v, env, runTimeout(c))
	links := make([]string, chainStages+1)
	for i := range links {
		ep, err := eps.next(c.Transport)
		if err != nil {
			return result{}, err
		}
		links[i] = ep
	}
	bound := make([]chan struct{}, chainStages+1)
	for i := range bound {
		bound[i] = make(chan struct{})
	}
	warm, start, received, stop := make(chan struct{}), make(chan struct{}), make(chan struct{}), make(chan struct{})
	r.spawn("sink", func() error {
		s, err := env.Open(Pull, links[chainStages], true)
		if err != nil {
			return err
		}
		defer s.Close()
		close(bound[chainStages])
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
	for k := chainStages - 1; k >= 0; k-- {
		r.spawn(fmt.Sprintf("stage %d", k), func() error {
			in, err := env.Open(Pull, links[k], true)
			if err != nil {
				return err
			}
			defer in.Close()
			if !r.gate(bound[k+1]) {
				return nil
			}
			out, err := env.Open(Push, links[k+1], false)
			if err != nil {
				return err
			}
			defer out.Close()
			close(bound[k])
			for i := 0; i < c.N; i++ {
				m, err := in.Recv()
				if err != nil {
					return err
				}
				if err := out.Send(m); err != nil {
					return err
				}
			}
			r.gate(stop)
			return nil
		})
	}
	r.spawn("source", func() error {
		if !r.gate(bound[0]) {
			return nil
		}
		s, err := env.Open(Push, links[0], false)
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
		r.gate(stop)
		return nil
	})
	return r.window(c.N-1, c.Size, warm, start, received, stop)
}

// window times a run whose roles close warm after the warm-up, wait for
// start, and close received when everything has arrived.
func (r *roles) window(msgs, size int, warm, start, received, stop chan struct{}) (result, error) {
	if err := r.await(warm); err != nil {
		return result{}, r.finishWith(stop, err)
	}
	a := snap()
	close(start)
	if err := r.await(received); err != nil {
		return result{}, r.finishWith(stop, err)
	}
	b := snap()
	close(stop)
	if err := r.finish(); err != nil {
		return result{}, err
	}
	return result{msgs: msgs, bytes: int64(msgs) * int64(size), w: between(a, b)}, nil
}

// runPool: a ventilator PUSH (bound) hands numbered tasks to poolWorkers
// workers (each a goroutine with a connected PULL for tasks and a
// connected PUSH for results, sending every task back as its result) and
// a sink PULL (bound) collects the results, checking that every task comes
// back exactly once. Results come in the order workers finish. Task 0
// warms the pool up. The workers end when the env is closed.
func runPool(c *Case, v *Variant, env Env, eps *endpoints) (result, error) {
	r := newRoles(v, env, runTimeout(c))
	tasks, err := eps.next(c.Transport)
	if err != nil {
		return result{}, err
	}
	results, err := eps.next(c.Transport)
	if err != nil {
		return result{}, err
	}
	ventBound, sinkBound := make(chan struct{}), make(chan struct{})
	warm, start, received, stop := make(chan struct{}), make(chan struct{}), make(chan struct{}), make(chan struct{})
	r.spawn("sink", func() error {
		s, err := env.Open(Pull, results, true)
		if err != nil {
			return err
		}
		defer s.Close()
		close(sinkBound)
		seen := make([]bool, c.N)
		for i := 0; i < c.N; i++ {
			m, err := s.Recv()
			if err != nil {
				return err
			}
			_, seq, ok := header(m)
			if !ok || seq >= uint64(c.N) {
				return mismatch("result %d: no valid header", i)
			}
			if err := check(m, c.Size, 0, seq); err != nil {
				return err
			}
			if seen[seq] {
				return mismatch("task %d: two results", seq)
			}
			seen[seq] = true
			if i == 0 {
				close(warm)
			}
		}
		close(received)
		r.gate(stop)
		return nil
	})
	r.spawn("ventilator", func() error {
		s, err := env.Open(Push, tasks, true)
		if err != nil {
			return err
		}
		defer s.Close()
		close(ventBound)
		ring := r.newRing(c.Size, 0)
		for i := 0; i < c.N; i++ {
			if i == 1 && !r.gate(start) {
				return nil
			}
			if err := s.Send(ring.next(uint64(i))); err != nil {
				return err
			}
		}
		r.gate(stop)
		return nil
	})
	for k := 0; k < poolWorkers; k++ {
		r.spawn(fmt.Sprintf("worker %d", k), func() error {
			if !r.gate(ventBound) || !r.gate(sinkBound) {
				return nil
			}
			// A worker that opens late may find the run over and the env
			// closed: the others did all the work, and that is no failure.
			in, err := env.Open(Pull, tasks, false)
			if err != nil {
				if stopped(stop) {
					return nil
				}
				return err
			}
			defer in.Close()
			out, err := env.Open(Push, results, false)
			if err != nil {
				if stopped(stop) {
					return nil
				}
				return err
			}
			defer out.Close()
			for {
				m, err := in.Recv()
				if err != nil {
					if stopped(stop) {
						return nil
					}
					return err
				}
				if err := out.Send(m); err != nil {
					if stopped(stop) {
						return nil
					}
					return err
				}
			}
		})
	}
	if err := r.await(warm); err != nil {
		return result{}, r.finishWith(stop, err)
	}
	a := snap()
	close(start)
	if err := r.await(received); err != nil {
		return result{}, r.finishWith(stop, err)
	}
	b := snap()
	close(stop)
	// The workers wait in Recv for tasks that will not come: closing the
	// env ends them.
	go r.closeEnv()
	if err := r.finish(); err != nil {
		return result{}, err
	}
	return result{msgs: c.N - 1, bytes: int64(c.N-1) * int64(c.Size), w: between(a, b)}, nil
}

func stopped(stop chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}
