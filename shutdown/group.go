package shutdown

import (
	"context"
	"errors"
	"fmt"
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

	comp      Component
	closeDone chan struct{} // closed when comp.Close has returned
	closeErr  error

	fn     bool
	ctx    context.Context
	cancel context.CancelCauseFunc
	fnDone chan struct{} // closed when the function has returned
	fnErr  error
}

// New creates a zmq context (zchan.NewContext) owned by the group and
// starts the group's goroutine, which begins shutdown when ctx is done
// (typically the context of NotifyContext), when Shutdown is called, when
// a function started with Go returns an error, or when the zmq context is
// terminated from elsewhere. New returns context.Cause(ctx) if ctx is
// already done, or an error if an option is invalid or the zmq context
// cannot be created; nothing is left running then.
//
// Open the group's sockets in ZMQ() with a context.Context that the
// signal does not cancel (context.WithoutCancel(ctx) or
// context.Background()): the group closes them, in order, once shutdown
// begins; a socket that watches the signal context itself ends at once and
// out of order.
func New(ctx context.Context, opts ...Option) (*Group, error) {
	o := defaultOptions()
	for _, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("shutdown: nil option: %w", ErrNilComponent)
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
		return nil, fmt.Errorf("shutdown: %w", err)
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

// Add appends c to the stages. c is closed in its turn, after every stage
// added before it. Add returns ErrShuttingDown if shutdown has begun (c
// is then not taken, and the caller must close it) and ErrNilComponent
// for a nil c.
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

// Go appends a function stage and starts fn on a new goroutine. fn's ctx
// is cancelled, with the shutdown's cause, when its turn comes: at once
// for a source added before every component (that is how new input
// stops), and for a function that forwards messages from a socket after
// that socket has been closed, so that it has seen its input end and
// forwarded what it held. The group waits for fn to return, up to the
// drain deadline; fn must return promptly once ctx is done.
//
// If fn returns an error other than its context's cancellation, shutdown
// begins with that error as its cause, and Wait returns it. Go returns
// ErrShuttingDown if shutdown has begun (fn is then not started).
func (g *Group) Go(name string, fn func(ctx context.Context) error) error {
	if fn == nil {
		return ErrNilComponent
	}
	g.mu.Lock()
	if g.begun {
		g.mu.Unlock()
		return fmt.Errorf("shutdown: go %s: %w", name, ErrShuttingDown)
	}
	ctx, cancel := context.WithCancelCause(context.WithoutCancel(g.parent))
	st := &stage{name: name, fn: true, ctx: ctx, cancel: cancel, fnDone: make(chan struct{})}
	g.stages = append(g.stages, st)
	g.mu.Unlock()
	go func() {
		defer close(st.fnDone)
		st.fnErr = fn(ctx)
		if st.fnErr != nil && ctx.Err() == nil {
			g.begin(fmt.Errorf("shutdown: %s: %w", name, st.fnErr))
		}
	}()
	return nil
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

// Wait blocks until shutdown has completed, which is at most about the
// drain timeout plus the term timeout after it began; it does not begin
// shutdown itself. It returns the Report of what happened, in order, and
// an error joining everything that went wrong: a failed function, a
// failed Close, stages that passed the drain deadline (ErrDrainTimeout),
// sockets left open (ErrLeftOpen), a termination that timed out
// (zchan.ErrTermTimeout, naming what held it) and whatever was still
// running after it (ErrStillRunning). A shutdown caused by a signal or by
// Shutdown that went well returns a nil error. Wait may be called from
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

	// Drain: every stage in order, bounded by one deadline.
	drainCtx, cancelDrain := context.WithTimeout(context.Background(), g.o.drain)
	defer cancelDrain()
	var late []*stage
	for i, st := range stages {
		t := time.Now()
		// Once the deadline has passed, the remaining stages are still
		// cancelled and closed, but not waited for: they are looked at
		// again after the termination (StepStraggle steps).
		passed := drainCtx.Err() != nil
		if st.fn {
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
		st.closeDone = make(chan struct{})
		go func() {
			defer close(st.closeDone)
			st.closeErr = st.comp.Close()
		}()
		s := Step{Action: StepClose, Name: st.name}
		ok := false
		switch {
		case passed:
			late = append(late, st)
		case !waitDone(drainCtx, st.closeDone):
			late = append(late, st)
			s.Err = fmt.Errorf("%w: close %s still running", ErrDrainTimeout, st.name)
		default:
			ok = true
			if st.closeErr != nil {
				s.Err = fmt.Errorf("shutdown: close %s: %w", st.name, st.closeErr)
			}
			s.Undelivered, s.HasCount = undelivered(st.comp)
		}
		s.Took = time.Since(t)
		record(s)
		if ok && g.o.settle > 0 && i < len(stages)-1 {
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

	// Stages that passed the drain deadline get what is left of the term
	// deadline to return.
	for _, st := range late {
		t := time.Now()
		ch := st.closeDone
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
			if st.closeErr != nil {
				s.Err = fmt.Errorf("shutdown: close %s: %w", st.name, st.closeErr)
			}
			s.Undelivered, s.HasCount = undelivered(st.comp)
		}
		s.Took = time.Since(t)
		record(s)
	}
	rep.Took = time.Since(start)
	err = errors.Join(errs...)
	g.log.Info("shutdown: done", zap.Duration("took", rep.Took),
		zap.Uint64("undelivered", rep.TotalUndelivered()), zap.Int("errors", len(errs)))
	return rep, err
}

// failure returns the function's error, unless it is only its
// cancellation.
func (st *stage) failure(cause error) error {
	err := st.fnErr
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, cause) {
		return nil
	}
	return fmt.Errorf("shutdown: %s: %w", st.name, err)
}

// settle waits until the message counters of the stages not yet closed
// have not moved for the settle period, at most zchan.DefaultLinger (by
// then libzmq has dropped whatever the closed socket still queued, if it
// kept the default linger) or until ctx is done. It reports whether it
// waited at all: it does not when no stage left has counters.
func (g *Group) settle(ctx context.Context, rest []*stage) bool {
	var comps []Component
	for _, st := range rest {
		if st.comp != nil {
			if _, ok := undelivered(st.comp); ok {
				comps = append(comps, st.comp)
			}
		}
	}
	if len(comps) == 0 {
		return false
	}
	sum := func() uint64 {
		var n uint64
		for _, c := range comps {
			n += progress(c)
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
