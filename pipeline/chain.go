package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

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
// Send writes to and the one Out is read from, one goroutine that decodes
// into Out, and one that ends the input side when Shutdown or Close is
// called.
//
// A Chain is safe for concurrent use. Its zero value is not usable: create
// one with Start. It cannot be restarted after it ends.
type Chain[In, Out any] struct {
	name    string
	o       options
	inCodec zchan.Codec[In]
	links   []string

	// ctx is the chain's own: cancelled by Close, by a failure, or when
	// the WithLifetime context ends. The constructor's context only
	// bounds the opening.
	ctx    context.Context
	cancel context.CancelCauseFunc

	head *zchan.Socket[zchan.Msg]
	out  chan Out
	// gates[i] guards link i if it goes into a Remote stage, which watches
	// it for heartbeats (nil otherwise).
	gates []*linkGate

	closing   atomic.Bool   // Send refuses from now on
	senders   atomic.Int64  // Sends under way
	idle      chan struct{} // the last Send under way has left once closing; buffered 1
	drainReq  chan struct{} // closed by Shutdown
	drainOnce sync.Once

	wg       sync.WaitGroup // stages, the tail and the ender
	ended    chan struct{}  // closed by the tail when the end of stream reached it
	done     chan struct{}
	errOnce  sync.Once
	err      error
	finished chan struct{} // closed when err is final

	// The accounting (see ChainStats): sent by Send, each local stage's
	// counts, the tail's.
	sent   atomic.Uint64
	stages []*counts
	tail   counts // read off the last link; written: delivered on Out

	undelivered atomic.Uint64 // final once done is closed

	// testHookSent, set by tests only (export_test.go) before the first
	// Send, runs in Send between the head's accepting a value and Sent
	// counting it.
	testHookSent func()
}

// ChainStats is a snapshot of a chain's counters. Every value Send
// accepted is counted exactly once, when its fate is known: once the chain
// has ended (Done is closed),
//
//	Sent == Delivered + Skipped + Failed + Undelivered
//
// While the chain runs, the difference is what is on its way.
type ChainStats struct {
	// Sent counts the values Send accepted (returned nil for).
	Sent uint64
	// Delivered counts the values handed to the consumer of Out. Out is
	// unbuffered, so a delivered value has been received.
	Delivered uint64
	// Skipped counts the values a stage dropped by returning ErrSkip.
	Skipped uint64
	// Failed counts the values a stage or a codec failed on (each failure
	// ends the chain, so it is 0 or 1 unless the chain ended another way
	// first).
	Failed uint64
	// Undelivered counts, once the chain has ended, the values it
	// abandoned: those a stage held when it was stopped, and those that
	// went into a link and did not come out of it (in a socket's queue or
	// in libzmq's when the link closed, on the wire, or dropped by a
	// Remote stage, which the chain cannot tell apart from a loss). It is
	// 0 while the chain runs.
	Undelivered uint64
}

var chainSeq atomic.Uint64

// Start opens the sockets of every link, binding before connecting, and
// starts one goroutine per local stage and one for Out. It returns when
// all sockets are open, or with an error (ErrInvalidOption for a bad plan
// or option, zchan's errors for an endpoint, context.Cause(ctx) if ctx
// ends first), in which case nothing is left running.
//
// ctx bounds the opening only. The chain then runs until Shutdown or
// Close, until a stage fails, until its zchan.Context is terminated, or
// until the WithLifetime context ends; Wait then returns why. Each link is
// a pair of PAIR sockets; link i goes into stage i and link len(stages)
// goes to Out. The stage after a link binds it and the one before
// connects, except around a Remote stage, which connects to both its
// links while this process binds them.
// Applies: WithContext, WithName, WithLogger, WithCodec, WithLinger,
// WithLifetime, WithOutput.
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

	cctx, cancel := context.WithCancelCause(lifetimeOf(&o))
	c := &Chain[In, Out]{
		name: name, o: o, inCodec: codecFor[In](&o), links: eps,
		ctx: cctx, cancel: cancel,
		out:      make(chan Out),
		idle:     make(chan struct{}, 1),
		drainReq: make(chan struct{}),
		ended:    make(chan struct{}),
		done:     make(chan struct{}),
		finished: make(chan struct{}),
	}
	// ins[i] is the socket reading link i (stage i's, or the tail's),
	// outs[i] the one writing it (the head's, or stage i-1's).
	ins := make([]*zchan.Socket[zchan.Msg], n+1)
	outs := make([]*zchan.Socket[zchan.Msg], n+1)
	fail := func(err error) (*Chain[In, Out], error) {
		for _, s := range append(outs, ins...) {
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
		s, err := zchan.Open(ctx, zchan.Pair, o.sockOpts(sockName(i, side), ep)...)
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
	c.gates = make([]*linkGate, n+1)
	var gates []*linkGate
	for i := 0; i < n; i++ {
		if remote(i) {
			c.gates[i] = &linkGate{sock: outs[i]}
			gates = append(gates, c.gates[i])
		}
	}
	for i, st := range p.steps {
		if st.so.remote {
			continue
		}
		in, out, pr := ins[i], outs[i+1], st.build(&c.o)
		name, g := st.name, c.gates[i+1]
		var w *liveness
		if i > 0 && p.steps[i-1].so.remote {
			w = newLiveness(fmt.Sprintf("remote stage %q", p.steps[i-1].name), &c.o)
		}
		cn := new(counts)
		c.stages = append(c.stages, cn)
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			err := runStage(cctx, name, pr, in, out, cn, w, g)
			// Upstream first: close the input, then the output. After the
			// end of stream the output waits until it has reached Out:
			// closing it earlier would leave what libzmq still queues for
			// a slow consumer to the linger.
			in.Close()
			if err == nil {
				c.awaitEnd()
			}
			out.Close()
			if err != nil {
				c.fail(err)
			}
		}()
	}
	outCodec := codecFor[Out](&c.o)
	tail := ins[n]
	var tw *liveness
	if p.steps[n-1].so.remote {
		tw = newLiveness(fmt.Sprintf("remote stage %q", p.steps[n-1].name), &c.o)
	}
	if len(gates) > 0 {
		// Heartbeats into the remote stages, so that their Serve ends with
		// ErrDead if this process dies; until the end of stream has reached
		// Out (each gate stops with its link's last message) or the chain
		// stops.
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			heartbeat(cctx, c.ended, c.o.heartbeat, gates)
		}()
	}
	c.wg.Add(2)
	go func() {
		defer c.wg.Done()
		err := c.drainTail(tail, outCodec, tw)
		tail.Close()
		close(c.out)
		c.fail(err) // nil: the end of stream reached Out, a graceful end
	}()
	go c.ender()
	go c.supervise()
	o.logger.Debug("pipeline: chain started", zap.String("chain", name), zap.Strings("links", eps))
	return c, nil
}

// lifetimeOf is the parent of a component's own context: the WithLifetime
// context, or none.
func lifetimeOf(o *options) context.Context {
	if o.lifetime != nil {
		return o.lifetime
	}
	return context.Background()
}

// ender ends the input side: on Shutdown it waits for the Sends under way,
// sends the end-of-stream marker behind the last value and closes the
// head, upstream first; on Close or a failure it only closes the head.
func (c *Chain[In, Out]) ender() {
	defer c.wg.Done()
	select {
	case <-c.drainReq:
	case <-c.ctx.Done():
	}
	// Wait for the Sends under way: each either refuses its value or has
	// it accepted, before the marker. A Send counts itself before it looks
	// at closing, and the ender sets closing before it looks at the count,
	// so no Send slips in behind the marker. If the chain is stopped
	// meanwhile, closing the head makes the Sends under way return.
	c.closing.Store(true)
	stopped := c.ctx.Done()
	for c.senders.Load() > 0 {
		select {
		case <-c.idle:
		case <-stopped:
			c.head.Close()
			stopped = nil
		}
	}
	if c.ctx.Err() == nil && c.gates[0].last(c.ctx, c.head, endMsg) == nil {
		c.awaitEnd() // as a stage's output does
	}
	c.head.Close()
}

// awaitEnd waits until the end of stream has reached Out or the chain is
// stopped.
func (c *Chain[In, Out]) awaitEnd() {
	select {
	case <-c.ended:
	case <-c.ctx.Done():
	}
}

// supervise waits for every goroutine of the chain, settles the
// accounting and closes Done.
func (c *Chain[In, Out]) supervise() {
	c.wg.Wait()
	c.fail(context.Cause(c.ctx)) // a no-op: the tail has recorded the outcome
	// Values that went into a link and did not come out of it, plus those
	// held by stages that were stopped. A Remote stage's counts are not
	// known here: what it dropped or lost shows as a link's loss.
	in := int64(c.sent.Load())
	var out, held int64
	for _, cn := range c.stages {
		in += int64(cn.written.Load())
		out += int64(cn.read.Load())
		held += int64(cn.held.Load())
	}
	out += int64(c.tail.read.Load())
	held += int64(c.tail.held.Load())
	u := max(in-out, 0) + held // in < out only if a remote peer made values up
	c.undelivered.Store(uint64(u))
	if u > 0 {
		c.o.logger.Warn("pipeline: chain ended with undelivered values",
			zap.String("chain", c.name), zap.Int64("undelivered", u), zap.Error(c.err))
	}
	c.cancel(ErrClosed)
	close(c.done)
}

// drainTail delivers the last link's values to Out until the end of
// stream (nil) or a failure.
func (c *Chain[In, Out]) drainTail(tail *zchan.Socket[zchan.Msg], codec zchan.Codec[Out], w *liveness) error {
	ctx := c.ctx
	for {
		m, err := w.recv(ctx, tail, c.name+": output")
		if err != nil {
			return err
		}
		switch kindOf(m) {
		case kData:
			c.tail.read.Add(1)
			frames, err := valueOf(m, dataHdrLen)
			if err != nil {
				c.tail.failed.Add(1)
				return fmt.Errorf("pipeline: %s: output: %w", c.name, err)
			}
			v, err := decode(codec, frames)
			if err != nil {
				c.tail.failed.Add(1)
				return fmt.Errorf("pipeline: %s: output: %w", c.name, err)
			}
			select {
			case c.out <- v:
				c.tail.written.Add(1)
			case <-ctx.Done():
				c.tail.held.Add(1)
				return context.Cause(ctx)
			}
		case kEnd:
			close(c.ended)
			return nil
		case kFail:
			return remoteErr(c.name+": output", m)
		case kPing: // a remote last stage's heartbeat
		default:
			return fmt.Errorf("pipeline: %s: output: message kind %q: %w", c.name, kindOf(m), ErrProtocol)
		}
	}
}

// fail records the chain's first outcome and stops it on an error. A nil
// outcome (the end of stream reached Out) is final too.
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
// first; an error wrapping ErrClosed once Shutdown or Close has begun (a
// Send under way when Shutdown begins is waited for, and its value goes
// before the end of stream); the chain's first error after it has failed;
// an error wrapping zchan.ErrCodec if v cannot be encoded, or ErrPanic if
// the codec panicked (which also fails the chain). A nil return means the
// chain has v: it is counted in ChainStats.Sent, and comes out of Out
// unless the chain is closed or fails first. Send is safe for concurrent
// use; values from concurrent calls are ordered as the first link takes
// them.
func (c *Chain[In, Out]) Send(ctx context.Context, v In) error {
	if c.closing.Load() {
		return c.endErr()
	}
	frames, err := encode(c.inCodec, v)
	if err != nil {
		err = fmt.Errorf("pipeline: %s: send: %w", c.name, err)
		if errors.Is(err, ErrPanic) {
			c.fail(err)
		}
		return err
	}
	c.senders.Add(1)
	defer func() {
		if c.senders.Add(-1) == 0 && c.closing.Load() {
			select {
			case c.idle <- struct{}{}:
			default:
			}
		}
	}()
	if c.closing.Load() {
		return c.endErr()
	}
	if err := c.head.Send(ctx, withHeader(hdrData, frames)); err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return c.endErr()
	}
	if c.testHookSent != nil {
		c.testHookSent()
	}
	c.sent.Add(1)
	return nil
}

// endErr is what Send returns once the chain is ending: its failure, if
// it failed, else ErrClosed.
func (c *Chain[In, Out]) endErr() error {
	if err := c.Err(); err != nil && !errors.Is(err, ErrClosed) {
		return err
	}
	if cause := context.Cause(c.ctx); cause != nil && !errors.Is(cause, ErrClosed) {
		return cause // a failure being recorded, or the lifetime's end
	}
	return fmt.Errorf("pipeline: %s: send: %w", c.name, ErrClosed)
}

// Out returns the channel of the chain's output, in order. The chain
// closes it when it ends: after the end of stream that Shutdown sends, or
// when it is closed, fails or is cancelled (Wait then tells why). A
// consumer that stops reading pushes back through every link to Send.
func (c *Chain[In, Out]) Out() <-chan Out { return c.out }

// Shutdown drains and stops the chain, as net/http's Server.Shutdown does
// a server: Send fails with an error wrapping ErrClosed from then on
// (Sends under way are waited for), an end-of-stream marker follows the
// last value through every stage, each stage closes its sockets, input
// first, once it has passed the marker on, and Out is closed after the
// last value. Everything Send accepted therefore comes out of Out, as long
// as Out is read. If ctx ends first, Shutdown closes the chain at once
// (Close) and returns context.Cause(ctx); what it abandoned is counted in
// Undelivered. Otherwise it returns the chain's first error, or nil.
// Shutdown waits until Done is closed. It is safe for concurrent use and
// may be called again, or after Close.
func (c *Chain[In, Out]) Shutdown(ctx context.Context) error {
	c.drainOnce.Do(func() {
		c.closing.Store(true)
		close(c.drainReq)
	})
	select {
	case <-c.done:
		return c.result()
	case <-ctx.Done():
		c.Close()
		return context.Cause(ctx)
	}
}

// Close stops the chain at once: Send fails with an error wrapping
// ErrClosed from then on, every stage stops (a stage function running is
// cancelled through its ctx and waited for), and each socket closes,
// handing on what it holds within the linger. Values not yet out are
// abandoned and counted in Undelivered; Out is closed. Close waits until
// Done is closed, which takes about the linger at most (WithLinger)
// once the stage functions have returned, whether or not Out is read. It
// returns the chain's first error, or nil. It is idempotent and safe for
// concurrent use.
func (c *Chain[In, Out]) Close() error {
	c.closing.Store(true)
	c.fail(fmt.Errorf("pipeline: %s: %w", c.name, ErrClosed))
	c.head.Close() // Sends under way return, so the ender can go on
	<-c.done
	return c.result()
}

func (c *Chain[In, Out]) result() error {
	if errors.Is(c.err, ErrClosed) {
		return nil
	}
	return c.err
}

// Wait blocks until the chain has ended and returns its first error: a
// stage's error, an error wrapping ErrPanic, ErrRemote or ErrClosed (after
// Close, or a Shutdown whose ctx ended), context.Cause of the WithLifetime
// context, or nil after Shutdown drained it.
func (c *Chain[In, Out]) Wait() error {
	<-c.done
	return c.err
}

// Done returns a channel closed when every stage has stopped, every
// socket of the chain is closed and the accounting is final.
func (c *Chain[In, Out]) Done() <-chan struct{} { return c.done }

// Err returns the chain's first error once it has one (see Wait; nil after
// a drained Shutdown), and nil while it is running cleanly.
func (c *Chain[In, Out]) Err() error {
	select {
	case <-c.finished:
		return c.err
	default:
		return nil
	}
}

// Undelivered returns ChainStats.Undelivered: how many values Send
// accepted that the chain abandoned. It is final once Done is closed, and
// 0 before.
func (c *Chain[In, Out]) Undelivered() uint64 { return c.undelivered.Load() }

// Progress returns a number that grows whenever a value moves through the
// chain (accepted, taken or passed on by a stage, delivered): a shutdown
// coordinator watches it to see when the chain has gone still.
func (c *Chain[In, Out]) Progress() uint64 {
	n := c.sent.Load() + c.tail.read.Load() + c.tail.written.Load()
	for _, cn := range c.stages {
		n += cn.read.Load() + cn.written.Load()
	}
	return n
}

// Stats returns a snapshot of the chain's counters (see ChainStats). It
// is safe to call at any time, also after the chain has ended.
func (c *Chain[In, Out]) Stats() ChainStats {
	st := ChainStats{Sent: c.sent.Load(), Delivered: c.tail.written.Load(), Failed: c.tail.failed.Load()}
	for _, cn := range c.stages {
		st.Skipped += cn.skipped.Load()
		st.Failed += cn.failed.Load()
	}
	st.Undelivered = c.undelivered.Load()
	return st
}
