package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/zmqchan/zmqchan/zchan"
)

// workerSockets are one worker's three sockets, all connected to a pool.
type workerSockets struct {
	tasks, results, ctl *zchan.Socket[zchan.Msg]
}

// openWorker connects a worker's sockets: control first, so that a KILL
// published once its tasks can arrive is not missed for want of a
// subscription; tasks last, so that nothing is taken before results can
// go back.
//
// ctx bounds the opening only; the sockets live until close.
func openWorker(ctx context.Context, o *options, name string, eps Endpoints) (*workerSockets, error) {
	w := &workerSockets{}
	var err error
	if w.ctl, err = zchan.Open(ctx, zchan.Sub, o.sockOpts(name+".control", zchan.WithConnect(eps.Control), zchan.WithSubscribe(""))...); err != nil {
		return nil, err
	}
	if w.results, err = zchan.Open(ctx, zchan.Push, o.sockOpts(name+".results", zchan.WithConnect(eps.Results))...); err != nil {
		w.close()
		return nil, err
	}
	if w.tasks, err = zchan.Open(ctx, zchan.Pull, o.sockOpts(name+".tasks", zchan.WithConnect(eps.Tasks))...); err != nil {
		w.close()
		return nil, err
	}
	return w, nil
}

// close closes the sockets, upstream first: tasks, control, results
// (which hands on the result it holds within the linger).
func (w *workerSockets) close() {
	for _, s := range []*zchan.Socket[zchan.Msg]{w.tasks, w.ctl, w.results} {
		if s != nil {
			s.Close()
		}
	}
}

// runWorker takes tasks, runs p and sends results until KILL arrives
// (killed), ctx ends or p fails, counting every task in cn (a skipped
// task's reply counts as written: the sink counts the skip). A KILL
// waiting is seen before the next task is taken.
func runWorker(ctx context.Context, name string, p proc, w *workerSockets, cn *counts) (killed bool, err error) {
	for {
		select {
		case _, ok := <-w.ctl.In():
			return ok, endOf(ctx, name, ok, w.ctl)
		default:
		}
		select {
		case m, ok := <-w.tasks.In():
			if !ok {
				return false, endOf(ctx, name, false, w.tasks)
			}
			cn.read.Add(1)
			if kindOf(m) != kTask {
				cn.failed.Add(1)
				return false, fmt.Errorf("pipeline: worker %s: message kind %q: %w", name, kindOf(m), ErrProtocol)
			}
			id, err := idOf(m)
			if err != nil {
				cn.failed.Add(1)
				return false, err
			}
			frames, err := valueOf(m, idHdrLen)
			if err != nil {
				cn.failed.Add(1)
				return false, fmt.Errorf("pipeline: worker %s: %w", name, err)
			}
			res, err := p(ctx, frames)
			var reply zchan.Msg
			switch {
			case errors.Is(err, ErrSkip):
				reply = zchan.Msg{idHeader(kSkipped, id)}
			case err != nil && ctx.Err() != nil:
				cn.held.Add(1) // stopped while running: the stop, not a failure
				return false, context.Cause(ctx)
			case err != nil:
				cn.failed.Add(1)
				return false, err
			default:
				reply = withHeader(idHeader(kResult, id), res)
			}
			if err := w.results.Send(ctx, reply); err != nil {
				cn.held.Add(1)
				return false, sendErr(ctx, name, err)
			}
			cn.written.Add(1)
		case _, ok := <-w.ctl.In():
			return ok, endOf(ctx, name, ok, w.ctl)
		case <-ctx.Done():
			return false, context.Cause(ctx)
		}
	}
}

// endOf is the error for a worker whose socket s ended (ok false).
func endOf(ctx context.Context, name string, ok bool, s *zchan.Socket[zchan.Msg]) error {
	if ok {
		return nil
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return fmt.Errorf("pipeline: worker %s: %s: %w", name, s.Name(), s.Err())
}

// Work runs workers for a pool that runs elsewhere (NewPool with
// WithEndpoints on ipc or tcp), with the same function and codecs: the
// guide's taskwork2 in another process. Each worker (WithWorkers, default
// 1) connects its three sockets to eps, announces itself to the pool, and
// takes tasks until KILL arrives, ctx ends, or f fails. A worker that
// stops on KILL or on ctx says goodbye to the pool (within the linger); a
// failure is reported to the pool, whose Err then wraps ErrRemote with its
// text.
//
// Work blocks until every worker has stopped. It returns nil if all
// stopped on KILL, else the first error (context.Cause(ctx) if ctx ended
// first). A worker that misses every KILL (the pool went away) stops only
// on ctx, so give Work a context that ends: a signal, a deadline. Work
// closes its sockets and terminates its zchan.Context (its own unless
// WithContext), waiting up to about the linger for the last results to
// leave the process.
func Work[Task, Result any](ctx context.Context, f Stage[Task, Result], eps Endpoints, opts ...Option) error {
	o, err := newOptions(forWork, opts)
	if err != nil {
		return err
	}
	if f == nil {
		return fmt.Errorf("pipeline: work: nil function: %w", ErrInvalidOption)
	}
	if eps.Tasks == "" || eps.Results == "" || eps.Control == "" {
		return fmt.Errorf("pipeline: work: endpoints %+v: all three needed: %w", eps, ErrInvalidOption)
	}
	if o.zctx == nil {
		zc, err := zchan.NewContext()
		if err != nil {
			return err
		}
		o.zctx = zc
		defer termBounded(zc, o.linger)
	}
	name := o.name
	if name == "" {
		name = "work"
	}
	// lctx stops the workers already started if a later one cannot open.
	lctx, lcancel := context.WithCancelCause(ctx)
	defer lcancel(ErrClosed)
	p := makeProc(name, f, codecFor[Task](&o), codecFor[Result](&o))
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	record := func(err error) {
		errOnce.Do(func() { firstErr = err })
		lcancel(err)
	}
	for i := 0; i < o.workers; i++ {
		wname := fmt.Sprintf("%s.%d", name, i)
		w, err := openWorker(lctx, &o, wname, eps)
		if err != nil {
			record(err)
			break
		}
		if err := w.results.Send(lctx, helloMsg); err != nil {
			w.close()
			record(err)
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer w.close()
			var cn counts
			killed, err := runWorker(lctx, wname, p, w, &cn)
			// The goodbye or the failure goes after ctx has ended, within
			// the linger.
			bctx, bcancel := context.WithTimeout(context.Background(), o.linger)
			defer bcancel()
			if err != nil && lctx.Err() == nil {
				_ = w.results.Send(bctx, failMsg(err, cn.failed.Load() > 0))
			} else {
				_ = w.results.Send(bctx, byeMsg)
			}
			if !killed {
				record(err)
			}
		}()
	}
	wg.Wait()
	return firstErr
}
