package pipeline

import (
	"context"
	"errors"
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
// which delivers it on Results; Shutdown waits for the tasks sent to be
// answered and then PUBlishes KILL, Close stops everything at once.
// Results arrive in the order workers finish, not the order of Submit.
//
// The pool owns its three bound sockets (ventilator PUSH, sink PULL, KILL
// PUB), one goroutine that reads the sink, one that resends unanswered
// tasks (WithAtLeastOnce only), one that runs Shutdown's drain, and
// WithWorkers local workers, each one goroutine owning three connected
// sockets. Workers in other processes run Work with the pool's Endpoints.
//
// A Pool is safe for concurrent use. Its zero value is not usable: create
// one with NewPool. It cannot be restarted after it ends.
type Pool[Task, Result any] struct {
	name      string
	o         options
	eps       Endpoints
	taskCodec zchan.Codec[Task]
	resCodec  zchan.Codec[Result]

	// ctx is the pool's own: cancelled by Close, at the end of Shutdown,
	// by a failure, or when the WithLifetime context ends. The
	// constructor's context only bounds the opening.
	ctx    context.Context
	cancel context.CancelCauseFunc

	vent, sink, ctl *zchan.Socket[zchan.Msg]
	results         chan Result

	closing   atomic.Bool   // Submit refuses from now on
	submitMu  sync.RWMutex  // held for reading by Submit around the send and its count, for writing by the drain and supervise
	drainReq  chan struct{} // closed by Shutdown
	drainOnce sync.Once
	nextID    atomic.Uint64

	// At-least-once: unanswered tasks, by id.
	mu       sync.Mutex
	inflight map[uint64]*flight
	idle     atomic.Bool   // the resender waits for a task to be sent
	kick     chan struct{} // wakes an idle resender; buffered 1

	localLive atomic.Int64  // local workers running
	changed   chan struct{} // a worker stopped, joined or left; buffered 1
	answered  chan struct{} // the sink has answered a task; buffered 1
	ready     chan struct{} // closed when WithWaitForWorkers is met
	readyOnce sync.Once

	st      poolCounters
	workerC []*counts // local workers' hand-over counts
	sinkC   counts    // read: results and skips taken off the sink; written: delivered

	loops   sync.WaitGroup // sink reader, resender, drainer
	workers sync.WaitGroup
	errOnce sync.Once
	err     error
	failed  chan struct{} // closed when err is set
	done    chan struct{}

	undelivered, lost atomic.Uint64 // final once done is closed

	// testHookSent, set by tests only (export_test.go) before the first
	// Submit, runs in Submit between the ventilator's accepting a task and
	// Submitted counting it.
	testHookSent func()
}

type flight struct {
	msg zchan.Msg
	due time.Time // zero while being sent
}

type poolCounters struct {
	submitted, skipped, resent, duplicates atomic.Uint64
	remoteFailed                           atomic.Uint64
	joined, left, killed, forced           atomic.Uint64
}

// PoolStats is a snapshot of a pool's counters. Every task message the
// pool sends is counted exactly once, when its fate is known: once the
// pool has ended (Done is closed),
//
//	Submitted + Resent == Results + Skipped + Duplicates + Failed + Undelivered
//
// Without WithAtLeastOnce, Resent and Duplicates are 0: every task
// submitted is delivered, skipped, failed or undelivered. While the pool
// runs, the difference is the tasks on their way.
type PoolStats struct {
	// Submitted counts tasks Submit accepted (returned nil for); Results
	// the results delivered on Results (which is unbuffered: a delivered
	// result has been received); Skipped the tasks whose function returned
	// ErrSkip.
	Submitted, Results, Skipped uint64
	// Resent counts tasks sent again after the at-least-once timeout;
	// Duplicates the results dropped because their task had already been
	// answered.
	Resent, Duplicates uint64
	// Failed counts the tasks whose function or codec failed, in this
	// process or in a worker elsewhere (each failure ends the pool).
	Failed uint64
	// Undelivered counts, once the pool has ended, the tasks and results
	// it abandoned: held by a local worker or the sink reader when they
	// were stopped, plus Lost. It is 0 while the pool runs.
	Undelivered uint64
	// Lost is the part of Undelivered that went into a link and did not
	// come out of it: in a socket's queue or libzmq's when the pool
	// closed, on the wire, or with a worker in another process that
	// stopped or died holding it (ZeroMQ cannot tell these apart).
	Lost uint64
	// InFlight is the number of tasks sent and not yet answered (only
	// tracked with WithAtLeastOnce).
	InFlight int
	// Joined and Left count workers in other processes that announced
	// themselves and that said goodbye.
	Joined, Left uint64
	// Killed counts local workers that stopped on KILL (Shutdown); Forced
	// those stopped by cancellation instead (Close, a Shutdown whose ctx
	// ended, a failure, the WithLifetime context).
	Killed, Forced uint64
}

// killRepeat is how often Shutdown publishes KILL again while it waits
// for the workers: PUB drops KILL for a subscriber that connected (or
// reconnected) after it was sent, and the repeat reaches those, at the
// cost of one small message per subscriber per repeat.
const killRepeat = 100 * time.Millisecond

var poolSeq atomic.Uint64

// NewPool binds the pool's three sockets, starts its local workers, each
// running f, and returns when they are connected, or with an error
// (ErrInvalidOption, zchan's errors for an endpoint, context.Cause(ctx) if
// ctx ends first), in which case nothing is left running.
//
// ctx bounds the opening only. The pool then runs until Shutdown or
// Close, until a worker fails (f's error, a panic wrapped in ErrPanic, a
// remote worker's failure wrapped in ErrRemote), until its zchan.Context
// is terminated, or until the WithLifetime context ends; a failure stops
// every local worker and ends Results, and Err tells why.
//
// Applies: WithContext, WithName, WithLogger, WithCodec, WithLinger,
// WithLifetime, WithWorkers, WithEndpoints, WithAtLeastOnce,
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

	pctx, cancel := context.WithCancelCause(lifetimeOf(&o))
	p := &Pool[Task, Result]{
		name: name, o: o,
		taskCodec: codecFor[Task](&o), resCodec: codecFor[Result](&o),
		ctx: pctx, cancel: cancel,
		results:  make(chan Result),
		drainReq: make(chan struct{}),
		kick:     make(chan struct{}, 1),
		changed:  make(chan struct{}, 1),
		answered: make(chan struct{}, 1),
		ready:    make(chan struct{}),
		failed:   make(chan struct{}),
		done:     make(chan struct{}),
	}
	if o.aloTimeout > 0 {
		p.inflight = make(map[uint64]*flight)
	}
	abort := func(err error) (*Pool[Task, Result], error) {
		cancel(err)
		p.workers.Wait()
		for _, s := range []*zchan.Socket[zchan.Msg]{p.vent, p.sink, p.ctl} {
			if s != nil {
				s.Close()
			}
		}
		return nil, err
	}
	if p.sink, err = zchan.Open(ctx, zchan.Pull, o.sockOpts(name+".sink", zchan.WithBind(eps.Results))...); err != nil {
		return abort(err)
	}
	eps.Results = p.sink.Endpoints()[0]
	if p.ctl, err = zchan.Open(ctx, zchan.Pub, o.sockOpts(name+".control", zchan.WithBind(eps.Control))...); err != nil {
		return abort(err)
	}
	eps.Control = p.ctl.Endpoints()[0]
	if p.vent, err = zchan.Open(ctx, zchan.Push, o.sockOpts(name+".ventilator", zchan.WithBind(eps.Tasks), zchan.WithImmediate(true))...); err != nil {
		return abort(err)
	}
	eps.Tasks = p.vent.Endpoints()[0]
	p.eps = eps

	pr := makeProc(name, f, p.taskCodec, p.resCodec)
	for i := 0; i < o.workers; i++ {
		wname := fmt.Sprintf("%s.worker%d", name, i)
		w, err := openWorker(ctx, &o, wname, eps)
		if err != nil {
			return abort(err)
		}
		cn := new(counts)
		p.workerC = append(p.workerC, cn)
		p.localLive.Add(1)
		p.workers.Add(1)
		go p.runLocal(wname, pr, w, cn)
	}
	p.checkReady()

	p.loops.Add(2)
	go p.readSink()
	go p.drain()
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
func (p *Pool[Task, Result]) runLocal(name string, pr proc, w *workerSockets, cn *counts) {
	defer p.workers.Done()
	killed, err := runWorker(p.ctx, name, pr, w, cn)
	w.close()
	switch {
	case killed:
		p.st.killed.Add(1)
	case p.ctx.Err() != nil:
		p.st.forced.Add(1)
	case err != nil:
		p.fail(err)
	}
	p.localLive.Add(-1)
	p.signal(p.changed)
}

// signal wakes the waiter on c, if any, without blocking.
func (p *Pool[Task, Result]) signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func (p *Pool[Task, Result]) checkReady() {
	if int(p.localLive.Load())+int(p.st.joined.Load()) >= p.o.waitWorkers {
		p.readyOnce.Do(func() { close(p.ready) })
	}
}

// fail records the pool's first outcome and stops it.
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
	cn := &p.sinkC
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
			cn.read.Add(1)
			id, err := idOf(m)
			if err != nil {
				cn.failed.Add(1)
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
					p.signal(p.answered)
					continue
				}
			}
			if k == kSkipped {
				p.st.skipped.Add(1)
				p.signal(p.answered)
				continue
			}
			frames, err := valueOf(m, idHdrLen)
			if err != nil {
				cn.failed.Add(1)
				p.fail(fmt.Errorf("pipeline: %s: result: %w", p.name, err))
				return
			}
			v, err := decode(p.resCodec, frames)
			if err != nil {
				cn.failed.Add(1)
				p.fail(fmt.Errorf("pipeline: %s: result: %w", p.name, err))
				return
			}
			select {
			case p.results <- v:
				cn.written.Add(1)
				p.signal(p.answered)
			case <-ctx.Done():
				cn.held.Add(1)
				return
			}
		case kHello:
			p.st.joined.Add(1)
			p.checkReady()
			p.signal(p.changed)
		case kBye:
			p.st.left.Add(1)
			p.signal(p.changed)
		case kFail:
			if failedOnTask(m) {
				p.st.remoteFailed.Add(1)
			}
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

// drain is Shutdown's work, on the pool's own goroutine: once Shutdown is
// called it waits for the Submits under way, then until every task sent
// has been answered and its result delivered (with WithAtLeastOnce, also
// until none is in flight), then
// closes the ventilator (upstream first) and publishes KILL until every
// local worker has stopped and every remote one has said goodbye; then it
// ends the pool. A Close, a failure or the end of Shutdown's ctx cancels
// the pool's context, which cuts any of these waits short.
func (p *Pool[Task, Result]) drain() {
	defer p.loops.Done()
	select {
	case <-p.drainReq:
	case <-p.ctx.Done():
		return
	}
	p.submitMu.Lock() // every Submit under way has returned
	p.submitMu.Unlock()
	for !p.allAnswered() {
		select {
		case <-p.answered:
		case <-p.ctx.Done():
			return
		}
	}
	p.vent.Close()
	t := time.NewTimer(killRepeat)
	defer t.Stop()
	_ = p.ctl.Send(p.ctx, killMsg)
	for p.localLive.Load() > 0 || p.st.left.Load() < p.st.joined.Load() {
		select {
		case <-p.changed:
		case <-t.C:
			_ = p.ctl.Send(p.ctx, killMsg)
			t.Reset(killRepeat)
		case <-p.ctx.Done():
			return
		}
	}
	p.fail(fmt.Errorf("pipeline: %s: %w", p.name, ErrClosed))
}

// allAnswered reports whether every task sent has had its answer
// delivered: as many results delivered and skips as tasks sent and, with
// WithAtLeastOnce, none in flight. An empty in-flight table alone is not
// enough: the sink takes a task out of it when it reads the result, before
// Results has been read.
func (p *Pool[Task, Result]) allAnswered() bool {
	if p.inflight != nil {
		p.mu.Lock()
		n := len(p.inflight)
		p.mu.Unlock()
		if n > 0 {
			return false
		}
	}
	return p.sinkC.written.Load()+p.st.skipped.Load() == p.st.submitted.Load()
}

// supervise waits until the pool's context has ended, then closes
// everything upstream first (the ventilator, the workers, the sink, the
// control socket), settles the accounting and closes Done.
func (p *Pool[Task, Result]) supervise() {
	<-p.ctx.Done()
	// Submit refuses from now on (the lifetime's end or a failure does not
	// set closing on its own), and a Submit under way returns once the
	// ventilator is closed. Waiting for it to leave submitMu means its task
	// is counted in Submitted, or refused, before the accounting below is
	// settled: a task Send accepted and Submitted counted only afterwards
	// would be missing from Undelivered.
	p.closing.Store(true)
	p.vent.Close()
	p.submitMu.Lock()
	p.submitMu.Unlock()
	if p.st.left.Load() < p.st.joined.Load() {
		// Remote workers are still there: tell them, once (the control
		// socket hands it on within the linger as it closes).
		kctx, kcancel := context.WithTimeout(context.Background(), p.o.linger)
		_ = p.ctl.Send(kctx, killMsg)
		kcancel()
	}
	p.workers.Wait() // each closes its sockets, tasks first
	p.loops.Wait()
	p.sink.Close()
	p.ctl.Close()
	p.fail(context.Cause(p.ctx)) // a no-op unless nothing recorded the end

	// Messages that went into a link and did not come out of it: tasks
	// sent (Submit, resend) and results sent by local workers, against
	// tasks taken by local workers and results taken by the sink. A remote
	// worker's counts are not known here: what it holds or lost shows as
	// a link's loss, except a task it reported failing on.
	in := int64(p.st.submitted.Load() + p.st.resent.Load())
	out := int64(p.sinkC.read.Load() + p.st.remoteFailed.Load())
	held := int64(p.sinkC.held.Load())
	for _, cn := range p.workerC {
		in += int64(cn.written.Load())
		out += int64(cn.read.Load())
		held += int64(cn.held.Load())
	}
	lost := max(in-out, 0) // in < out only if a remote peer made messages up
	p.lost.Store(uint64(lost))
	p.undelivered.Store(uint64(lost + held))
	if lost+held > 0 {
		p.o.logger.Warn("pipeline: pool ended with undelivered tasks",
			zap.String("pool", p.name), zap.Int64("undelivered", lost+held), zap.Int64("lost", lost), zap.Error(p.err))
	}
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
// workers are connected. It returns context.Cause(ctx) if ctx ends first;
// an error wrapping ErrClosed once Shutdown or Close has begun (a Submit
// under way when Shutdown begins is waited for, and its task drained);
// the pool's error after it has failed; an error wrapping zchan.ErrCodec
// if t cannot be encoded, or ErrPanic if the codec panicked (which also
// fails the pool). A nil return means the pool has sent the task, counted
// in PoolStats.Submitted; with WithAtLeastOnce it keeps it until it is
// answered. Submit is safe for concurrent use.
func (p *Pool[Task, Result]) Submit(ctx context.Context, t Task) error {
	if p.closing.Load() {
		return p.endErr()
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
		err = fmt.Errorf("pipeline: %s: submit: %w", p.name, err)
		if errors.Is(err, ErrPanic) {
			p.fail(err)
		}
		return err
	}
	p.submitMu.RLock()
	defer p.submitMu.RUnlock()
	if p.closing.Load() {
		return p.endErr()
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
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return p.endErr()
	}
	if p.testHookSent != nil {
		p.testHookSent()
	}
	p.st.submitted.Add(1)
	if f != nil {
		p.mu.Lock()
		f.due = time.Now().Add(p.o.aloTimeout)
		p.mu.Unlock()
		if p.idle.Load() {
			p.signal(p.kick)
		}
	}
	return nil
}

// endErr is what Submit returns once the pool is ending: its failure, if
// it failed, else ErrClosed.
func (p *Pool[Task, Result]) endErr() error {
	if err := p.Err(); err != nil && !errors.Is(err, ErrClosed) {
		return err
	}
	if cause := context.Cause(p.ctx); cause != nil && !errors.Is(cause, ErrClosed) {
		return cause // a failure being recorded, or the lifetime's end
	}
	return fmt.Errorf("pipeline: %s: submit: %w", p.name, ErrClosed)
}

// Results returns the channel of results, one per task (exactly one with
// WithAtLeastOnce; a task whose worker died is lost without it), in the
// order workers finish. The pool closes it when it ends. A consumer that
// stops reading pushes back to the workers and on to Submit.
func (p *Pool[Task, Result]) Results() <-chan Result { return p.results }

// Shutdown drains and stops the pool, as net/http's Server.Shutdown does
// a server: Submit fails with an error wrapping ErrClosed from then on
// (Submits under way are waited for); Shutdown waits until every task
// sent has been answered, its result delivered on Results (so Results
// must be read), then closes the ventilator and publishes KILL, again
// every 100 ms for a worker that missed it, until every local worker has
// stopped and every remote worker that announced itself has said goodbye;
// then it closes the pool's sockets and Results. If ctx ends first,
// Shutdown closes the pool at once (Close) and returns context.Cause(ctx);
// what it abandoned is counted in Undelivered. Without WithAtLeastOnce a
// task lost with a crashed remote worker is never answered, so such a
// Shutdown waits for ctx. Otherwise it returns the pool's first error
// (not ErrClosed), or nil. Shutdown waits until Done is closed. It is
// safe for concurrent use and may be called again, or after Close.
func (p *Pool[Task, Result]) Shutdown(ctx context.Context) error {
	p.drainOnce.Do(func() {
		p.closing.Store(true)
		close(p.drainReq)
	})
	select {
	case <-p.done:
		return p.result()
	case <-ctx.Done():
		p.Close()
		return context.Cause(ctx)
	}
}

// Close stops the pool at once: Submit fails with an error wrapping
// ErrClosed from then on; the local workers' context is cancelled (so
// their functions must honour ctx), the sockets close upstream first, the
// ventilator, the workers', the sink, each handing on what it holds
// within the linger, and remote workers are sent KILL once. Tasks not yet
// answered and results not read are abandoned, counted in Undelivered.
// Close waits until Done is closed, which takes about the linger at most
// once the local workers' functions have returned, whether or not Results
// is read. It returns the pool's first error (not ErrClosed), or nil. It
// is idempotent and safe for concurrent use.
func (p *Pool[Task, Result]) Close() error {
	p.closing.Store(true)
	p.fail(fmt.Errorf("pipeline: %s: %w", p.name, ErrClosed))
	<-p.done
	return p.result()
}

func (p *Pool[Task, Result]) result() error {
	if errors.Is(p.err, ErrClosed) {
		return nil
	}
	return p.err
}

// Done returns a channel closed when the pool has fully stopped: its local
// workers have returned, its sockets are closed and the accounting is
// final.
func (p *Pool[Task, Result]) Done() <-chan struct{} { return p.done }

// Err returns the pool's first error once it has stopped or failed (an
// error wrapping ErrClosed after Close or Shutdown), and nil while it is
// running.
func (p *Pool[Task, Result]) Err() error {
	select {
	case <-p.failed:
		return p.err
	default:
		return nil
	}
}

// Undelivered returns PoolStats.Undelivered: how many tasks and results
// the pool abandoned. It is final once Done is closed, and 0 before.
func (p *Pool[Task, Result]) Undelivered() uint64 { return p.undelivered.Load() }

// Progress returns a number that grows whenever a task or result moves
// through the pool (sent, taken or answered by a local worker, taken off
// the sink, delivered): a shutdown coordinator watches it to see when the
// pool has gone still.
func (p *Pool[Task, Result]) Progress() uint64 {
	n := p.st.submitted.Load() + p.st.resent.Load() + p.sinkC.read.Load() + p.sinkC.written.Load()
	for _, cn := range p.workerC {
		n += cn.read.Load() + cn.written.Load()
	}
	return n
}

// Stats returns a snapshot of the pool's counters (see PoolStats). It is
// safe to call at any time, also after the pool has stopped.
func (p *Pool[Task, Result]) Stats() PoolStats {
	s := PoolStats{
		Submitted: p.st.submitted.Load(), Results: p.sinkC.written.Load(), Skipped: p.st.skipped.Load(),
		Resent: p.st.resent.Load(), Duplicates: p.st.duplicates.Load(),
		Failed:      p.sinkC.failed.Load() + p.st.remoteFailed.Load(),
		Undelivered: p.undelivered.Load(), Lost: p.lost.Load(),
		Joined: p.st.joined.Load(), Left: p.st.left.Load(),
		Killed: p.st.killed.Load(), Forced: p.st.forced.Load(),
	}
	for _, cn := range p.workerC {
		s.Failed += cn.failed.Load()
	}
	if p.inflight != nil {
		p.mu.Lock()
		s.InFlight = len(p.inflight)
		p.mu.Unlock()
	}
	return s
}
