package pipeline

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/zmqchan/zmqchan/zchan"
)

// Pool is a worker pool: the guide's load-balancing broker with Paranoid
// Pirate workers, and credit. Submit hands a task to the pool, which sends
// it over its ROUTER to a registered worker that has credit left; the
// worker runs the pool's function and sends the result back on the same
// link, and the pool delivers it on Results. Both sides heartbeat; a
// worker silent for the liveness bound is declared dead, and the tasks it
// held are re-dispatched (WithAtLeastOnce) or reported lost by id.
// Results arrive in the order workers finish, not the order of Submit.
// The protocol, for workers in other languages, is in the package doc.
//
// The pool owns its ROUTER, one goroutine that owns all of its state (the
// workers, their credit, the tasks in flight) and WithWorkers local
// workers, each two goroutines and a DEALER connected over the pool's
// endpoint (inproc by default). Workers in other processes run Work with
// the pool's Endpoint.
//
// A Pool is safe for concurrent use. Its zero value is not usable: create
// one with NewPool. It cannot be restarted after it ends.
type Pool[Task, Result any] struct {
	name      string
	o         options
	endpoint  string
	taskCodec zchan.Codec[Task]
	resCodec  zchan.Codec[Result]
	events    chan<- PoolEvent[Task]

	// ctx is the pool's own: cancelled by Close, at the end of Shutdown,
	// by a failure, or when the WithLifetime context ends. The
	// constructor's context only bounds the opening.
	ctx    context.Context
	cancel context.CancelCauseFunc

	router  *zchan.Socket[zchan.Msg]
	free    *freeList // the buffers of the TASKS messages the router has sent
	results chan Result
	// kick wakes the loop when Submit has queued a task in subq (one
	// pending wake-up is enough: the loop takes all of subq at once).
	kick chan struct{}

	closing   atomic.Bool   // Submit refuses from now on
	drainReq  chan struct{} // closed by Shutdown
	drainOnce sync.Once

	// mu guards st, which Submit and the loop write and Stats reads, and
	// what Submit shares with the loop. Submit puts a task in subq under
	// the lock and returns, without waiting for the loop: a hand-off per
	// task to the loop's select was a goroutine switch per task.
	mu       sync.Mutex
	st       PoolStats
	subq     []*poolTask[Task, Result] // submitted, not yet taken by the loop
	nextID   uint64                    // the last task id given
	qlimit   int                       // Submit waits while st.Queued is at it
	sready   bool                      // the loop's ready, for Submit
	sclosed  bool                      // Submit refuses (set under mu, then drainReq closed)
	space    chan struct{}             // closed when Submit may try again; nil if nobody waits
	progress atomic.Uint64

	local   sync.WaitGroup // local workers
	errOnce sync.Once
	err     error
	failed  chan struct{} // closed when err is set
	done    chan struct{}

	// The loop's own state, touched by no other goroutine.
	workers  map[string]*poolWorker
	order    []*poolWorker // registration order, for round robin
	rr       int
	tasks    map[uint64]*poolTask[Task, Result] // taken and not yet answered and delivered
	queue    deque[*poolTask[Task, Result]]     // waiting for a worker with credit: re-dispatched first, then submitted
	pending  deque[*poolTask[Task, Result]]     // answered, waiting to be delivered on Results
	spare    []*poolTask[Task, Result]          // the subq before last, for reuse
	ready    bool                               // WithWaitForWorkers met
	stopping bool                               // the pool is ending: answers are not delivered
	now      time.Time                          // when the message being handled arrived
}

// poolWorker is a registered worker, as the loop sees it.
type poolWorker struct {
	id     []byte // the ROUTER's identity of its DEALER
	name   string
	credit int
	held   int       // tasks sent and not answered (their w is this worker): what its credit bounds
	last   time.Time // when it last said anything
	win    window    // how many of its credit the pool keeps out to it now
}

type poolTask[Task, Result any] struct {
	id       uint64
	v        Task
	entry    []byte // the task's entry of a TASKS message
	w        *poolWorker
	answered bool
	res      Result
}

// PoolStats is a snapshot of a pool's counters. Every task Submit
// accepted is counted exactly once by its fate, so at any time
//
//	Submitted == Results + Skipped + Failed + Lost + InFlight + Queued
//
// and once the pool has ended (Done is closed), when InFlight and Queued
// have moved into Undelivered,
//
//	Submitted == Results + Skipped + Failed + Undelivered
type PoolStats struct {
	// Submitted counts tasks Submit accepted (returned nil for); Results
	// the results handed to the Results channel (its buffer included,
	// WithResultBuffer: those the consumer never read are taken back at
	// Close and moved to Undelivered, so once the pool is done Results is
	// what the consumer received; the count follows the hand-off, so a
	// consumer may read a result a moment before Results counts it);
	// Skipped the tasks whose function returned
	// ErrSkip; Failed the tasks whose function or codec failed, here or in
	// a worker elsewhere (each failure ends the pool).
	Submitted, Results, Skipped, Failed uint64
	// Lost counts the tasks held by workers declared dead (or that left
	// holding them) without WithAtLeastOnce: each is named by id in the
	// WorkerDead or WorkerLeft event and the log line.
	Lost uint64
	// Undelivered is Lost while the pool runs; once it has ended, Lost
	// plus the tasks it abandoned: in flight, queued, or answered and not
	// delivered when it closed (results left unread in the Results
	// channel by a Close included).
	Undelivered uint64
	// InFlight counts the tasks sent to a worker whose result has not
	// been delivered yet; Queued the tasks waiting in the pool for a
	// worker with credit (WithQueueSize; the tasks of a dead worker
	// re-dispatched with WithAtLeastOnce go first).
	InFlight, Queued int
	// Resent counts tasks sent again after their worker died
	// (WithAtLeastOnce): what the dead workers held, each at most its
	// credit. Duplicates
	// counts answers dropped because their task was already answered or
	// reported lost (a worker declared dead that was only slow).
	Resent, Duplicates uint64
	// Joined counts worker registrations (READY, local workers included;
	// a worker that reconnects registers again); Left the goodbyes; Dead
	// the workers declared dead; Workers those registered now.
	Joined, Left, Dead uint64
	Workers            int
	// EventsDropped counts events that did not fit in WithEvents' channel.
	EventsDropped uint64
}

// EventKind says what happened to a worker.
type EventKind int

const (
	// WorkerJoined: a worker registered (READY).
	WorkerJoined EventKind = iota + 1
	// WorkerLeft: a worker said goodbye, or reported a failure.
	WorkerLeft
	// WorkerDead: a worker was silent for the liveness bound.
	WorkerDead
)

func (k EventKind) String() string {
	switch k {
	case WorkerJoined:
		return "joined"
	case WorkerLeft:
		return "left"
	case WorkerDead:
		return "dead"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// PoolEvent reports a worker joining, leaving or dying (WithEvents).
type PoolEvent[Task any] struct {
	Kind EventKind
	// Worker is the worker's name, as it registered (Work's WithName and
	// its number; a local worker's is the pool's name and ".workerN").
	Worker string
	// IDs and Tasks are the tasks the worker held unanswered when it left
	// or died: re-dispatched if Resent (WithAtLeastOnce), else lost.
	IDs    []uint64
	Tasks  []Task
	Resent bool
}

var poolSeq atomic.Uint64

// NewPool binds the pool's ROUTER, starts its local workers, each running
// f, and returns, or fails with an error (ErrInvalidOption, zchan's errors
// for an endpoint, context.Cause(ctx) if ctx ends first), in which case
// nothing is left running.
//
// ctx bounds the opening only. The pool then runs until Shutdown or
// Close, until a worker fails (f's error, a panic wrapped in ErrPanic, a
// remote worker's failure wrapped in ErrRemote), until its zchan.Context
// is terminated, or until the WithLifetime context ends; each of these
// sends KILL to every worker over its link and waits up to the kill bound
// (WithKillTimeout) for their goodbyes, then ends Results, and Err tells
// why.
//
// Applies: WithContext, WithName, WithLogger, WithCodec, WithLinger,
// WithLifetime, WithWorkers, WithEndpoint, WithAtLeastOnce,
// WithWaitForWorkers, WithWorkerCredit, WithQueueSize, WithResultBuffer,
// WithHeartbeat, WithKillTimeout, WithEvents.
func NewPool[Task, Result any](ctx context.Context, f Stage[Task, Result], opts ...Option) (*Pool[Task, Result], error) {
	o, err := newOptions(forPool, opts)
	if err != nil {
		return nil, err
	}
	if f == nil {
		return nil, fmt.Errorf("pipeline: new pool: nil function: %w", ErrInvalidOption)
	}
	var events chan<- PoolEvent[Task]
	if o.events != nil {
		ch, ok := o.events.(chan<- PoolEvent[Task])
		if !ok {
			return nil, fmt.Errorf("pipeline: new pool: WithEvents channel %T for tasks of type %T: %w", o.events, *new(Task), ErrInvalidOption)
		}
		events = ch
	}
	seq := poolSeq.Add(1)
	name := o.name
	if name == "" {
		name = fmt.Sprintf("pool#%d", seq)
	}
	ep := o.endpoint
	if ep == "" {
		ep = fmt.Sprintf("inproc://zmqchan-pool-%d", seq)
	}
	free := new(freeList)
	router, err := zchan.Open(ctx, zchan.Router, o.sockOpts(name+".router", zchan.WithBind(ep),
		zchan.WithSent(free.sentBatch(kTask, 1)))...)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithCancelCause(lifetimeOf(&o))
	p := &Pool[Task, Result]{
		name: name, o: o, endpoint: router.Endpoints()[0], events: events,
		taskCodec: codecFor[Task](&o), resCodec: codecFor[Result](&o),
		ctx: pctx, cancel: cancel, router: router, free: free,
		results:  make(chan Result, o.resultBuf),
		kick:     make(chan struct{}, 1),
		drainReq: make(chan struct{}),
		failed:   make(chan struct{}),
		done:     make(chan struct{}),
		workers:  make(map[string]*poolWorker),
		tasks:    make(map[uint64]*poolTask[Task, Result]),
		ready:    o.waitWorkers == 0,
		sready:   o.waitWorkers == 0,
		qlimit:   o.queue,
	}
	pr := makeProc(name, f, p.taskCodec, p.resCodec)
	for i := 0; i < o.workers; i++ {
		c := &workerConf{name: fmt.Sprintf("%s.worker%d", name, i), endpoint: p.endpoint, o: &p.o, onFail: p.fail}
		p.local.Go(func() {
			var st workCounters
			_, _ = runWorker(pctx, c, pr, &st) // its failure reached p.fail
		})
	}
	go p.loop()
	o.logger.Debug("pipeline: pool started", zap.String("pool", name), zap.String("endpoint", p.endpoint))
	return p, nil
}

// fail records the pool's first outcome and stops it.
func (p *Pool[Task, Result]) fail(err error) {
	p.errOnce.Do(func() {
		p.err = err
		close(p.failed)
	})
	p.cancel(err)
}

// update runs f on the stats under the lock, and brings what Submit
// reads of the loop's state up to date. The loop calls it.
func (p *Pool[Task, Result]) update(f func(s *PoolStats)) {
	p.mu.Lock()
	f(&p.st)
	p.st.InFlight = len(p.tasks) - p.queue.len()
	p.st.Queued = p.queue.len() + len(p.subq)
	p.st.Workers = len(p.workers)
	p.qlimit = p.o.queue + len(p.order)
	p.sready = p.ready
	if p.space != nil && p.sready && p.st.Queued < p.qlimit {
		close(p.space)
		p.space = nil
	}
	p.mu.Unlock()
	p.progress.Add(1)
}

// takeSubmitted moves what Submit queued into the loop's queue.
func (p *Pool[Task, Result]) takeSubmitted() {
	p.mu.Lock()
	sub := p.subq
	p.subq = p.spare[:0]
	p.mu.Unlock()
	for _, t := range sub {
		p.tasks[t.id] = t
		p.queue.pushBack(t)
	}
	clear(sub)
	p.spare = sub
}

// loop owns the pool's state. It reads every message from the workers as
// it arrives, whatever the consumer of Results does: back pressure is the
// credit (a task is charged to its worker until it is answered) and the
// bound on results waiting for the consumer (see dispatch), never a
// stopped socket, so a stalled consumer cannot starve the
// heartbeats. It ends when the pool's context does, or when a Shutdown has
// drained, after the KILL round.
func (p *Pool[Task, Result]) loop() {
	tick := time.NewTicker(p.o.heartbeat)
	defer tick.Stop()
	draining := false
	drainReq := p.drainReq
	// readPoll runs only at the end of a Shutdown, while every task has
	// been handed over and the consumer has yet to read the last results
	// out of the Results channel's buffer: a read from a channel wakes
	// nobody, so the loop looks again every millisecond.
	var readPoll *time.Timer
	unread := -1 // len(p.results) at the last poll, for Progress
	defer func() {
		if readPoll != nil {
			readPoll.Stop()
		}
	}()
	for {
		var polled <-chan time.Time
		if draining && len(p.tasks) == 0 && len(p.results) > 0 {
			if readPoll == nil {
				readPoll = time.NewTimer(time.Millisecond)
			} else {
				readPoll.Reset(time.Millisecond)
			}
			polled = readPoll.C
		}
		var resC chan Result
		var head Result
		if p.pending.len() > 0 {
			resC, head = p.results, p.pending.front().res
		}
		select {
		case m, ok := <-p.router.In():
			if !ok {
				if p.ctx.Err() == nil {
					p.fail(fmt.Errorf("pipeline: %s: %w", p.name, p.router.Err()))
				}
				p.end()
				return
			}
			p.handle(m)
			// Take what else has arrived without going round the select
			// (a cheaper receive than a select of seven cases).
			for range batch {
				select {
				case m, ok := <-p.router.In():
					if ok {
						p.handle(m)
						continue
					}
				default:
				}
				break
			}
		case <-p.kick:
			p.takeSubmitted()
		case resC <- head:
			p.delivered()
			n := uint64(1)
			// Deliver on while the consumer is there to take them.
			for ; n < batch && p.pending.len() > 0; n++ {
				select {
				case p.results <- p.pending.front().res:
					p.delivered()
					continue
				default:
				}
				break
			}
			p.update(func(s *PoolStats) { s.Results += n })
		case <-tick.C:
			p.beat()
		case <-polled:
			if n := len(p.results); n != unread {
				unread = n
				p.progress.Add(1) // the consumer read some: not still
			}
		case <-drainReq:
			draining, drainReq = true, nil
		case <-p.ctx.Done():
			p.end()
			return
		}
		p.dispatch()
		if draining {
			p.takeSubmitted() // what Submit queued before Shutdown
			p.dispatch()
		}
		if draining && len(p.tasks) == 0 && len(p.results) == 0 {
			p.killRound()
			p.fail(fmt.Errorf("pipeline: %s: %w", p.name, ErrClosed))
			p.finish()
			return
		}
	}
}

// ending reports whether the pool is stopping: its answers are no longer
// delivered and a worker's tasks no longer re-dispatched or lost, but
// abandoned.
func (p *Pool[Task, Result]) ending() bool { return p.stopping || p.ctx.Err() != nil }

// batch is how many messages (or Submits) the loop takes in a row once
// one has woken it, before it looks at its other channels again.
const batch = 64

// delivered settles the head of pending, just received from Results;
// the caller counts it.
func (p *Pool[Task, Result]) delivered() {
	p.settle(p.pending.popFront())
}

// send charges ts to w and sends them in one TASKS message.
func (p *Pool[Task, Result]) send(w *poolWorker, ts []*poolTask[Task, Result]) {
	size := 1
	for _, t := range ts {
		size += len(t.entry)
	}
	b := append(p.free.get(size), kTask)
	for _, t := range ts {
		t.w = w
		w.held++
		b = append(b, t.entry...)
	}
	w.win.sent(time.Now(), len(ts), w.held)
	if err := p.router.Send(p.ctx, zchan.Msg{w.id, b}); err != nil && p.ctx.Err() == nil {
		p.fail(fmt.Errorf("pipeline: %s: send task: %w", p.name, err))
	}
	p.progress.Add(1)
}

// dispatch sends queued tasks to workers with room in their window, round
// robin, each worker's in one message. A worker's window (see window) is
// at most its credit; it gets more only once half its window is free:
// handing over each task as an answer frees room would make each message
// one task. Nothing is sent while the results waiting for the consumer of
// Results (beyond the channel's buffer) reach the workers' credit all
// together: so a consumer that stops reading stops the workers once they
// have answered what they hold, and the pool holds at most twice the
// credit of its workers in tasks sent or answered and not handed over,
// besides the results in the buffer (WithResultBuffer).
func (p *Pool[Task, Result]) dispatch() {
	if p.queue.len() == 0 || p.stopping {
		return
	}
	n := len(p.order)
	total := 0
	for _, w := range p.order {
		total += w.credit
	}
	if p.pending.len() >= total {
		return
	}
	for i := 0; i < n && p.queue.len() > 0; i++ {
		w := p.order[(p.rr+i)%n]
		free := w.win.free(w.held)
		if free == 0 {
			continue
		}
		ts := p.batchFor(free)
		if len(ts) > 0 {
			p.send(w, ts)
		}
	}
	if n > 0 {
		p.rr = (p.rr + 1) % n
	}
	p.update(func(*PoolStats) {})
}

// batchFor takes up to n tasks off the queue, skipping those answered
// meanwhile (a late answer to a re-dispatched task).
func (p *Pool[Task, Result]) batchFor(n int) []*poolTask[Task, Result] {
	ts := make([]*poolTask[Task, Result], 0, min(n, p.queue.len()))
	for len(ts) < n && p.queue.len() > 0 {
		t := p.queue.popFront()
		if !t.answered {
			ts = append(ts, t)
		}
	}
	return ts
}

// settle removes an answered (or failed) task and its charge.
func (p *Pool[Task, Result]) settle(t *poolTask[Task, Result]) {
	delete(p.tasks, t.id)
	p.unhold(t)
}

// unhold takes t off its worker's charge, if it is still on one: an
// answer, for the worker's window.
func (p *Pool[Task, Result]) unhold(t *poolTask[Task, Result]) {
	if w := t.w; w != nil {
		w.held--
		w.win.answered(p.now, 1, w.held)
		t.w = nil
	}
}

// handle acts on one message from a worker: [identity, kind and body...].
func (p *Pool[Task, Result]) handle(m zchan.Msg) {
	if len(m) < 2 {
		return // an empty message: nothing this package sends
	}
	ident, body := m[0], m[1:]
	p.now = time.Now()
	w := p.workers[string(ident)]
	if w != nil {
		w.last = p.now
	}
	k := kindOf(body)
	switch k {
	case kHello:
		credit, err := creditOf(body)
		if err != nil || credit < 1 {
			p.o.logger.Warn("pipeline: pool: bad READY", zap.String("pool", p.name), zap.Error(err))
			return
		}
		if p.ending() {
			p.tell(ident, kKill)
			return
		}
		if w != nil {
			p.drop(w, WorkerLeft, "registered again")
		}
		name := ""
		if len(body) > 1 {
			name = string(body[1])
		}
		w = &poolWorker{id: append([]byte(nil), ident...), name: name, credit: min(credit, p.o.credit),
			last: p.now}
		w.win = newWindow(w.credit)
		p.workers[string(ident)] = w
		p.order = append(p.order, w)
		if len(p.workers) >= p.o.waitWorkers {
			p.ready = true
		}
		p.update(func(s *PoolStats) { s.Joined++ })
		p.o.logger.Debug("pipeline: worker joined", zap.String("pool", p.name), zap.String("worker", name), zap.Int("credit", w.credit))
		p.emit(PoolEvent[Task]{Kind: WorkerJoined, Worker: name})
		return
	case kBye:
		if w != nil {
			p.drop(w, WorkerLeft, "said goodbye")
		}
		return
	}
	if w == nil && k != kResult && k != kFail {
		// A worker the pool does not know (declared dead, or a pool that
		// restarted): register again, or stop if the pool is ending.
		if p.ending() {
			p.tell(ident, kKill)
		} else {
			p.tell(ident, kReconnect)
		}
		return
	}
	switch k {
	case kPing:
	case kResult:
		if err := p.answers(body); err != nil {
			p.fail(fmt.Errorf("pipeline: %s: %w", p.name, err))
			return
		}
		if w == nil && p.ending() {
			p.tell(ident, kKill)
		} else if w == nil {
			p.tell(ident, kReconnect)
		}
	case kFail:
		if len(body[0]) >= idHdrLen {
			id, _ := idOf(body)
			if t := p.tasks[id]; t != nil && !t.answered {
				p.settle(t)
				p.update(func(s *PoolStats) { s.Failed++ })
			}
		}
		name := "unknown"
		if w != nil {
			name = w.name
			p.drop(w, WorkerLeft, "failed")
		}
		p.fail(remoteErr(p.name+": worker "+name, body))
	default:
		p.fail(fmt.Errorf("pipeline: %s: message kind %q: %w", p.name, k, ErrProtocol))
	}
}

// answers takes the answers of a RESULTS message.
func (p *Pool[Task, Result]) answers(body zchan.Msg) error {
	b, err := batchBody(body)
	if err != nil {
		return err
	}
	var dups, skipped uint64
	_, nframes := countEntries(b, true)
	slab := make([][]byte, 0, nframes)
	for len(b) > 0 {
		status := b[0]
		var id uint64
		var frames [][]byte
		var rest []byte
		id, frames, rest, slab, err = nextEntry(b[1:], slab)
		if err != nil {
			return err
		}
		if status != kResult && status != kSkipped {
			return fmt.Errorf("pipeline: answer status %q: %w", status, ErrProtocol)
		}
		b = rest
		t := p.tasks[id]
		switch {
		case t == nil || t.answered:
			dups++
		case status == kSkipped:
			t.answered = true
			p.settle(t)
			skipped++
		default:
			if !p.answer(t, frames) {
				return nil
			}
		}
	}
	if dups+skipped > 0 {
		p.update(func(s *PoolStats) { s.Duplicates += dups; s.Skipped += skipped })
	}
	return nil
}

// answer takes t's first answer, a result of frames. It reports whether
// the pool goes on.
func (p *Pool[Task, Result]) answer(t *poolTask[Task, Result], frames [][]byte) bool {
	t.answered = true
	p.unhold(t)
	if p.ending() {
		return true // abandoned: counted in Undelivered at the end
	}
	var err error
	t.res, err = decode(p.resCodec, frames)
	if err != nil {
		p.settle(t)
		p.update(func(s *PoolStats) { s.Failed++ })
		p.fail(fmt.Errorf("pipeline: %s: result: %w", p.name, err))
		return false
	}
	p.pending.pushBack(t)
	p.progress.Add(1)
	return true
}

// tell sends a one-frame command to the worker with identity ident.
func (p *Pool[Task, Result]) tell(ident []byte, kind byte) {
	ctx := p.ctx
	if p.ending() {
		ctx = context.Background() // the router's Send does not wait for a peer
	}
	_ = p.router.Send(ctx, zchan.Msg{append([]byte(nil), ident...), {kind}})
}

// beat sends every worker a heartbeat and declares dead those silent for
// the liveness bound.
func (p *Pool[Task, Result]) beat() {
	bound := p.o.heartbeat * time.Duration(p.o.liveness)
	now := time.Now()
	for _, w := range append([]*poolWorker(nil), p.order...) {
		if silent := now.Sub(w.last); silent >= bound {
			p.drop(w, WorkerDead, fmt.Sprintf("silent for %v", silent.Round(time.Millisecond)))
			continue
		}
		_ = p.router.Send(p.ctx, zchan.Msg{w.id, pingMsg[0]})
	}
}

// drop removes w; the tasks it held unanswered are queued again
// (WithAtLeastOnce) or lost.
func (p *Pool[Task, Result]) drop(w *poolWorker, kind EventKind, why string) {
	stopping := p.ending()
	delete(p.workers, string(w.id))
	for i, x := range p.order {
		if x == w {
			p.order = append(p.order[:i], p.order[i+1:]...)
			break
		}
	}
	ev := PoolEvent[Task]{Kind: kind, Worker: w.name, Resent: p.o.atLeastOnce}
	var mine, again []*poolTask[Task, Result]
	for _, t := range p.tasks { // a death is rare: a scan, not a set per worker
		if t.w == w {
			mine = append(mine, t)
		}
	}
	slices.SortFunc(mine, func(a, b *poolTask[Task, Result]) int { return cmp.Compare(a.id, b.id) })
	for _, t := range mine {
		id := t.id
		ev.IDs = append(ev.IDs, id)
		ev.Tasks = append(ev.Tasks, t.v)
		t.w = nil
		if p.o.atLeastOnce && !stopping {
			again = append(again, t)
		} else if !stopping {
			delete(p.tasks, id)
		}
	}
	for _, t := range slices.Backward(again) {
		p.queue.pushFront(t)
	}
	n := uint64(len(ev.IDs))
	p.update(func(s *PoolStats) {
		switch kind {
		case WorkerDead:
			s.Dead++
		case WorkerLeft:
			s.Left++
		}
		if !stopping {
			if p.o.atLeastOnce {
				s.Resent += n
			} else {
				s.Lost += n
			}
		}
	})
	fields := []zap.Field{zap.String("pool", p.name), zap.String("worker", w.name), zap.String("why", why), zap.Uint64s("tasks", ev.IDs)}
	switch {
	case kind == WorkerDead:
		if p.o.atLeastOnce {
			p.o.logger.Warn("pipeline: worker declared dead, its tasks re-dispatched", fields...)
		} else {
			p.o.logger.Warn("pipeline: worker declared dead, its tasks lost", fields...)
		}
	case n > 0 && !stopping:
		p.o.logger.Warn("pipeline: worker left holding tasks", fields...)
	default:
		p.o.logger.Debug("pipeline: worker left", fields...)
	}
	p.emit(ev)
}

func (p *Pool[Task, Result]) emit(ev PoolEvent[Task]) {
	if p.events == nil {
		return
	}
	select {
	case p.events <- ev:
	default:
		p.update(func(s *PoolStats) { s.EventsDropped++ })
	}
}

// killRound sends KILL to every registered worker over its link and waits
// up to the kill bound for their goodbyes, reading (and, once stopping,
// abandoning) whatever comes before them, so a goodbye queued behind
// results is still seen. It does not depend on the pool's context, which
// may have ended.
func (p *Pool[Task, Result]) killRound() {
	p.stopping = true
	for _, w := range p.order {
		p.tell(w.id, kKill)
	}
	if len(p.workers) == 0 && p.o.workers == 0 {
		return
	}
	t := time.NewTimer(p.o.killTimeout)
	defer t.Stop()
	localDone := make(chan struct{})
	go func() { // owned: waited for below, and the local workers end on the pool's context
		p.local.Wait()
		close(localDone)
	}()
	defer func() {
		p.cancel(fmt.Errorf("pipeline: %s: %w", p.name, ErrClosed)) // a local worker that missed KILL
		<-localDone
	}()
	lc := localDone
	for len(p.workers) > 0 || lc != nil {
		select {
		case m, ok := <-p.router.In():
			if !ok {
				return
			}
			p.handle(m)
		case <-lc:
			lc = nil
		case <-t.C:
			names := make([]string, 0, len(p.workers))
			for _, w := range p.workers {
				names = append(names, w.name)
			}
			if len(names) > 0 {
				p.o.logger.Warn("pipeline: workers did not say goodbye within the kill bound",
					zap.String("pool", p.name), zap.Strings("workers", names), zap.Duration("bound", p.o.killTimeout))
			}
			p.cancel(fmt.Errorf("pipeline: %s: %w", p.name, ErrClosed)) // the local workers stop on it
			return
		}
	}
}

// end is the loop's end on the pool's context.
func (p *Pool[Task, Result]) end() {
	p.killRound()
	p.finish()
}

// finish closes what is left, settles the accounting and closes Done.
func (p *Pool[Task, Result]) finish() {
	p.cancel(fmt.Errorf("pipeline: %s: %w", p.name, ErrClosed))
	p.local.Wait()
	p.router.Close()
	// Results the consumer has not read: taken back and counted, so that
	// Results is what it received. (A Shutdown that drained left none.) A
	// consumer reading meanwhile gets each one or leaves it to this loop,
	// never both.
	var unread uint64
	for len(p.results) > 0 {
		select {
		case <-p.results:
			unread++
		default:
		}
	}
	close(p.results)
	p.fail(context.Cause(p.ctx)) // a no-op unless nothing recorded the end
	p.mu.Lock()
	p.sclosed = true // Submit refuses (it also sees the ended ctx)
	p.mu.Unlock()
	p.takeSubmitted()
	abandoned := uint64(len(p.tasks))
	clear(p.tasks)
	p.queue.clear()
	p.pending.clear()
	var st PoolStats
	p.update(func(s *PoolStats) {
		s.Results -= unread
		s.Undelivered = s.Lost + abandoned + unread
		st = *s
	})
	if st.Undelivered > 0 {
		p.o.logger.Warn("pipeline: pool ended with undelivered tasks", zap.String("pool", p.name),
			zap.Uint64("undelivered", st.Undelivered), zap.Uint64("lost", st.Lost), zap.Error(p.err))
	}
	close(p.done)
}

// Name returns the pool's name (WithName, or "pool#N").
func (p *Pool[Task, Result]) Name() string { return p.name }

// Endpoint returns the endpoint the pool bound, as libzmq resolved it (a
// tcp port of "*" shows the port picked): what Work connects to.
func (p *Pool[Task, Result]) Endpoint() string { return p.endpoint }

// Submit encodes t and hands it to the pool, which queues it until a
// registered worker has credit for it. It blocks while the queue is full
// (WithQueueSize), and first, with WithWaitForWorkers, until enough
// workers have registered, so a pool whose workers are all busy pushes
// back on Submit. It returns context.Cause(ctx) if ctx ends first; an
// error wrapping ErrClosed once Shutdown or Close has begun; the pool's
// error after it has failed; an error wrapping zchan.ErrCodec if t cannot
// be encoded, or ErrPanic if the codec panicked (which also fails the
// pool). A nil return means the pool has taken the task, counted in
// PoolStats.Submitted. Task ids (in events and
// logs) are 1, 2, 3... in the order of the Submit calls. Submit is safe
// for concurrent use.
func (p *Pool[Task, Result]) Submit(ctx context.Context, t Task) error {
	if p.closing.Load() {
		return p.endErr()
	}
	entry, err := encodeEntry(p.taskCodec, t)
	if err != nil {
		err = fmt.Errorf("pipeline: %s: submit: %w", p.name, err)
		if errors.Is(err, ErrPanic) {
			p.fail(err)
		}
		return err
	}
	pt := &poolTask[Task, Result]{v: t}
	for {
		p.mu.Lock()
		if p.sclosed || p.ctx.Err() != nil {
			p.mu.Unlock()
			return p.endErr()
		}
		if p.sready && p.st.Queued < p.qlimit {
			p.nextID++
			pt.id = p.nextID
			pt.entry = entry
			binary.BigEndian.PutUint64(entry, pt.id) // see encodeEntry
			p.subq = append(p.subq, pt)
			p.st.Submitted++
			p.st.Queued++
			p.mu.Unlock()
			select {
			case p.kick <- struct{}{}:
			default: // a wake-up is pending: the loop takes all of subq
			}
			return nil
		}
		if p.space == nil {
			p.space = make(chan struct{})
		}
		space := p.space
		p.mu.Unlock()
		select {
		case <-space:
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-p.drainReq:
			return p.endErr()
		case <-p.ctx.Done():
			return p.endErr()
		}
	}
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

// Results returns the channel of results, one per task answered, in the
// order workers finish; it has room for WithResultBuffer results. The
// pool closes it when it ends; results still in it then are the
// consumer's to read after a Shutdown, and are taken back and counted in
// Undelivered after Close or a failure. A consumer that stops reading
// stops the workers once the buffer is full and the results waiting
// beyond it reach the credit of all the workers together (and the workers
// have answered what they hold), and from there Submit; the heartbeats go
// on.
func (p *Pool[Task, Result]) Results() <-chan Result { return p.results }

// Shutdown drains and stops the pool, as net/http's Server.Shutdown does
// a server: Submit fails with an error wrapping ErrClosed from then on;
// Shutdown waits until every task taken has been answered (its result
// received from Results, the channel's buffer read to the end, so Results
// must be read: a read wakes nobody, so the pool looks at the buffer
// every millisecond until then), failed or reported lost, then sends KILL to every worker and waits up to the kill bound
// (WithKillTimeout) for their goodbyes; then it closes the pool's socket
// and Results. If ctx ends first, Shutdown closes the pool at once
// (Close) and returns context.Cause(ctx); what it abandoned is counted in
// Undelivered. Otherwise it returns the pool's first error (not
// ErrClosed), or nil. Shutdown waits until Done is closed. It is safe for
// concurrent use and may be called again, or after Close.
func (p *Pool[Task, Result]) Shutdown(ctx context.Context) error {
	p.drainOnce.Do(func() {
		p.closing.Store(true)
		p.mu.Lock()
		p.sclosed = true // no task is queued after the loop has seen drainReq
		p.mu.Unlock()
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
// their functions must honour ctx); every worker is sent KILL over its
// link, and Close waits up to the kill bound (WithKillTimeout) for their
// goodbyes, reading and abandoning the results that come meanwhile, then
// closes the socket. Tasks not yet answered and results not read are
// abandoned, counted in Undelivered. It returns the pool's first error
// (not ErrClosed), or nil. It is idempotent and safe for concurrent use.
func (p *Pool[Task, Result]) Close() error {
	p.closing.Store(true)
	p.mu.Lock()
	p.sclosed = true
	p.mu.Unlock()
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
// workers have returned, its socket is closed and the accounting is final.
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

// Undelivered returns PoolStats.Undelivered: the tasks lost with dead
// workers and, once the pool has ended, those it abandoned.
func (p *Pool[Task, Result]) Undelivered() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.st.Undelivered > p.st.Lost {
		return p.st.Undelivered
	}
	return p.st.Lost
}

// Progress returns a number that grows whenever a task or result moves
// through the pool (taken, sent, answered, delivered, re-dispatched): a
// shutdown coordinator watches it to see when the pool has gone still.
func (p *Pool[Task, Result]) Progress() uint64 { return p.progress.Load() }

// Stats returns a snapshot of the pool's counters (see PoolStats). It is
// safe to call at any time, also after the pool has stopped.
func (p *Pool[Task, Result]) Stats() PoolStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.st
	if s.Undelivered < s.Lost {
		s.Undelivered = s.Lost
	}
	return s
}
