package shutdown

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/zmqchan/zmqchan/zchan"
)

// Group owns a zmq context and the stages that use it, and shuts them down
// in order: see the package doc for the order and its bounds.
//
// A stage is a Component (added with Add) or a function (started with Go).
// Stages are shut down in the order they were added, so add them in the
// direction messages flow, sources first: the first stage is where new
// input stops, and every stage is shut down only after everything
// upstream of it has been.
//
// A Group is safe for concurrent use. Its zero value is not usable: create
// one with New. It cannot be reused after shutdown.
type Group struct {
	zc     *zchan.Context
	o      options
	log    *zap.Logger
	parent context.Context

	mu       sync.Mutex
	stages   []*stage
	begun    bool
	trigErr  error // cause given to trigger; written before trigger is closed
	trigOnce sync.Once
	trigger  chan struct{}

	done   chan struct{} // closed when shutdown has completed
	report *Report       // written before done is closed
	err    error         // written before done is closed
}

// stage is a component or a function.
type stage struct {
	name string

	comp     Component
	compDone chan struct{} // closed when comp.Shutdown has returned
	compErr  error         // written before compDone is closed

	fn     bool
	ctx    context.Context
	cancel context.CancelCauseFunc
	fnDone chan struct{} // closed when the function has returned
	fnErr  error         // written before fnDone is closed
}

// New creates a zmq context (zchan.NewContext) owned by the group and
// starts the group's goroutine, which begins shutdown when ctx is done
// (typically the context of NotifyContext), when Shutdown is called, when
// a function started with Go fails, or when the zmq context is terminated
// from elsewhere. New returns context.Cause(ctx) if ctx is already done,
// an error wrapping ErrInvalidOption if an option is invalid, or one
// wrapping zchan's error if the zmq context cannot be created; nothing is
// left running then.
//
// Open the group's sockets in ZMQ() and Add them. The context given to
// zchan.Open bounds only the opening, so the signal context itself will
// do: the socket lives until the group shuts it down, in its turn. (Do not
// tie a grouped socket to the signal context with zchan.WithLifetime: it
// would end at the signal, out of order.)
func New(ctx context.Context, opts ...Option) (*Group, error) {
	o := defaultOptions()
	for _, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("%w: nil option", ErrInvalidOption)
		}
		opt.apply(&o)
	}
	if o.err != nil {
		return nil, o.err
	}
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	zc, err := zchan.NewContext(o.zopts...)
	if err != nil {
		if errors.Is(err, zchan.ErrInvalidOption) {
			return nil, fmt.Errorf("%w: context options: %w", ErrInvalidOption, err)
		}
		return nil, fmt.Errorf("shutdown: new context: %w", err)
	}
	g := &Group{
		zc: zc, o: o, log: o.logger, parent: ctx,
		trigger: make(chan struct{}),
		done:    make(chan struct{}),
	}
	go g.run()
	return g, nil
}

// ZMQ returns the group's zmq context. Open the group's sockets in it
// (zchan.WithContext); the group terminates it last, after the drain.
func (g *Group) ZMQ() *zchan.Context { return g.zc }

// Add appends c to the stages. c is shut down in its turn, after every
// stage added before it. Add returns an error wrapping ErrShuttingDown if
// shutdown has begun (c is then not taken, and the caller must shut it
// down) and ErrNilComponent for a nil c.
func (g *Group) Add(c Component) error {
	if c == nil {
		return ErrNilComponent
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.begun {
		return fmt.Errorf("shutdown: add %s: %w", c.Name(), ErrShuttingDown)
	}
	g.stages = append(g.stages, &stage{name: c.Name(), comp: c})
	return nil
}

// Components returns the components added with Add, in the order they
// were added (function stages started with Go are not components and are
// left out). The slice is a new snapshot at each call, safe to keep and
// modify; components added later are not in it. Components is safe for
// concurrent use, before, during and after shutdown; it is how a caller
// that is handed only the group (metrics.ForGroup, at each scrape) finds
// what is in it.
func (g *Group) Components() []Component {
	g.mu.Lock()
	defer g.mu.Unlock()
	var cs []Component
	for _, st := range g.stages {
		if st.comp != nil {
			cs = append(cs, st.comp)
		}
	}
	return cs
}

// Go appends a function stage and starts fn on a new goroutine. fn's ctx
// is cancelled, with the shutdown's cause, when its turn comes: at once
// for a source added before every component (that is how new input
// stops), and for a function that forwards messages from a socket after
// that socket has been shut down and the settle has seen the forwarding go
// still (see the package doc), so that it has forwarded what the socket
// handed it; what it fails to send after that, it should count. ctx
// carries the values of New's context, not
// its cancellation. The group waits for fn to return, up to the drain
// deadline and again after the termination; fn must return promptly once
// ctx is done (one that does not is named in Wait's error,
// ErrStillRunning, and left running).
//
// If fn returns an error other than its context's cancellation, or
// panics, shutdown begins with that error as its cause (wrapping
// ErrStage, and for a panic zchan.ErrPanic, with the panic value and the
// stack), and Wait returns it. Go returns an error wrapping
// ErrShuttingDown if shutdown has begun (fn is then not started) and
// ErrNilComponent for a nil fn.
func (g *Group) Go(name string, fn func(ctx context.Context) error) error {
	if fn == nil {
		return ErrNilComponent
	}
	g.mu.Lock()
	if g.begun {
		g.mu.Unlock()
		return fmt.Errorf("shutdown: go %s: %w", name, ErrShuttingDown)
	}
	// The stage is cancelled by the group at its turn, not when New's
	// context ends (that begins the shutdown), so it keeps only the
	// parent's values.
	ctx, cancel := context.WithCancelCause(context.WithoutCancel(g.parent))
	st := &stage{name: name, fn: true, ctx: ctx, cancel: cancel, fnDone: make(chan struct{})}
	g.stages = append(g.stages, st)
	g.mu.Unlock()
	go func() {
		defer close(st.fnDone)
		st.fnErr = runStage(name, ctx, fn)
		if st.fnErr != nil && (ctx.Err() == nil || errors.Is(st.fnErr, zchan.ErrPanic)) {
			g.begin(stageError(name, st.fnErr))
		}
	}()
	return nil
}

// runStage runs fn, turning a panic into a *panicError.
func runStage(name string, ctx context.Context, fn func(context.Context) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &panicError{where: "function stage " + name, value: r, stack: debug.Stack()}
		}
	}()
	return fn(ctx)
}

// runShutdown calls c.Shutdown, turning a panic into a *panicError.
func runShutdown(name string, ctx context.Context, c Component) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &panicError{where: "Shutdown of " + name, value: r, stack: debug.Stack()}
		}
	}()
	return c.Shutdown(ctx)
}

// Shutdown begins shutdown with ErrShutdown as its cause, if it has not
// begun yet. It does not wait: call Wait.
func (g *Group) Shutdown() { g.begin(ErrShutdown) }

func (g *Group) begin(cause error) {
	g.trigOnce.Do(func() {
		g.trigErr = cause
		close(g.trigger)
	})
}

// Done returns a channel closed when shutdown has completed.
func (g *Group) Done() <-chan struct{} { return g.done }

// Wait blocks until shutdown has completed (the package doc bounds how
// long that takes after it began); it does not begin shutdown itself. It
// returns the Report of what happened, in order, and an error joining
// everything that went wrong: a failed or panicked function and a failed
// Shutdown (ErrStage), stages the drain deadline cut short
// (ErrDrainTimeout), sockets left open (ErrLeftOpen), a termination that
// timed out (zchan.ErrTermTimeout, naming what held it), stages still
// running after it (ErrStillRunning), and links between the group's
// sockets that lost messages in transit (ErrLostInTransit, one error per
// link). A shutdown caused by a signal or by Shutdown that went well, with
// nothing lost in transit, returns a nil error. Wait may be called from
// several goroutines; all get the same results.
func (g *Group) Wait() (*Report, error) {
	<-g.done
	return g.report, g.err
}

func (g *Group) run() {
	defer close(g.done)
	var cause error
	select {
	case <-g.parent.Done():
		cause = context.Cause(g.parent)
	case <-g.trigger:
		cause = g.trigErr
	case <-g.zc.Done():
		cause = fmt.Errorf("shutdown: context terminated elsewhere: %w", zchan.ErrTerminated)
	}
	g.mu.Lock()
	g.begun = true
	stages := g.stages
	g.mu.Unlock()
	g.report, g.err = g.shutdown(cause, stages)
}

// shutdown runs the steps of the package doc, in order.
func (g *Group) shutdown(cause error, stages []*stage) (*Report, error) {
	start := time.Now()
	rep := &Report{Cause: cause}
	var errs []error
	record := func(s Step) {
		rep.Steps = append(rep.Steps, s)
		fields := []zap.Field{zap.String("action", string(s.Action)), zap.Duration("took", s.Took)}
		if s.Name != "" {
			fields = append(fields, zap.String("stage", s.Name))
		}
		if s.HasCount {
			fields = append(fields, zap.Uint64("undelivered", s.Undelivered))
		}
		switch {
		case s.Action == StepBegin:
			g.log.Info("shutdown: begin", append(fields, zap.NamedError("cause", s.Err), zap.Int("stages", len(stages)))...)
		case s.Err != nil:
			errs = append(errs, s.Err)
			g.log.Warn("shutdown: "+string(s.Action), append(fields, zap.Error(s.Err))...)
		case s.HasCount && s.Undelivered > 0:
			g.log.Warn("shutdown: "+string(s.Action), fields...)
		default:
			g.log.Info("shutdown: "+string(s.Action), fields...)
		}
	}
	record(Step{Action: StepBegin, Err: cause})

	// Drain: every stage in order. Every component's Shutdown gets the
	// same deadline, whose cause is ErrDrainTimeout.
	deadline := start.Add(g.o.drain)
	drainCtx, cancelDrain := context.WithDeadlineCause(context.Background(), deadline, ErrDrainTimeout)
	defer cancelDrain()
	var late []*stage // stages the group stopped waiting for; see StepStraggle
	sets, linkOf := findLinks(stages)
	for i, st := range stages {
		t := time.Now()
		passed := drainCtx.Err() != nil
		if ls := linkOf[st]; ls != nil && len(ls.members) > 1 && isSender(ls, st) && passed {
			ls.waited, ls.stopped = true, "the drain deadline had passed when the senders' turn came, so they and the receivers stopped at once"
		} else if ls != nil && len(ls.members) > 1 && isSender(ls, st) && g.o.lossless {
			// The lossless drain: what this socket sent reaches its
			// link's receivers before it closes.
			if ls.waitDelivered(drainCtx) {
				record(Step{Action: StepDeliver, Name: st.name, Took: time.Since(t)})
			}
			t = time.Now()
			passed = drainCtx.Err() != nil
		}
		if st.fn {
			// Once the deadline has passed, the remaining functions are
			// still cancelled, but not waited for until after the
			// termination.
			st.cancel(cause)
			s := Step{Action: StepStop, Name: st.name}
			switch {
			case passed:
				late = append(late, st)
			case !waitDone(drainCtx, st.fnDone):
				late = append(late, st)
				s.Err = fmt.Errorf("%w: function %s still running", ErrDrainTimeout, st.name)
			default:
				s.Err = st.failure(cause)
			}
			s.Took = time.Since(t)
			record(s)
			continue
		}
		// A component is waited for until its Shutdown returns, which a
		// component that keeps its contract does within its own bound
		// after the deadline; one that does not is given up on after
		// the term timeout past the later of its deadline and its turn.
		st.compDone = make(chan struct{})
		go func() {
			defer close(st.compDone)
			st.compErr = runShutdown(st.name, drainCtx, st.comp)
		}()
		giveUp, cancelGiveUp := context.WithDeadline(context.Background(), later(deadline, t).Add(g.o.term))
		returned := waitDone(giveUp, st.compDone)
		cancelGiveUp()
		s := Step{Action: StepShutdown, Name: st.name}
		if returned {
			s.Undelivered, s.HasCount = undelivered(st.comp)
			s.Err = st.shutdownErr(passed)
		} else {
			late = append(late, st)
			s.Err = fmt.Errorf("%w: %s: Shutdown has not returned %v past its deadline", ErrDrainTimeout, st.name, g.o.term)
		}
		s.Took = time.Since(t)
		record(s)
		if returned && g.o.settle > 0 && drainCtx.Err() == nil && i < len(stages)-1 {
			t := time.Now()
			if g.settle(drainCtx, stages[i+1:]) {
				record(Step{Action: StepSettle, Name: st.name, Took: time.Since(t)})
			}
		}
	}

	// Sockets of the context that no component closed: named, then ended
	// by the termination below.
	if open := g.zc.Sockets(); len(open) > 0 {
		record(Step{Action: StepLeftOpen, Err: fmt.Errorf("%w: [%s]", ErrLeftOpen, strings.Join(open, ", "))})
	}

	// Terminate the context from this goroutine, bounded: every zchan
	// socket still open ends with ETERM, which also releases any stage
	// blocked on one.
	termCtx, cancelTerm := context.WithTimeout(context.Background(), g.o.term)
	defer cancelTerm()
	t := time.Now()
	err := g.zc.Term(termCtx)
	if err != nil && errors.Is(err, zchan.ErrTermTimeout) && len(g.zc.Sockets()) == 0 {
		err = fmt.Errorf("%w; no zchan socket is open, so a socket opened in this context outside zchan (raw pebbe/zmq4) was never closed", err)
	}
	record(Step{Action: StepTerm, Took: time.Since(t), Err: err})

	// Stages the group stopped waiting for get what is left of the term
	// deadline to return.
	for _, st := range late {
		t := time.Now()
		ch := st.compDone
		if st.fn {
			ch = st.fnDone
		}
		s := Step{Action: StepStraggle, Name: st.name}
		switch {
		case !waitDone(termCtx, ch):
			s.Err = fmt.Errorf("%w: %s", ErrStillRunning, st.name)
		case st.fn:
			s.Err = st.failure(cause)
		default:
			s.Undelivered, s.HasCount = undelivered(st.comp)
			s.Err = st.shutdownErr(true)
		}
		s.Took = time.Since(t)
		record(s)
	}
	// Transit: what one end of a link handed to libzmq and the other
	// never took, from the sockets' final counters.
	for _, ls := range sets {
		l := ls.link(g.o.lossless)
		rep.Links = append(rep.Links, l)
		if l.Lost > 0 {
			record(Step{Action: StepTransit, Name: names(l.Senders) + " -> " + names(l.Receivers),
				Err: fmt.Errorf("%w: %s -> %s [%s]: %d of %d sent never received: %s", ErrLostInTransit,
					names(l.Senders), names(l.Receivers), strings.Join(l.Endpoints, " "), l.Lost, l.Sent, l.Cause)})
		}
	}
	rep.Took = time.Since(start)
	err = errors.Join(errs...)
	g.log.Info("shutdown: done", zap.Duration("took", rep.Took),
		zap.Uint64("undelivered", rep.TotalUndelivered()), zap.Uint64("lost_in_transit", rep.TotalLost()), zap.Int("errors", len(errs)))
	return rep, err
}

// isSender reports whether st is a sending socket of ls.
func isSender(ls *linkSet, st *stage) bool {
	for _, m := range ls.members {
		if m.st == st {
			return m.send
		}
	}
	return false
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// failure returns the function's error, unless it is only its
// cancellation.
func (st *stage) failure(cause error) error {
	err := st.fnErr
	if err == nil {
		return nil
	}
	if !errors.Is(err, zchan.ErrPanic) && (errors.Is(err, context.Canceled) || errors.Is(err, cause)) {
		return nil
	}
	return stageError(st.name, err)
}

// shutdownErr classifies what the component's Shutdown returned: the
// deadline's cause means it stopped at once; passed tells whether its
// turn came after the deadline.
func (st *stage) shutdownErr(passed bool) error {
	switch err := st.compErr; {
	case err == nil:
		return nil
	case isDeadline(err) && passed:
		return fmt.Errorf("%w: %s stopped at once (its turn came after the deadline)", ErrDrainTimeout, st.name)
	case isDeadline(err):
		return fmt.Errorf("%w: %s stopped at once", ErrDrainTimeout, st.name)
	default:
		return stageError(st.name, err)
	}
}

// isDeadline reports whether err is the drain deadline's: its cause, or
// ctx.Err() from a component that returns that instead.
func isDeadline(err error) bool {
	return errors.Is(err, ErrDrainTimeout) || errors.Is(err, context.DeadlineExceeded)
}

// settle waits until the Progress of the stages not yet shut down has not
// moved for the settle period, at most zchan.DefaultLinger (by then libzmq
// has dropped whatever the closed socket still queued, if it kept the
// default linger) or until ctx is done. It reports whether it waited at
// all: it does not when no stage left has Progress.
func (g *Group) settle(ctx context.Context, rest []*stage) bool {
	var comps []progresser
	for _, st := range rest {
		if p, ok := st.comp.(progresser); ok {
			comps = append(comps, p)
		}
	}
	if len(comps) == 0 {
		return false
	}
	sum := func() uint64 {
		var n uint64
		for _, c := range comps {
			n += c.Progress()
		}
		return n
	}
	limit := time.NewTimer(zchan.DefaultLinger)
	defer limit.Stop()
	tick := time.NewTimer(g.o.settle)
	defer tick.Stop()
	prev := sum()
	for {
		select {
		case <-tick.C:
			cur := sum()
			if cur == prev {
				return true
			}
			prev = cur
			tick.Reset(g.o.settle)
		case <-limit.C:
			return true
		case <-ctx.Done():
			return true
		}
	}
}

// waitDone reports whether ch is closed before ctx is done; a channel
// already closed wins over a ctx already done.
func waitDone(ctx context.Context, ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
	}
	select {
	case <-ch:
		return true
	case <-ctx.Done():
		return false
	}
}
