package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zmqchan/zmqchan/zchan"
)

// Stage is a typed stage function: it turns one In into one Out. It runs
// on its stage's goroutine, one message at a time, so a stage sees its
// input in order and needs no locking of its own. It should honour ctx,
// which is cancelled when the chain (or pool) stops. Returning ErrSkip
// drops the input; any other error stops the whole chain (or pool) and is
// what Wait and Close return. A panic is recovered and treated as an error
// wrapping ErrPanic.
type Stage[In, Out any] func(ctx context.Context, in In) (Out, error)

// proc is a stage function with its codecs applied: frames in, frames
// out. If scratch is not nil, the frames out may be scratch[:] (valid until
// the caller's next call with it): a pool's worker copies an answer's
// frames into its RESULTS message at once, and so needs no slice of its
// own per answer; a chain's stage sends the frames, and passes nil.
type proc func(ctx context.Context, frames [][]byte, scratch *[1][]byte) ([][]byte, error)

func makeProc[A, B any](name string, f Stage[A, B], ca zchan.Codec[A], cb zchan.Codec[B]) proc {
	where := fmt.Sprintf("stage %q", name) // once: a Sprintf per call was 3% of a pool's CPU
	// The default codec for []byte makes one frame of the value: into
	// scratch, it needs no allocation (a third of a worker's allocations
	// per task).
	rawOut := any(cb) == any(zchan.Bytes)
	return func(ctx context.Context, frames [][]byte, scratch *[1][]byte) ([][]byte, error) {
		a, err := decode(ca, frames)
		if err != nil {
			return nil, fmt.Errorf("pipeline: stage %q: %w", name, err)
		}
		b, err := call(ctx, where, f, a)
		if err != nil {
			return nil, err
		}
		if raw, ok := any(b).([]byte); ok && rawOut && scratch != nil {
			scratch[0] = raw
			return scratch[:], nil
		}
		out, err := encode(cb, b)
		if err != nil {
			return nil, fmt.Errorf("pipeline: stage %q: %w", name, err)
		}
		return out, nil
	}
}

// call runs f and turns a panic into an error wrapping ErrPanic, which
// says where (`stage "name"`).
func call[A, B any](ctx context.Context, where string, f Stage[A, B], a A) (b B, err error) {
	defer recoverPanic(&err, where)
	return f(ctx, a)
}

// counts are the hand-over counters of one stage or worker. Every value
// it takes off its input (read) ends in exactly one of the others, so
// once it has stopped, read == written + skipped + failed + held: that is
// what makes a chain's and a pool's accounting add up.
type counts struct {
	read    atomic.Uint64 // taken off the input socket's In
	written atomic.Uint64 // accepted by the output socket's Send
	skipped atomic.Uint64 // the function returned ErrSkip
	failed  atomic.Uint64 // the function (or its codec) failed on it
	held    atomic.Uint64 // in hand when the stage was stopped
}

// runStage moves messages from in through p to out until the end of the
// stream (nil, after forwarding it), a failure, or ctx, counting every
// value in cn. If w is set, in comes from a peer that heartbeats (a
// remote stage, or the chain upstream of a remote stage): silence for w's
// bound while waiting for input fails the stage with ErrDead. If g is set,
// out goes to a peer that watches for heartbeats, which g sends; the last
// message (the end of stream or a failure) goes through g, so that no
// heartbeat follows it.
func runStage(ctx context.Context, name string, p proc, in, out *zchan.Socket[zchan.Msg], cn *counts, w *liveness, g *linkGate) error {
	where := fmt.Sprintf("stage %q", name)
	for {
		m, err := w.recv(ctx, in, where)
		if err != nil {
			return err
		}
		switch kindOf(m) {
		case kData:
			cn.read.Add(1)
			frames, err := valueOf(m, dataHdrLen)
			if err != nil {
				cn.failed.Add(1)
				return fmt.Errorf("pipeline: stage %q: input: %w", name, err)
			}
			res, err := p(ctx, frames, nil)
			switch {
			case errors.Is(err, ErrSkip):
				cn.skipped.Add(1)
				continue
			case err != nil && ctx.Err() != nil:
				cn.held.Add(1) // stopped while running: the stop, not a failure
				return context.Cause(ctx)
			case err != nil:
				cn.failed.Add(1)
				return err
			}
			if err := out.Send(ctx, withHeader(hdrData, res)); err != nil {
				cn.held.Add(1)
				return sendErr(ctx, name, err)
			}
			cn.written.Add(1)
		case kEnd:
			if err := g.last(ctx, out, endMsg); err != nil {
				return sendErr(ctx, name, err)
			}
			return nil
		case kFail:
			err := remoteErr(fmt.Sprintf("upstream of stage %q", name), m)
			_ = g.last(ctx, out, m) // pass it on to a remote stage downstream, if any
			return err
		case kPing: // a heartbeat of the peer upstream
		default:
			return fmt.Errorf("pipeline: stage %q: message kind %q: %w", name, kindOf(m), ErrProtocol)
		}
	}
}

// liveness watches the input of a link whose sender heartbeats. A nil
// *liveness watches nothing.
type liveness struct {
	peer  string // who sends, for the error: `remote stage "s2"`
	bound time.Duration
	t     *time.Timer
}

func newLiveness(peer string, o *options) *liveness {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &liveness{peer: peer, bound: o.heartbeat * time.Duration(o.liveness), t: t}
}

// recv waits for the next message on in, for ctx, and, if w is set, for
// at most w's bound: the peer sends a heartbeat every interval whatever it
// is doing, so a wait that long means it is dead (or cut off). The bound runs from the start of the wait, not from the last
// message, so a stage that was slow itself (held up downstream) is not
// fooled by its own delay.
func (w *liveness) recv(ctx context.Context, in *zchan.Socket[zchan.Msg], where string) (zchan.Msg, error) {
	var timeout <-chan time.Time
	if w != nil {
		w.t.Reset(w.bound)
		defer w.t.Stop()
		timeout = w.t.C
	}
	var m zchan.Msg
	var ok bool
	select {
	case m, ok = <-in.In():
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	case <-timeout:
		return nil, fmt.Errorf("pipeline: %s: %s silent for %v: %w", where, w.peer, w.bound, ErrDead)
	}
	if !ok {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, fmt.Errorf("pipeline: %s: input: %w", where, in.Err())
	}
	return m, nil
}

// linkGate guards the sending side of a link whose reader watches for
// heartbeats. The heartbeat goroutine pings through it; the last message
// of the link (the end of stream or a failure) closes it, so that no ping
// follows the last message. Values go straight to the socket: only the
// order of the last message and the pings matters. A nil *linkGate sends
// the last message without a gate.
type linkGate struct {
	mu   sync.Mutex
	sock *zchan.Socket[zchan.Msg]
	shut bool
}

// ping sends a heartbeat unless the last message has gone, waiting at most
// wait for room: a link full up to its high-water mark has messages for
// its reader, which are signs of life as good as a ping.
func (g *linkGate) ping(ctx context.Context, wait time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.shut {
		return
	}
	pctx, cancel := context.WithTimeout(ctx, wait)
	_ = g.sock.Send(pctx, pingMsg)
	cancel()
}

// last sends m, the link's last message, on out (g's socket if g is set),
// after which g sends no more pings.
func (g *linkGate) last(ctx context.Context, out *zchan.Socket[zchan.Msg], m zchan.Msg) error {
	if g == nil {
		return out.Send(ctx, m)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.shut = true
	return g.sock.Send(ctx, m)
}

// heartbeat pings through every gate each interval until ctx ends or stop
// is closed. It runs on a goroutine of its own, so that a long stage call
// or a blocked send does not delay it.
func heartbeat(ctx context.Context, stop <-chan struct{}, interval time.Duration, gates []*linkGate) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			for _, g := range gates {
				g.ping(ctx, interval)
			}
		case <-ctx.Done():
			return
		case <-stop:
			return
		}
	}
}

func sendErr(ctx context.Context, name string, err error) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return fmt.Errorf("pipeline: stage %q: output: %w", name, err)
}

// Serve runs one stage of a chain in this process, for a chain started
// elsewhere with the stage marked Remote: it connects a PAIR to in (the
// link into the stage) and one to out (the link out of it), and moves
// messages through f until the chain's end of stream arrives (it is passed
// on, and Serve returns nil), ctx ends (context.Cause), or f fails. A
// failure is passed downstream, so the chain's Wait returns an error
// wrapping ErrRemote with its text, and Serve returns it. The endpoints
// are the chain's Links (in = Links()[i], out = Links()[i+1] for stage i);
// the codecs must match the chain's (the defaults do).
//
// Serve blocks until it ends; on the way out it closes its sockets and
// terminates its zchan.Context (its own unless WithContext), waiting up to
// about the linger for the last messages to leave the process.
func Serve[In, Out any](ctx context.Context, name string, f Stage[In, Out], in, out string, opts ...Option) error {
	o, err := newOptions(forServe, opts)
	if err != nil {
		return err
	}
	if f == nil {
		return fmt.Errorf("pipeline: serve %q: nil stage function: %w", name, ErrInvalidOption)
	}
	own := o.zctx == nil
	if own {
		zc, err := zchan.NewContext()
		if err != nil {
			return err
		}
		o.zctx = zc
		defer termBounded(zc, o.linger)
	}
	p := makeProc(name, f, codecFor[In](&o), codecFor[Out](&o))
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(ErrClosed)
	outS, err := zchan.Open(ctx, zchan.Pair, o.sockOpts(name+".out", zchan.WithConnect(out))...)
	if err != nil {
		return err
	}
	defer outS.Close()
	inS, err := zchan.Open(ctx, zchan.Pair, o.sockOpts(name+".in", zchan.WithConnect(in))...)
	if err != nil {
		return err
	}
	defer inS.Close()
	// Heartbeats both ways: this stage pings its output (the chain's next
	// stage declares it dead after the liveness bound without a message),
	// and the chain pings this stage's input, so that a chain that died
	// ends Serve with ErrDead instead of leaving it waiting forever.
	gate := &linkGate{sock: outS}
	pstop := make(chan struct{})
	pinged := make(chan struct{})
	go func() {
		defer close(pinged)
		heartbeat(sctx, pstop, o.heartbeat, []*linkGate{gate})
	}()
	var cn counts
	w := newLiveness(fmt.Sprintf("the chain upstream of remote stage %q", name), &o)
	err = runStage(sctx, name, p, inS, outS, &cn, w, gate)
	if err != nil && !errors.Is(err, ErrRemote) && sctx.Err() == nil {
		// Tell the chain, within the linger.
		fctx, fcancel := context.WithTimeout(sctx, o.linger)
		_ = gate.last(fctx, outS, failMsg(err))
		fcancel()
	}
	close(pstop)
	<-pinged
	inS.Close()
	outS.Close() // flushes the end of stream or the failure within the linger
	return err
}

// termBounded terminates zc, waiting at most about the linger and a second
// more; what is still queued then is abandoned with the process.
func termBounded(zc *zchan.Context, linger time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), linger+time.Second)
	defer cancel()
	_ = zc.Term(ctx)
}
