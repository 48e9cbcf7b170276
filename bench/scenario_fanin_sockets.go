package main

import (
	"context"
	"fmt"
	"sync"

	"github.com/zmqchan/zmqchan/zchan"
)

// fanInSockets is how many PULL sockets one goroutine serves in the
// fan-in-sockets scenario. The hand-written select of selectVariant has
// one case per socket, so it is a constant.
const fanInSockets = 4

// mergeVariant and selectVariant run the fan-in-sockets scenario only: one
// goroutine receives from fanInSockets zchan PULL sockets, each fed by its
// own PUSH on its own goroutine, through a zchan.Merge or through a
// select written out with one case per socket. They differ in nothing
// else, so their ratio is the cost of the Merge's forwarding goroutines.
func mergeVariant() *Variant {
	return &Variant{
		Name: "zmqchan-merge",
		Doc:  "zmqchan, one goroutine serving several sockets through zchan.Merge (fan-in-sockets only)",
		Run:  map[string]runFunc{"fan-in-sockets": fanInSocketsWith(receiveMerge)},
	}
}

func selectVariant() *Variant {
	return &Variant{
		Name: "zmqchan-select",
		Doc:  "zmqchan, one goroutine serving several sockets with a select of one case per In channel (fan-in-sockets only)",
		Run:  map[string]runFunc{"fan-in-sockets": fanInSocketsWith(receiveSelect)},
	}
}

// receiver receives n messages in all from pulls on the calling goroutine
// and hands each to got with the index of its socket.
type receiver func(ctx context.Context, pulls []*zchan.Socket[zchan.Msg], n int, got func(from int, m zchan.Msg) error) error

func receiveMerge(ctx context.Context, pulls []*zchan.Socket[zchan.Msg], n int, got func(int, zchan.Msg) error) error {
	m := zchan.NewMerge[zchan.Msg]()
	defer m.Close()
	index := make(map[*zchan.Socket[zchan.Msg]]int, len(pulls))
	for i, p := range pulls {
		index[p] = i
		if err := m.Add(p); err != nil {
			return err
		}
	}
	for range n {
		select {
		case ev := <-m.Events():
			if ev.Ended {
				return fmt.Errorf("%w: %s: %w", errClosed, ev.Socket.Name(), ev.Err)
			}
			if err := got(index[ev.Socket], ev.Value); err != nil {
				return err
			}
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	return nil
}

func receiveSelect(ctx context.Context, pulls []*zchan.Socket[zchan.Msg], n int, got func(int, zchan.Msg) error) error {
	in0, in1, in2, in3 := pulls[0].In(), pulls[1].In(), pulls[2].In(), pulls[3].In()
	for range n {
		var from int
		var m zchan.Msg
		var ok bool
		select {
		case m, ok = <-in0:
		case m, ok = <-in1:
			from = 1
		case m, ok = <-in2:
			from = 2
		case m, ok = <-in3:
			from = 3
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		if !ok {
			return fmt.Errorf("%w: %s: %w", errClosed, pulls[from].Name(), pulls[from].Err())
		}
		if err := got(from, m); err != nil {
			return err
		}
	}
	return nil
}

// fanInSocketsWith: fanInSockets PULL sockets (bound), each fed by one
// PUSH (connected) on its own goroutine; one goroutine receives from all
// of them with recv. Each sender numbers its messages; the receiver
// checks that each socket's come from its sender, in order, and the total
// count. Message 0 of every sender warms its connection up; the window
// covers the rest.
func fanInSocketsWith(recv receiver) runFunc {
	return func(c *Case, v *Variant, eps *endpoints) (res result, err error) {
		zc, err := zchan.NewContext()
		if err != nil {
			return result{}, err
		}
		defer termContext(zc, &err)
		ctx, cancel := context.WithTimeout(context.Background(), runTimeout(c))
		defer cancel()
		open := func(t zchan.Type, opt zchan.Option) (*zchan.Socket[zchan.Msg], error) {
			return zchan.Open(ctx, t, zchan.WithContext(zc), zchan.WithLinger(benchLinger), opt)
		}
		per := c.N / fanInSockets
		pulls := make([]*zchan.Socket[zchan.Msg], 0, fanInSockets)
		pushes := make([]*zchan.Socket[zchan.Msg], 0, fanInSockets)
		defer func() {
			for _, s := range append(pushes, pulls...) {
				s.Close()
			}
		}()
		for range fanInSockets {
			ep, err := eps.next(c.Transport)
			if err != nil {
				return result{}, err
			}
			pull, err := open(zchan.Pull, zchan.WithBind(ep))
			if err != nil {
				return result{}, err
			}
			pulls = append(pulls, pull)
			push, err := open(zchan.Push, zchan.WithConnect(pull.Endpoints()[0]))
			if err != nil {
				return result{}, err
			}
			pushes = append(pushes, push)
		}
		start := make(chan struct{})
		sent := make(chan error, fanInSockets)
		var senders sync.WaitGroup
		defer senders.Wait()
		defer cancel() // before the wait: a failed receiver stops the senders
		for k, push := range pushes {
			senders.Go(func() {
				ring := newRing(c.Size, uint32(k))
				for i := range per {
					if i == 1 {
						select {
						case <-start:
						case <-ctx.Done():
							sent <- context.Cause(ctx)
							return
						}
					}
					if err := push.Send(ctx, zchan.Msg(ring.next(uint64(i)))); err != nil {
						sent <- err
						return
					}
				}
				sent <- nil
			})
		}
		next := make([]uint64, fanInSockets)
		got := func(from int, m zchan.Msg) error {
			if err := check(m, c.Size, uint32(from), next[from]); err != nil {
				return err
			}
			next[from]++
			return nil
		}
		// Message 0 of every sender, then the clock.
		if err := recv(ctx, pulls, fanInSockets, got); err != nil {
			return result{}, err
		}
		for k, n := range next {
			if n != 1 {
				return result{}, mismatch("socket %d: %d warm-up messages", k, n)
			}
		}
		a := snap()
		close(start)
		if err := recv(ctx, pulls, (per-1)*fanInSockets, got); err != nil {
			return result{}, err
		}
		b := snap()
		for range fanInSockets {
			if err := <-sent; err != nil {
				return result{}, err
			}
		}
		n := (per - 1) * fanInSockets
		return result{msgs: n, bytes: int64(n) * int64(c.Size), w: between(a, b)}, nil
	}
}
