package pipeline

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/zmqchan/zmqchan/zchan"
)

// Pool is a worker pool: the guide's ventilator, workers and sink. Submit
// PUSHes a task to the workers (only to connected ones: ZMQ_IMMEDIATE);
// each worker runs the pool's function and PUSHes the result to the sink,
// which delivers it on Results; Close PUBlishes KILL, waits for the
// workers to stop within the kill bound, and closes everything. Results
// arrive in the order workers finish, not the order of Submit.
//
// The pool owns its three bound sockets (ventilator PUSH, sink PULL, KILL
// PUB), one goroutine that reads the sink, one that resends unanswered
// tasks (WithAtLeastOnce only), and WithWorkers local workers, each one
// goroutine owning three connected sockets. Workers in other processes run
// Work with the pool's Endpoints.
//
// A Pool is safe for concurrent use. Its zero value is not usable: create
// one with NewPool. It cannot be restarted after it ends.
type Pool[Task, Result any] struct {
	name      string
	o         options
	eps       Endpoints
	taskCodec zchan.Codec[Task]
	resCodec  zchan.Codec[Result]

	ctx     context.Context // the pool's sockets and goroutines
	cancel  context.CancelCauseFunc
	wctx    context.Context // the local workers: cancelled at the kill bound
	wcancel context.CancelCauseFunc

	vent, sink, ctl *zchan.Socket[zchan.Msg]
	results         chan Result

	closing atomic.Bool
	nextID  atomic.Uint64

	// At-least-once: unanswered tasks, by id.
	mu       sync.Mutex
	inflight map[uint64]*flight
	idle     atomic.Bool   // the resender waits for a task to be sent
	kick     chan struct{} // wakes an idle resender; buffered 1

	localLive atomic.Int64  // local workers running
	changed   chan struct{} // a worker stopped or joined; buffered 1
	ready     chan struct{} // closed when WithWaitForWorkers is met
	readyOnce sync.Once

	st poolCounters

	loops     sync.WaitGroup // sink reader, resender
	workers   sync.WaitGroup
	errOnce   sync.Once
	err       error
	failed    chan struct{} // closed when err is set
	closeOnce sync.Once
	closeErr  error
	done      chan struct{}

	undelivered atomic.Uint64
}

type flight struct {
	msg zchan.Msg
	due time.Time // zero while being sent
}

type poolCounters struct {
	submitted, results, skipped, resent, duplicates atomic.Uint64
	joined, left, killed, forced                    atomic.Uint64
}

// PoolStats is a snapshot of a pool's counters.
type PoolStats struct {
	// Submitted counts tasks taken by Submit; Results the results
	// delivered on Results; Skipped the tasks whose function returned
	// ErrSkip.
	Submitted, Results, Skipped uint64
	// Resent counts tasks sent again after the at-least-once timeout;
	// Duplicates the results dropped because their task had already been
	// answered.
	Resent, Duplicates uint64
	// InFlight is the number of tasks sent and not yet answered (only
	// tracked with WithAtLeastOnce).
	InFlight int
	// Joined and Left count workers in other processes that announced
	// themselves and that said goodbye.
	Joined, Left uint64
	// Killed counts local workers that stopped on KILL; Forced those
	// stopped by the kill bound because their KILL was lost or they were
	// busy past the bound.
	Killed, Forced uint64
}

var poolSeq atomic.Uint64

// NewPool binds the pool's three sockets, starts its local workers, each
// running f, and returns when they are connected, or with an error, in
// which case nothing is left running. The pool runs until Close, until ctx
// ends, or until a worker fails (f's error, a panic wrapped in ErrPanic, a
// remote worker's failure wrapped in ErrRemote), which stops every local
// worker and ends Results; Err then tells why.
//
// Applies: WithContext, WithName, WithLogger, WithCodec, WithSocketOptions,
// WithLinger, WithWorkers, WithEndpoints, WithKillBound, WithAtLeastOnce,
// WithWaitForWorkers.
func NewPool[Task, Result any](ctx context.Context, f Stage[Task, Result], opts ...Option) (*Pool[Task, Result], error) {
	o, err := newOptions(forPool, opts)
	if err != nil {
		return nil, err
	}
	if f == nil {
		return nil, fmt.Errorf("pipeline: new pool: nil function: %w", ErrInvalidOption)
	}
	seq := poolSeq.Add(1)
	name := o.name
	if name == "" {
		name = fmt.Sprintf("pool#%d", seq)
	}
	eps := o.endpoints
	def := func(ep *string, what string) {
		if *ep == "" {
			*ep = fmt.Sprintf("inproc://zmqchan-pool-%d-%s", seq, what)
		}
	}
	def(&eps.Tasks, "tasks")
	def(&eps.Results, "results")
	def(&eps.Control, "control")

	pctx, cancel := context.WithCancelCause(ctx)
	wctx, wcancel := context.WithCancelCause(pctx)
	p := &Pool[Task, Result]{
		name: name, o: o,
		taskCodec: codecFor[Task](&o), resCodec: codecFor[Result](&o),
		ctx: pctx, cancel: cancel, wctx: wctx, wcancel: wcancel,
		results: make(chan Result),
		kick:    make(chan struct{}, 1),
		changed: make(chan struct{}, 1),
		ready:   make(chan struct{}),
		failed:  make(chan struct{}),
		done:    make(chan struct{}),
	}
	if o.aloTimeout > 0 {
		p.inflight = make(map[uint64]*flight)
	}
	abort := func(err error) (*Pool[Task, Result], error) {
		wcancel(err)
		p.workers.Wait()
		for _, s := range []*zchan.Socket[zchan.Msg]{p.vent, p.sink, p.ctl} {
			if s != nil {
				s.Close()
			}
		}
		cancel(err)
		return nil, err
	}
	if p.sink, err = zchan.Open(pctx, zchan.Pull, o.sockOpts(name+".sink", zchan.WithBind(eps.Results))...); err != nil {
		return abort(err)
	}
	eps.Results = p.sink.Endpoints()[0]
	if p.ctl, err = zchan.Open(pctx, zchan.Pub, o.sockOpts(name+".control", zchan.WithBind(eps.Control))...); err != nil {
		return abort(err)
	}
	eps.Control = p.ctl.Endpoints()[0]
	if p.vent, err = zchan.Open(pctx, zchan.Push, o.sockOpts(name+".ventilator", zchan.WithBind(eps.Tasks), zchan.WithImmediate(true))...); err != nil {
		return abort(err)
	}
	eps.Tasks = p.vent.Endpoints()[0]
	p.eps = eps

	pr := makeProc(name, f, p.taskCodec, p.resCodec)
	for i := 0; i < o.workers; i++ {
		wname := fmt.Sprintf("%s.worker%d", name, i)
		w, err := openWorker(wctx, &o, wname, eps)
		if err != nil {
			return abort(err)
		}
		p.localLive.Add(1)
		p.workers.Add(1)
		go p.runLocal(wname, pr, w)
	}
	p.checkReady()

	p.loops.Add(1)
	go p.readSink()
	if p.inflight != nil {
		p.loops.Add(1)
		go p.resend()
	}
	go p.supervise()
	o.logger.Debug("pipeline: pool started", zap.String("pool", name),
		zap.String("tasks", eps.Tasks), zap.String("results", eps.Results), zap.String("control", eps.Control))
	return p, nil
}

// runLocal is one local worker's goroutine.
func (p *Pool[Task, Result]) runLocal(name string, pr proc, w *workerSockets) {
	defer p.workers.Done()
	killed, err := runWorker(p.wctx, name, pr, w)
	p.undelivered.Add(w.close())
	switch {
	case killed:
		p.st.killed.Add(1)
	case context.Cause(p.wctx) == ErrKillBound:
		p.st.forced.Add(1)
		p.o.logger.Warn("pipeline: worker stopped by the kill bound", zap.String("worker", name))
	case err != nil && p.ctx.Err() == nil:
		p.fail(err)
	}
	p.localLive.Add(-1)
	p.signal()
}

func (p *Pool[Task, Result]) signal() {
	select {
	case p.changed <- struct{}{}:
	default:
	}
}

func (p *Pool[Task, Result]) checkReady() {
	if int(p.localLive.Load())+int(p.st.joined.Load()) >= p.o.waitWorkers {
		p.readyOnce.Do(func() { close(p.ready) })
	}
}

// fail records the pool's first error and stops it.
func (p *Pool[Task, Result]) fail(err error) {
	p.errOnce.Do(func() {
		p.err = err
		close(p.failed)
	})
	p.cancel(err)
}

// readSink delivers results and counts workers joining and leaving.
func (p *Pool[Task, Result]) readSink() {
	defer p.loops.Done()
	defer close(p.results)
	ctx := p.ctx
	for {
		var m zchan.Msg
		var ok bool
		select {
		case m, ok = <-p.sink.In():
		case <-ctx.Done():
			return
		}
		if !ok {
			if ctx.Err() == nil {
				p.fail(fmt.Errorf("pipeline: %s: sink: %w", p.name, p.sink.Err()))
			}
			return
		}
		switch k := kindOf(m); k {
		case kResult, kSkipped:
			id, err := idOf(m)
			if err != nil {
				p.fail(err)
				return
			}
			if p.inflight != nil {
				p.mu.Lock()
				_, pending := p.inflight[id]
				delete(p.inflight, id)
				p.mu.Unlock()
				if !pending {
					p.st.duplicates.Add(1)
					continue
				}
			}
			if k == kSkipped {
				p.st.skipped.Add(1)
				continue
			}
			frames, err := valueOf(m, idHdrLen)
			if err != nil {
				p.fail(fmt.Errorf("pipeline: %s: result: %w", p.name, err))
				return
			}
			v, err := p.resCodec.Decode(frames)
			if err != nil {
				p.fail(fmt.Errorf("pipeline: %s: result: decode: %w", p.name, err))
				return
			}
			select {
			case p.results <- v:
				p.st.results.Add(1)
			case <-ctx.Done():
				p.undelivered.Add(1)
				return
			}
		case kHello:
			p.st.joined.Add(1)
			p.checkReady()
			p.signal()
		case kBye:
			p.st.left.Add(1)
			p.signal()
		case kFail:
			p.fail(remoteErr(p.name+": worker", m))
			return
		default:
			p.fail(fmt.Errorf("pipeline: %s: sink: message kind %q: %w", p.name, k, ErrProtocol))
			return
		}
	}
}

// resend sends again the tasks left unanswered past the timeout.
func (p *Pool[Task, Result]) resend() {
	defer p.loops.Done()
	ctx := p.ctx
	timeout := p.o.aloTimeout
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		// idle is set before the scan, so a Submit that sets a due time
		// after the scan sees it and kicks.
		p.idle.Store(true)
		var earliest time.Time
		p.mu.Lock()
		for _, f := range p.inflight {
			if !f.due.IsZero() && (earliest.IsZero() || f.due.Before(earliest)) {
				earliest = f.due
			}
		}
		p.mu.Unlock()
		if earliest.IsZero() {
			select {
			case <-p.kick:
				continue
			case <-ctx.Done():
				return
			}
		}
		p.idle.Store(false)
		timer.Reset(time.Until(earliest))
		select {
		case <-timer.C:
		case <-ctx.Done():
			return
		}
		now := time.Now()
		var again []*flight
		p.mu.Lock()
		for _, f := range p.inflight {
			if !f.due.IsZero() && !f.due.After(now) {
				f.due = time.Time{}
				again = append(again, f)
			}
		}
		p.mu.Unlock()
		for _, f := range again {
			if err := p.vent.Send(ctx, f.msg); err != nil {
				return
			}
			p.st.resent.Add(1)
			p.mu.Lock()
			f.due = time.Now().Add(timeout) // harmless if f was answered meanwhile
			p.mu.Unlock()
		}
		if len(again) > 0 {
			p.o.logger.Info("pipeline: tasks resent", zap.String("pool", p.name), zap.Int("tasks", len(again)))
		}
	}
}

// supervise closes Done once the pool's context has ended and everything
// has stopped.
func (p *Pool[Task, Result]) supervise() {
	<-p.ctx.Done()
	p.wcancel(context.Cause(p.ctx))
	p.workers.Wait()
	p.loops.Wait()
	p.undelivered.Add(closeCount(p.vent))
	p.ctl.Close() // KILL copies are not counted
	p.undelivered.Add(closeCount(p.sink))
	if p.inflight != nil {
		p.mu.Lock()
		p.undelivered.Add(uint64(len(p.inflight)))
		p.mu.Unlock()
	}
	p.fail(context.Cause(p.ctx))
	close(p.done)
}

// Name returns the pool's name (WithName, or "pool#N").
func (p *Pool[Task, Result]) Name() string { return p.name }

// Endpoints returns the endpoints the pool bound, as libzmq resolved them
// (a tcp port of "*" shows the port picked): what Work connects to.
func (p *Pool[Task, Result]) Endpoints() Endpoints { return p.eps }

// Submit encodes t and hands it to a worker. It blocks while no worker can
// take it (none connected, or every connected one's queue is full up to
// the high-water mark), and first, with WithWaitForWorkers, until enough
// workers are connected. It returns context.Cause(ctx) if ctx ends first,
// ErrClosed after Close, or the pool's error after it has failed. A nil
// return means the pool has sent the task; with WithAtLeastOnce it keeps
// it until it is answered. Submit is safe for concurrent use.
func (p *Pool[Task, Result]) Submit(ctx context.Context, t Task) error {
	if p.closing.Load() {
		return ErrClosed
	}
	select {
	case <-p.ready:
	default:
		select {
		case <-p.ready:
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-p.ctx.Done():
			return p.endErr()
		}
	}
	frames, err := encode(p.taskCodec, t)
	if err != nil {
		return err
	}
	id := p.nextID.Add(1)
	m := withHeader(idHeader(kTask, id), frames)
	var f *flight
	if p.inflight != nil {
		f = &flight{msg: m}
		p.mu.Lock()
		p.inflight[id] = f
		p.mu.Unlock()
	}
	if err := p.vent.Send(ctx, m); err != nil {
		if f != nil {
			p.mu.Lock()
			delete(p.inflight, id)
			p.mu.Unlock()
		}
		if p.ctx.Err() != nil {
			return p.endErr()
		}
		return err
	}
	p.st.submitted.Add(1)
	if f != nil {
		p.mu.Lock()
		f.due = time.Now().Add(p.o.aloTimeout)
		p.mu.Unlock()
		if p.idle.Load() {
			select {
			case p.kick <- struct{}{}:
			default:
			}
		}
	}
	return nil
}

func (p *Pool[Task, Result]) endErr() error {
	if p.closing.Load() {
		return ErrClosed
	}
	return context.Cause(p.ctx)
}

// Results returns the channel of results, one per task (exactly one with
// WithAtLeastOnce; a task whose worker died is lost without it), in the
// order workers finish. The pool closes it when it ends. A consumer that
// stops reading pushes back to the workers and on to Submit.
func (p *Pool[Task, Result]) Results() <-chan Result { return p.results }

// Close stops the pool: Submit fails with ErrClosed from then on; KILL is
// published to every worker, and again every kill bound/8 for a worker
// that missed it; Close waits until every local worker has stopped and
// every remote worker that announced itself has said goodbye, or until
// the kill bound passes, when it cancels the local workers' context
// (cause ErrKillBound); then it closes the pool's sockets and Results.
// Results not yet read are dropped (counted in Undelivered): read what you
// need before Close. Close waits for the local workers' functions to
// return, so they must honour ctx. It returns the pool's first error, or
// nil. It is idempotent and safe for concurrent use.
func (p *Pool[Task, Result]) Close() error {
	p.closeOnce.Do(func() {
		p.closing.Store(true)
		p.kill()
		p.cancel(ErrClosed)
		<-p.done
		p.closeErr = p.err
		if p.closeErr == ErrClosed {
			p.closeErr = nil
		}
	})
	return p.closeErr
}

// kill publishes KILL until every worker has stopped or the bound passes.
func (p *Pool[Task, Result]) kill() {
	if p.ctx.Err() != nil {
		return
	}
	bound := time.NewTimer(p.o.killBound)
	defer bound.Stop()
	again := time.NewTimer(p.o.killBound / 8)
	defer again.Stop()
	_ = p.ctl.Send(p.ctx, killMsg)
	for p.localLive.Load() > 0 || p.st.left.Load() < p.st.joined.Load() {
		select {
		case <-p.changed:
		case <-again.C:
			_ = p.ctl.Send(p.ctx, killMsg)
			again.Reset(p.o.killBound / 8)
		case <-bound.C:
			if n := p.st.joined.Load() - p.st.left.Load(); n > 0 {
				p.o.logger.Warn("pipeline: remote workers did not say goodbye within the kill bound",
					zap.String("pool", p.name), zap.Uint64("workers", n))
			}
			p.wcancel(ErrKillBound)
			return
		case <-p.ctx.Done():
			return
		}
	}
}

// Done returns a channel closed when the pool has fully stopped: its local
// workers have returned and its sockets are closed.
func (p *Pool[Task, Result]) Done() <-chan struct{} { return p.done }

// Err returns the pool's first error once it has stopped or failed
// (ErrClosed after Close), and nil while it is running.
func (p *Pool[Task, Result]) Err() error {
	select {
	case <-p.failed:
		return p.err
	default:
		return nil
	}
}

// Undelivered returns how many tasks and results the pool could not hand
// on when it stopped: messages its sockets held or had queued, results
// not read from Results, and (WithAtLeastOnce) tasks still unanswered. It
// is complete once Done is closed.
func (p *Pool[Task, Result]) Undelivered() uint64 { return p.undelivered.Load() }

// Stats returns a snapshot of the pool's counters. It is safe to call at
// any time, also after the pool has stopped.
func (p *Pool[Task, Result]) Stats() PoolStats {
	s := PoolStats{
		Submitted: p.st.submitted.Load(), Results: p.st.results.Load(), Skipped: p.st.skipped.Load(),
		Resent: p.st.resent.Load(), Duplicates: p.st.duplicates.Load(),
		Joined: p.st.joined.Load(), Left: p.st.left.Load(),
		Killed: p.st.killed.Load(), Forced: p.st.forced.Load(),
	}
	if p.inflight != nil {
		p.mu.Lock()
		s.InFlight = len(p.inflight)
		p.mu.Unlock()
	}
	return s
}
