package main

import "fmt"

// fanInSenders is how many PUSH sockets feed the one PULL in fan-in.
const fanInSenders = 10

// runFanIn: fanInSenders PUSH sockets (connected), each on its own
// goroutine, to one PULL (bound). Each sender numbers its own messages;
// the receiver checks every sender's order and the total count. Message 0
// of every sender warms its connection up; the window covers the rest.
func runFanIn(c *Case, v *Variant, env Env, eps *endpoints) (result, error) {
	ep, err := eps.next(c.Transport)
	if err != nil {
		return result{}, err
	}
	r := newRoles(v, env, runTimeout(c))
	bound, warm, start, received, stop := make(chan struct{}), make(chan struct{}), make(chan struct{}), make(chan struct{}), make(chan struct{})
	per := c.N / fanInSenders
	r.spawn("receiver", func() error {
		s, err := env.Open(Pull, ep, true)
		if err != nil {
			return err
		}
		defer s.Close()
		close(bound)
		next := make([]uint64, fanInSenders)
		for i := 0; i < per*fanInSenders; i++ {
			m, err := s.Recv()
			if err != nil {
				return err
			}
			from, _, ok := header(m)
			if !ok || from >= fanInSenders {
				return mismatch("message %d: no valid header", i)
			}
			if err := check(m, c.Size, from, next[from]); err != nil {
				return err
			}
			next[from]++
			if i == fanInSenders-1 {
				// Only message 0 of each sender may come before start.
				for k, n := range next {
					if n != 1 {
						return mismatch("sender %d: %d warm-up messages", k, n)
					}
				}
				close(warm)
			}
		}
		close(received)
		r.gate(stop)
		return nil
	})
	for k := 0; k < fanInSenders; k++ {
		r.spawn(fmt.Sprintf("sender %d", k), func() error {
			if !r.gate(bound) {
				return nil
			}
			s, err := env.Open(Push, ep, false)
			if err != nil {
				return err
			}
			defer s.Close()
			ring := r.newRing(c.Size, uint32(k))
			for i := 0; i < per; i++ {
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
	if err := r.finish(); err != nil {
		return result{}, err
	}
	n := (per - 1) * fanInSenders
	return result{msgs: n, bytes: int64(n) * int64(c.Size), w: between(a, b)}, nil
}
