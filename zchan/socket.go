package zchan

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	zmq "github.com/pebbe/zmq4"
	"go.uber.org/zap"
)

// Socket is a ZeroMQ socket owned by one goroutine and bridged to Go
// channels: inbound messages arrive on In, outbound messages go through
// Send. See the package doc for the ownership, back pressure and shutdown
// contract.
//
// A Socket is safe for concurrent use by multiple goroutines. Its zero
// value is not usable: create one with Open or OpenWith. It cannot be
// reopened after it ends.
type Socket[T any] struct {
	typ       Type
	codec     Codec[T]
	o         options
	name      string
	zc        *Context
	epMu      sync.Mutex      // guards endpoints and connects
	endpoints []boundEndpoint // written by the owner
	connects  []string        // written by the owner
	log       *zap.Logger

	in       chan T        // sent on and closed by the owner
	sendq    chan [][]byte // WithSendBuffer; the owner receives only when it can send
	_        [128]byte     // senders apart from what the owner reads every turn (see counters)
	senders  atomic.Int64  // Send calls under way, for the owner's final drain
	_        [120]byte
	cmds     chan command    // unbuffered; the owner runs each one it receives
	fromReq  chan fromReq[T] // unbuffered: SendFrom's channel for the owner
	closeReq chan struct{}   // closed by Close (and by Open when its ctx ends first)
	drainReq chan struct{}   // closed by Shutdown
	stopping chan struct{}   // closed by the owner when it stops taking work
	done     chan struct{}   // closed by the owner when it has exited
	closeOne sync.Once
	drainOne sync.Once
	reason   error // why the socket ended; written before stopping is closed
	closeErr error // error from zmq_close; written before done is closed

	stats counters
}

type command struct {
	name  string // for errors: "Do", "bind", ...
	fn    func(*zmq.Socket) error
	reply chan error // buffered 1
}

// Open opens a socket of type t whose messages are raw multipart frames.
// It is OpenWith with the Frames codec.
func Open(ctx context.Context, t Type, opts ...Option) (*Socket[Msg], error) {
	return OpenWith(ctx, t, Frames, opts...)
}

// OpenWith opens a socket of type t whose messages are values of T, mapped
// to frames by codec. It starts the owner goroutine, which creates the
// socket, applies the options (running WithSetup functions), binds and
// connects; OpenWith returns when that is done.
//
// ctx bounds the opening only: when it ends first, OpenWith returns
// context.Cause(ctx) at once and the owner closes the socket as soon as
// the setup it is running returns. Once open, the socket lives until Close
// or Shutdown, until its zmq Context is terminated, until libzmq fails,
// or until the context given to WithLifetime ends.
//
// Errors wrap ErrUnknownType, ErrUnsupported, ErrInvalidOption,
// ErrBadEndpoint, ErrAddrInUse, ErrTooManySockets, ErrTerminated, ErrPanic
// (a WithSetup function panicked) or ErrFatal; nothing is then left open.
func OpenWith[T any](ctx context.Context, t Type, codec Codec[T], opts ...Option) (*Socket[T], error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if codec == nil {
		return nil, newErr(ErrInvalidOption, nil, "nil codec")
	}
	o := defaultOptions()
	for _, opt := range opts {
		if opt == nil {
			return nil, newErr(ErrInvalidOption, nil, "nil option")
		}
		opt.apply(&o)
	}
	if err := o.validate(t); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, context.Cause(ctx)
	}
	if o.sendBuffer < 0 { // not set
		o.sendBuffer = DefaultBuffer
		if t == Req || t == Rep {
			o.sendBuffer = 0
		}
	}
	zc := o.ctx
	if zc == nil {
		var err error
		if zc, err = defaultContext(); err != nil {
			return nil, err
		}
	}
	s := &Socket[T]{
		zc:       zc,
		typ:      t,
		codec:    codec,
		o:        o,
		in:       make(chan T, o.recvBuffer),
		sendq:    make(chan [][]byte, o.sendBuffer),
		cmds:     make(chan command),
		fromReq:  make(chan fromReq[T]),
		closeReq: make(chan struct{}),
		drainReq: make(chan struct{}),
		stopping: make(chan struct{}),
		done:     make(chan struct{}),
	}
	ready := make(chan error, 1) // the owner never blocks on it
	go s.own(zc, ready)
	select {
	case err := <-ready:
		if err != nil {
			<-s.done
			return nil, err
		}
		return s, nil
	case <-ctx.Done():
		// The owner is still in setup (a WithSetup function that blocks):
		// it closes the socket when setup returns.
		s.closeOne.Do(func() { close(s.closeReq) })
		return nil, context.Cause(ctx)
	}
}

// Name returns the socket's name (WithName, or the type and a number).
func (s *Socket[T]) Name() string { return s.name }

// Type returns the socket's type.
func (s *Socket[T]) Type() Type { return s.typ }

// In returns the channel of inbound messages. The owner sends on it only
// what the consumer can take, so a consumer that stops reading pushes back
// to libzmq's receive HWM and on to the sender (unless WithDropWhenSlow).
// The owner closes it when the socket ends; Err then tells why. What is in
// its buffer then stays readable. For types that cannot receive (PUB,
// PUSH) it is closed only at the end.
func (s *Socket[T]) In() <-chan T { return s.in }

// Send hands v to the owner, which sends it as one message. It returns
// once the message is in the send queue (WithSendBuffer); when the queue
// is full it blocks until the owner takes a message, which it does only
// when it can send: not while libzmq's send HWM is reached or no peer is
// there to take it, and for REQ not until the previous reply has arrived
// (for REP until a request has). REQ and REP have no queue by default, so
// their Send returns only when the owner takes the message. A nil return
// means the message is counted in Stats.Accepted and the owner will send
// it, or count it in Stats.Undelivered if the socket ends first. The
// frames of v must not be modified after Send is called.
//
// Send returns context.Cause(ctx) if ctx ends first; an error wrapping
// ErrClosed once Shutdown has begun (except on REP, whose replies to the
// requests already delivered are still taken); the socket's end reason
// (ErrClosed, ErrTerminated, ...) if the socket has ended; an error
// wrapping ErrCodec if v cannot be encoded, or ErrPanic if the codec
// panicked; ErrEmptyMessage; ErrTooManyFrames; ErrUnsupported on a type
// that cannot send, or for a ROUTER message of one frame or a STREAM
// message of other than two (libzmq would take those and lose them).
//
// On a ROUTER (ROUTER_MANDATORY is on) or a STREAM, a message for a peer
// whose pipe is full waits like any other (unless WithDropAtHWM), and a
// message for a peer that is not connected is discarded by the owner and
// counted in Stats.Unroutable: Send has returned by then. On PUB and XPUB,
// a nil return means libzmq took the message, not that any subscriber got
// it: see Stats.Dropped. It is safe for concurrent use; concurrent messages are
// sent in the order the owner takes them.
func (s *Socket[T]) Send(ctx context.Context, v T) error {
	if !s.typ.canSend() {
		return newErr(ErrUnsupported, nil, "send on %s", s.typ)
	}
	frames, err := s.encode(v)
	if err != nil {
		return err
	}
	if len(frames) == 0 {
		return newErr(ErrEmptyMessage, nil, "send on %s", s.name)
	}
	if s.o.maxFrames > 0 && len(frames) > s.o.maxFrames {
		return newErr(ErrTooManyFrames, nil, "send %d frames, cap %d", len(frames), s.o.maxFrames)
	}
	if err := s.checkEnvelope(frames); err != nil {
		return err
	}
	// The owner, once stopping is closed, drains sendq until no Send is
	// under way; counting this call before looking at stopping means a
	// message is either refused here or seen by that drain, never left
	// behind in the queue.
	s.senders.Add(1)
	defer s.senders.Add(-1)
	// The checks and the first attempt are single-case selects: the
	// runtime does those without locking the channels (measured: the
	// multi-case select here cost a fifth of 64-byte throughput).
	select {
	case <-s.stopping:
		return s.reason
	default:
	}
	var draining <-chan struct{}
	if s.typ != Rep {
		draining = s.drainReq
		select {
		case <-draining:
			return newErr(ErrClosed, nil, "send on %s: shutting down", s.name)
		default:
		}
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	select {
	case s.sendq <- frames: // room in the queue: the common case
		s.stats.accepted.Add(1)
		return nil
	default:
	}
	select {
	case s.sendq <- frames:
		s.stats.accepted.Add(1)
		return nil
	case <-s.stopping:
		return s.reason
	case <-draining:
		return newErr(ErrClosed, nil, "send on %s: shutting down", s.name)
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// checkEnvelope refuses what libzmq would take and lose without a word: a
// ROUTER takes a lone routing id as a message and sends nothing; a STREAM
// takes [id, data] pairs only, and reads anything else out of step (a lone
// frame as the id of the next message, a third frame as an id).
func (s *Socket[T]) checkEnvelope(frames [][]byte) error {
	switch {
	case s.typ == Router && len(frames) < 2:
		return hintErr(ErrUnsupported, nil, "a ROUTER message is the peer's routing id and a body: 2 frames or more", "send of 1 frame on %s", s.name)
	case s.typ == Stream && len(frames) != 2:
		return hintErr(ErrUnsupported, nil, "a STREAM message is the peer's id and the data: 2 frames", "send of %d frames on %s", len(frames), s.name)
	}
	return nil
}

// encode runs the codec on the caller's goroutine, a panic included.
func (s *Socket[T]) encode(v T) (frames [][]byte, err error) {
	defer recoverInto(&err, "Encode")
	frames, err = s.codec.Encode(v)
	if err != nil && !errors.Is(err, ErrCodec) {
		err = newErr(ErrCodec, err, "encode")
	}
	return frames, err
}

// Subscribe adds a subscription to a SUB socket at run time ("" matches
// every message). It blocks until the owner has applied it, ctx ends or
// the socket ends.
func (s *Socket[T]) Subscribe(ctx context.Context, prefix string) error {
	if s.typ != Sub {
		return newErr(ErrUnsupported, nil, "subscribe on %s", s.typ)
	}
	return s.Do(ctx, func(z *zmq.Socket) error { return z.SetSubscribe(prefix) })
}

// Unsubscribe removes a subscription from a SUB socket at run time. It
// blocks like Subscribe.
func (s *Socket[T]) Unsubscribe(ctx context.Context, prefix string) error {
	if s.typ != Sub {
		return newErr(ErrUnsupported, nil, "unsubscribe on %s", s.typ)
	}
	return s.Do(ctx, func(z *zmq.Socket) error { return z.SetUnsubscribe(prefix) })
}

// Do runs fn on the owner goroutine, between two turns of its loop, and
// returns fn's error (a libzmq errno in it wrapped so that errors.Is
// matches it). It is the escape hatch for socket options and calls this
// package has no method for (a monitor, a last endpoint, a run-time
// option). fn must not keep the socket, send or receive on it, or block;
// and it must not close it: a socket closed by fn ends with an error
// wrapping ErrClosed. Nor may fn call this Socket's methods that go
// through its owner (Do, Bind, Connect, Disconnect, Unbind, Subscribe,
// Unsubscribe, Send, Shutdown, Close): the owner is running fn, so they
// would wait for it until their ctx ends (Close for ever). A panic in fn is recovered: Do returns an error
// wrapping ErrPanic and the socket ends with it. Do blocks until fn has
// run, ctx ends (fn may then still run) or the socket ends.
func (s *Socket[T]) Do(ctx context.Context, fn func(*zmq.Socket) error) error {
	if fn == nil {
		return newErr(ErrInvalidOption, nil, "nil function for Do")
	}
	return s.run(ctx, "Do", fn)
}

// run runs fn on the owner, as Do does; name is for its errors.
func (s *Socket[T]) run(ctx context.Context, name string, fn func(*zmq.Socket) error) error {
	c := command{name: name, fn: fn, reply: make(chan error, 1)}
	select {
	case s.cmds <- c:
	case <-s.stopping:
		return s.reason
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	select {
	case err := <-c.reply:
		return err
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// Close stops the socket at once: Send and Do fail with ErrClosed from
// then on; the owner sends the message it holds and those Send queued if
// libzmq takes them within the linger, counts what it cannot deliver in
// Stats.Undelivered (including libzmq's receive queue), closes the socket
// (libzmq keeps sending what it queued, for up to the linger, while the
// Context lives) and closes In. Close waits for the owner to exit, which
// takes at most about the linger. It is idempotent and safe for concurrent
// use, also during Shutdown; every call returns the error, if any, of
// zmq_close (wrapping ErrFatal).
func (s *Socket[T]) Close() error {
	s.closeOne.Do(func() { close(s.closeReq) })
	<-s.done
	return s.closeErr
}

// Shutdown closes the socket gracefully, as net/http's Server.Shutdown
// does a server: Send refuses new messages at once (except a REP's
// replies), and the owner goes on working both ways until nothing is left
// in hand: it sends what Send queued, hands the consumer of In what libzmq
// has received (a REQ also waits for the reply to its request, a REP for
// the reply to the request it delivered), and then closes the socket as
// Close does. The drain ends when input stops: a socket whose peers keep
// sending (a SUB under a steady feed, a busy ROUTER or REP) drains until
// ctx ends. Shut the senders down first, as shutdown.Group does. If ctx ends first, Shutdown closes the socket at
// once (Close, bounded by the linger), and returns context.Cause(ctx);
// what was abandoned is counted in Stats.Undelivered. Otherwise it returns
// what Close returns. The consumer of In must keep reading for the drain
// to finish. Shutdown is safe for concurrent use and may be called again
// or after Close.
func (s *Socket[T]) Shutdown(ctx context.Context) error {
	s.drainOne.Do(func() { close(s.drainReq) })
	select {
	case <-s.done:
		return s.closeErr
	case <-ctx.Done():
		_ = s.Close()
		return context.Cause(ctx)
	}
}

// Done returns a channel that is closed when the owner has exited: the
// socket is closed, In is closed and the Stats are final.
func (s *Socket[T]) Done() <-chan struct{} { return s.done }

// Err returns why the socket ended: ErrClosed after Close or Shutdown, an
// error wrapping ErrClosed and the cause of the WithLifetime context after
// it ended, an error wrapping ErrTerminated after
// context termination, ErrPanic after a panic in a user function on the
// owner, or an error wrapping ErrFatal. It returns nil while the socket is
// open.
func (s *Socket[T]) Err() error {
	select {
	case <-s.stopping:
		return s.reason
	default:
		return nil
	}
}

// Stats returns a snapshot of the socket's counters. It is safe to call
// from any goroutine, at any time, also after the socket has ended.
func (s *Socket[T]) Stats() Stats { return s.stats.snapshot() }

// Undelivered returns Stats().Undelivered: what a shutdown coordinator
// reports as lost.
func (s *Socket[T]) Undelivered() uint64 { return s.stats.undelivered.Load() }

// Progress returns a number that grows whenever the socket moves a message
// (taken off libzmq, or handed to it): a shutdown coordinator watches it to
// see when a socket has gone still.
func (s *Socket[T]) Progress() uint64 {
	return s.stats.received.Load() + s.stats.msgsOut.Load()
}
