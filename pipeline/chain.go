package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/zmqchan/zmqchan/zchan"
)

// Plan describes a chain whose input is In and whose output is Out: the
// stages in order, built with From and Then. A Plan is an immutable value:
// Then returns a new one, so a Plan may be extended in several ways and
// started any number of times. Its zero value is a chain with no stages,
// which Start refuses.
type Plan[In, Out any] struct {
	steps []step
}

type step struct {
	name  string
	so    stageOptions
	build func(o *options) proc
}

// From starts a plan whose input is T.
func From[T any]() Plan[T, T] { return Plan[T, T]{} }

// Then returns p extended by a stage named name that runs f on p's output.
// The name shows in errors, in socket names and in Links.
func Then[In, A, B any](p Plan[In, A], name string, f Stage[A, B], opts ...StageOption) Plan[In, B] {
	var so stageOptions
	for _, op := range opts {
		if op != nil {
			op.applyStage(&so)
		}
	}
	if f == nil {
		so.err = fmt.Errorf("pipeline: stage %q: nil function: %w", name, ErrInvalidOption)
	}
	st := step{name: name, so: so, build: func(o *options) proc {
		return makeProc(name, f, codecFor[A](o), codecFor[B](o))
	}}
	return Plan[In, B]{steps: append(slices.Clip(p.steps), st)}
}

// StageOption configures one stage of a plan.
type StageOption interface{ applyStage(*stageOptions) }

type stageOptions struct {
	input  string
	remote bool
	err    error
}

type stageOptionFunc func(*stageOptions)

func (f stageOptionFunc) applyStage(o *stageOptions) { f(o) }

// Input sets the endpoint of the link into the stage (inproc, ipc or tcp).
// A tcp port of "*" picks a free port; Chain.Links tells which. Default: a
// unique inproc endpoint.
func Input(endpoint string) StageOption {
	return stageOptionFunc(func(o *stageOptions) { o.input = endpoint })
}

// Remote marks a stage as run by another process with Serve (the same
// function, the same codecs). The chain then binds both links of the stage
// and runs nothing for it; their endpoints (Input of this stage and of the
// next, or WithOutput) must be ipc or tcp, and two remote stages may not
// be next to each other. Default: the stage runs in this process.
func Remote() StageOption {
	return stageOptionFunc(func(o *stageOptions) { o.remote = true })
}

// Chain is a running chain of stages: values sent with Send go through
// every stage in order and come out of Out. Each stage is one goroutine
// that owns the PAIR sockets of its two links; the chain owns the socket
// Send writes to and the one Out is read from, and one goroutine that
// decodes into Out.
//
// A Chain is safe for concurrent use. Its zero value is not usable: create
// one with Start. It cannot be restarted after it ends.
type Chain[In, Out any] struct {
	name    string
	o       options
	inCodec zchan.Codec[In]
	links   []string

	ctx    context.Context
	cancel context.CancelCauseFunc

	head *zchan.Socket[zchan.Msg]
	out  chan Out

	mu      sync.RWMutex // held for reading by Send, for writing by Close
	closing bool

	wg        sync.WaitGroup // stages and the tail
	closeOnce sync.Once
	closeErr  error
	done      chan struct{}
	errOnce   sync.Once
	err       error
	finished  chan struct{} // closed when err is final

	undelivered atomic.Uint64
}

var chainSeq atomic.Uint64

// Start opens the sockets of every link, binding before connecting, and
// starts one goroutine per local stage and one for Out. It returns when
// all sockets are open, or with an error (ErrInvalidOption for a bad plan
// or option, zchan's errors for an endpoint), in which case nothing is
// left running.
//
// The chain runs until ctx is done, a stage fails, or Close has drained
// it; Wait then returns the first error. Each link is a pair of PAIR
// sockets; link i
// goes into stage i and link len(stages) goes to Out. The stage after a
// link binds it and the one before connects, except around a Remote
// stage, which connects to both its links while this process binds them.
// Applies: WithContext, WithName, WithLogger, WithCodec, WithSocketOptions,
// WithLinger, WithDrainTimeout, WithOutput.
func Start[In, Out any](ctx context.Context, p Plan[In, Out], opts ...Option) (*Chain[In, Out], error) {
	o, err := newOptions(forChain, opts)
	if err != nil {
		return nil, err
	}
	n := len(p.steps)
	if n == 0 {
		return nil, fmt.Errorf("pipeline: start: no stages: %w", ErrInvalidOption)
	}
	seq := chainSeq.Add(1)
	name := o.name
	if name == "" {
		name = fmt.Sprintf("chain#%d", seq)
	}
	// Link endpoints and who binds each (true: the downstream side).
	eps := make([]string, n+1)
	for i, st := range p.steps {
		if st.so.err != nil {
			return nil, st.so.err
		}
		eps[i] = st.so.input
		if eps[i] == "" {
			eps[i] = fmt.Sprintf("inproc://zmqchan-pipeline-%d-%d", seq, i)
		}
	}
	eps[n] = o.output
	if eps[n] == "" {
		eps[n] = fmt.Sprintf("inproc://zmqchan-pipeline-%d-%d", seq, n)
	}
	remote := func(i int) bool { return i >= 0 && i < n && p.steps[i].so.remote }
	for i := 0; i < n; i++ {
		if !remote(i) {
			continue
		}
		if remote(i + 1) {
			return nil, fmt.Errorf("pipeline: stages %q and %q are both remote: %w", p.steps[i].name, p.steps[i+1].name, ErrInvalidOption)
		}
		for _, ep := range []string{eps[i], eps[i+1]} {
			if strings.HasPrefix(ep, "inproc://") {
				return nil, fmt.Errorf("pipeline: remote stage %q on inproc link %s: %w", p.steps[i].name, ep, ErrInvalidOption)
			}
		}
	}
	// downBinds[i]: link i is bound by its downstream side.
	downBinds := func(i int) bool { return !remote(i) }

	cctx, cancel := context.WithCancelCause(ctx)
	c := &Chain[In, Out]{
		name: name, o: o, inCodec: codecFor[In](&o), links: eps,
		ctx: cctx, cancel: cancel,
		out:      make(chan Out),
		done:     make(chan struct{}),
		finished: make(chan struct{}),
	}
	// ins[i] is the socket reading link i (stage i's, or the tail's),
	// outs[i] the one writing it (the head's, or stage i-1's).
	ins := make([]*zchan.Socket[zchan.Msg], n+1)
	outs := make([]*zchan.Socket[zchan.Msg], n+1)
	fail := func(err error) (*Chain[In, Out], error) {
		for _, s := range append(ins, outs...) {
			if s != nil {
				s.Close()
			}
		}
		cancel(err)
		return nil, err
	}
	sockName := func(i int, side string) string { return fmt.Sprintf("%s.link%d.%s", name, i, side) }
	open := func(i int, reader, bind bool) error {
		ep := zchan.WithConnect(eps[i])
		if bind {
			ep = zchan.WithBind(eps[i])
		}
		side := "w"
		if reader {
			side = "r"
		}
		s, err := zchan.Open(cctx, zchan.Pair, o.sockOpts(sockName(i, side), ep)...)
		if err != nil {
			return err
		}
		if reader {
			ins[i] = s
		} else {
			outs[i] = s
		}
		if bind {
			eps[i] = s.Endpoints()[0]
		}
		return nil
	}
	// Binds first, so that every connect finds its peer (inproc).
	for i := 0; i <= n; i++ {
		if downBinds(i) {
			err = open(i, true, true)
		} else if !remote(i - 1) {
			err = open(i, false, true)
		}
		if err != nil {
			return fail(err)
		}
	}
	for i := 0; i <= n; i++ {
		if downBinds(i) && !remote(i-1) {
			if err := open(i, false, false); err != nil {
				return fail(err)
			}
		}
	}
	c.head = outs[0]
	for i, st := range p.steps {
		if st.so.remote {
			continue
		}
		in, out, pr := ins[i], outs[i+1], st.build(&c.o)
		name := st.name
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			err := runStage(cctx, name, pr, in, out)
			// Upstream first: close the input, then the output, which
			// flushes what it holds (the end of stream) within the linger.
			c.undelivered.Add(closeCount(in) + closeCount(out))
			if err != nil {
				c.fail(err)
			}
		}()
	}
	outCodec := codecFor[Out](&c.o)
	tail := ins[n]
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer close(c.out)
		err := c.drainTail(tail, outCodec)
		c.undelivered.Add(closeCount(tail))
		if err != nil {
			c.fail(err)
		} else {
			c.fail(nil) // graceful end: the result is final
		}
	}()
	go func() {
		c.wg.Wait()
		c.undelivered.Add(closeCount(c.head))
		c.fail(context.Cause(cctx))
		cancel(ErrClosed)
		close(c.done)
	}()
	o.logger.Debug("pipeline: chain started", zap.String("chain", name), zap.Strings("links", eps))
	return c, nil
}

// drainTail delivers the last link's values to Out until the end of
// stream (nil) or a failure.
func (c *Chain[In, Out]) drainTail(tail *zchan.Socket[zchan.Msg], codec zchan.Codec[Out]) error {
	ctx := c.ctx
	for {
		var m zchan.Msg
		var ok bool
		select {
		case m, ok = <-tail.In():
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		if !ok {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			return fmt.Errorf("pipeline: %s: output: %w", c.name, tail.Err())
		}
		switch kindOf(m) {
		case kData:
			frames, err := valueOf(m, dataHdrLen)
			if err != nil {
				return fmt.Errorf("pipeline: %s: output: %w", c.name, err)
			}
			v, err := codec.Decode(frames)
			if err != nil {
				return fmt.Errorf("pipeline: %s: output: decode: %w", c.name, err)
			}
			select {
			case c.out <- v:
			case <-ctx.Done():
				c.undelivered.Add(1)
				return context.Cause(ctx)
			}
		case kEnd:
			return nil
		case kFail:
			return remoteErr(c.name+": output", m)
		default:
			return fmt.Errorf("pipeline: %s: output: message kind %q: %w", c.name, kindOf(m), ErrProtocol)
		}
	}
}

// fail records the chain's first outcome and cancels it on an error. A
// nil outcome (the end of stream reached Out) is final too.
func (c *Chain[In, Out]) fail(err error) {
	c.errOnce.Do(func() {
		c.err = err
		close(c.finished)
	})
	if err != nil {
		c.cancel(err)
	}
}

// Name returns the chain's name (WithName, or "chain#N").
func (c *Chain[In, Out]) Name() string { return c.name }

// Links returns the endpoints of the chain's links as bound (a tcp port of
// "*" shows the port picked): Links()[i] goes into stage i and the last
// one goes to Out. A Remote stage i is served with Links()[i] and
// Links()[i+1].
func (c *Chain[In, Out]) Links() []string { return slices.Clone(c.links) }

// Send encodes v and hands it to the first stage. It blocks while the
// chain pushes back (every link full up to its high-water mark, because
// Out is not read fast enough) and returns context.Cause(ctx) if ctx ends
// first, ErrClosed after Close, or the chain's first error after it has
// failed. A nil return means the chain has v: it comes out of Out unless
// the chain fails or is cancelled first. Send is safe for concurrent use;
// values from concurrent calls are ordered as the first link takes them.
func (c *Chain[In, Out]) Send(ctx context.Context, v In) error {
	frames, err := encode(c.inCodec, v)
	if err != nil {
		return err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closing {
		return ErrClosed
	}
	if err := c.head.Send(ctx, withHeader(hdrData, frames)); err != nil {
		if c.ctx.Err() != nil {
			return context.Cause(c.ctx)
		}
		return err
	}
	return nil
}

// Out returns the channel of the chain's output, in order. The chain
// closes it when it ends: after the end of stream that Close sends, or
// when it fails or is cancelled (Wait then tells why). A consumer that
// stops reading pushes back through every link to Send.
func (c *Chain[In, Out]) Out() <-chan Out { return c.out }

// Close drains and stops the chain, upstream first: Send fails with
// ErrClosed from then on (Close waits for Sends under way), an end-of-
// stream marker follows the last value through every stage, each stage
// closes its sockets once it has passed the marker on, and Out is closed
// after the last value. Everything sent before Close therefore comes out
// of Out, as long as Out is read. Close waits at most the drain timeout
// (WithDrainTimeout) for that; then it cancels the chain and returns an
// error wrapping ErrDrainTimeout. It returns the chain's first error, or
// nil. Close is idempotent and safe for concurrent use.
func (c *Chain[In, Out]) Close() error {
	c.closeOnce.Do(func() {
		timer := time.NewTimer(c.o.drain)
		defer timer.Stop()
		sent := make(chan struct{})
		go func() { // owned: Close waits for it below
			defer close(sent)
			c.mu.Lock()
			c.closing = true
			c.mu.Unlock()
			_ = c.head.Send(c.ctx, endMsg)
			c.head.Close()
		}()
		select {
		case <-c.done:
		case <-timer.C:
			c.fail(fmt.Errorf("pipeline: %s: close after %v: %w", c.name, c.o.drain, ErrDrainTimeout))
			c.o.logger.Warn("pipeline: chain did not drain in time", zap.String("chain", c.name))
			<-c.done
		}
		<-sent
		c.closeErr = c.err
		if errors.Is(c.closeErr, ErrClosed) {
			c.closeErr = nil
		}
	})
	return c.closeErr
}

// Wait blocks until the chain has ended and returns its first error: a
// stage's error, context.Cause of the parent context, an error wrapping
// ErrDrainTimeout, ErrRemote or ErrPanic, or nil after Close drained it.
func (c *Chain[In, Out]) Wait() error {
	<-c.done
	return c.err
}

// Done returns a channel closed when every stage has stopped and every
// socket of the chain is closed.
func (c *Chain[In, Out]) Done() <-chan struct{} { return c.done }

// Err returns the chain's first error once it has one (nil after a clean
// Close), and nil while it is running cleanly.
func (c *Chain[In, Out]) Err() error {
	select {
	case <-c.finished:
		return c.err
	default:
		return nil
	}
}

// Undelivered returns how many messages the chain's sockets held or had
// queued when they closed and could not hand on, plus a value the chain
// held for Out when it was cancelled. It is complete once Done is closed.
func (c *Chain[In, Out]) Undelivered() uint64 { return c.undelivered.Load() }
