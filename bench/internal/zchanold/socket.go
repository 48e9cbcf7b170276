package zchanold

import (
	"context"
	"errors"
	"fmt"
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
	endpoints []string // written by the owner before Open returns
	log       *zap.Logger

	in       chan T        // sent on and closed by the owner
	sendq    chan [][]byte // WithSendBuffer; the owner receives only when it can send
	senders  atomic.Int64  // Send calls under way, for the owner's final drain
	queued   atomic.Uint64 // messages Send has put in sendq
	blocked  atomic.Int64  // callers blocked on sendq or cmds: the owner must select
	w        *fdWaiter     // written by the owner before Open returns
	cmds     chan command  // unbuffered
	closeReq chan struct{} // closed by Close
	stopping chan struct{} // closed by the owner when it stops taking work
	done     chan struct{} // closed by the owner when it has exited
	once     sync.Once
	reason   error // why the socket ended; written before stopping is closed
	closeErr error // error from zmq_close; written before done is closed

	stats counters
}

type command struct {
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
// socket, applies the options, binds and connects; OpenWith returns when
// that is done, or with an error wrapping ErrUnknownType, ErrUnsupported,
// ErrInvalidOption, ErrBadEndpoint, ErrAddrInUse or ErrTerminated, in which
// case nothing is left open.
//
// The socket lives until ctx is done, Close is called, its Context is
// terminated, or libzmq reports a fatal error; then its owner flushes what
// it can within the linger, closes the socket and closes In.
func OpenWith[T any](ctx context.Context, t Type, codec Codec[T], opts ...Option) (*Socket[T], error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if codec == nil {
		return nil, fmt.Errorf("zchan: nil codec: %w", ErrInvalidOption)
	}
	o := defaultOptions()
	for _, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("zchan: nil option: %w", ErrInvalidOption)
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
		typ:      t,
		codec:    codec,
		o:        o,
		in:       make(chan T, o.recvBuffer),
		sendq:    make(chan [][]byte, o.sendBuffer),
		cmds:     make(chan command),
		closeReq: make(chan struct{}),
		stopping: make(chan struct{}),
		done:     make(chan struct{}),
	}
	ready := make(chan error, 1)
	go s.own(ctx, zc, ready)
	if err := <-ready; err != nil {
		<-s.done
		return nil, err
	}
	return s, nil
}

// Name returns the socket's name (WithName, or the type and a number).
func (s *Socket[T]) Name() string { return s.name }

// Type returns the socket's type.
func (s *Socket[T]) Type() Type { return s.typ }

// Endpoints returns the endpoints the socket bound to, as libzmq resolved
// them (a tcp port of "*" shows the port picked), in the order of WithBind.
func (s *Socket[T]) Endpoints() []string { return append([]string(nil), s.endpoints...) }

// In returns the channel of inbound messages. The owner sends on it only
// what the consumer can take, so a consumer that stops reading pushes back
// to libzmq's receive HWM and on to the sender (unless WithDropWhenSlow).
// The owner closes it when the socket ends; Err then tells why. For types
// that cannot receive (PUB, PUSH) it is closed only at the end.
func (s *Socket[T]) In() <-chan T { return s.in }

// Send hands v to the owner, which sends it as one message. It returns
// once the message is in the send queue (WithSendBuffer); when the queue
// is full it blocks until the owner takes a message, which it does only
// when it can send: not while libzmq's send HWM is reached or no peer is
// there to take it, and for REQ not until the previous reply has arrived
// (for REP until a request has). REQ and REP have no queue by default, so
// their Send returns only when the owner takes the message. A nil return means the owner will send
// the message, or count it in Stats.Undelivered if the socket ends first. The frames of v must
// not be modified after Send is called.
//
// Send returns context.Cause(ctx) if ctx ends first, the socket's end
// reason (ErrClosed, ErrTerminated, ...) if the socket has ended, an error
// wrapping ErrDecode if v cannot be encoded, ErrEmptyMessage or
// ErrTooManyFrames. It is safe for concurrent use; concurrent messages are
// sent in the order the owner takes them.
func (s *Socket[T]) Send(ctx context.Context, v T) error {
	if !s.typ.canSend() {
		return fmt.Errorf("zchan: send on %s: %w", s.typ, ErrUnsupported)
	}
	frames, err := s.codec.Encode(v)
	if err != nil {
		if !errors.Is(err, ErrDecode) {
			err = fmt.Errorf("zchan: encode: %w: %w", ErrDecode, err)
		}
		return err
	}
	if len(frames) == 0 {
		return ErrEmptyMessage
	}
	if s.o.maxFrames > 0 && len(frames) > s.o.maxFrames {
		return fmt.Errorf("zchan: send %d frames, cap %d: %w", len(frames), s.o.maxFrames, ErrTooManyFrames)
	}
	// The owner, once stopping is closed, drains sendq until no Send is
	// under way; counting this call before looking at stopping means a
	// message is either refused here or seen by that drain, never left
	// behind in the queue.
	s.senders.Add(1)
	defer s.senders.Add(-1)
	select {
	case <-s.stopping:
		return s.reason
	default:
	}
	if cap(s.sendq) > 0 {
		select {
		case s.sendq <- frames: // room in the queue: the common case
			s.queued.Add(1)
			s.w.kick()
			return nil
		default:
		}
	}
	// About to block: the owner must select on sendq rather than park on
	// ZMQ_FD. With an unbuffered queue the owner itself uncounts the caller
	// when it takes the message, so that it can park again at once; every
	// hand-over on an unbuffered queue goes through here, so each one is
	// counted exactly once.
	s.blocked.Add(1)
	s.w.kick()
	select {
	case s.sendq <- frames:
		if cap(s.sendq) > 0 {
			s.blocked.Add(-1)
		}
		s.queued.Add(1)
		s.w.kick()
		return nil
	case <-s.stopping:
		s.blocked.Add(-1)
		return s.reason
	case <-ctx.Done():
		s.blocked.Add(-1)
		return context.Cause(ctx)
	}
}

// Subscribe adds a subscription to a SUB socket at run time ("" matches
// every message). It blocks until the owner has applied it, ctx ends or
// the socket ends.
func (s *Socket[T]) Subscribe(ctx context.Context, prefix string) error {
	if s.typ != Sub {
		return fmt.Errorf("zchan: subscribe on %s: %w", s.typ, ErrUnsupported)
	}
	return s.Do(ctx, func(z *zmq.Socket) error { return z.SetSubscribe(prefix) })
}

// Unsubscribe removes a subscription from a SUB socket at run time. It
// blocks like Subscribe.
func (s *Socket[T]) Unsubscribe(ctx context.Context, prefix string) error {
	if s.typ != Sub {
		return fmt.Errorf("zchan: unsubscribe on %s: %w", s.typ, ErrUnsupported)
	}
	return s.Do(ctx, func(z *zmq.Socket) error { return z.SetUnsubscribe(prefix) })
}

// Do runs fn on the owner goroutine, between two turns of its loop, and
// returns fn's error. It is the escape hatch for socket options and calls
// this package has no method for (a monitor, a last endpoint, a run-time
// option). fn must not keep the socket, close it, send or receive on it,
// or block. Do blocks until fn has run, ctx ends (fn may then still run)
// or the socket ends.
func (s *Socket[T]) Do(ctx context.Context, fn func(*zmq.Socket) error) error {
	c := command{fn: fn, reply: make(chan error, 1)}
	s.blocked.Add(1)
	s.w.kick()
	select {
	case s.cmds <- c: // the owner uncounts the caller
	case <-s.stopping:
		s.blocked.Add(-1)
		return s.reason
	case <-ctx.Done():
		s.blocked.Add(-1)
		return context.Cause(ctx)
	}
	select {
	case err := <-c.reply:
		return err
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// Close stops the socket: Send and Do fail with ErrClosed from then on;
// the owner sends the message it holds if libzmq takes it within the
// linger, counts what it cannot deliver in Stats.Undelivered, closes the
// socket (libzmq keeps sending what it queued, for up to the linger, while
// the Context lives) and closes In. Close waits for the owner to exit,
// which takes at most about the linger. It is idempotent and safe for
// concurrent use; every call returns the error, if any, of zmq_close.
func (s *Socket[T]) Close() error {
	s.once.Do(func() {
		close(s.closeReq)
		s.w.kickAlways()
	})
	<-s.done
	return s.closeErr
}

// Done returns a channel that is closed when the owner has exited: the
// socket is closed and In is closed.
func (s *Socket[T]) Done() <-chan struct{} { return s.done }

// Err returns why the socket ended: ErrClosed after Close, the context's
// cause after cancellation, an error wrapping ErrTerminated after context
// termination, or libzmq's fatal error. It returns nil while the socket is
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
