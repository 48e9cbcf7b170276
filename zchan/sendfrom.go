package zchan

import (
	"context"
	"errors"

	"go.uber.org/zap"
)

// SendFrom: a caller-owned channel the owner reads outbound values from,
// so that a program can send from inside its own select (a broker moving
// messages between two sockets), which a blocking Send cannot.

type fromReq[T any] struct {
	ch    <-chan T
	reply chan error // buffered 1
}

// SendFrom makes the owner send every value the caller puts on ch, as Send
// would, until the caller closes ch. The caller's send on ch is the
// select-able form of Send: it completes when the owner takes the value,
// which the owner does only when it can send (not while the send HWM is
// reached or no peer is there, not out of a REQ's or REP's turn), so back
// pressure reaches the caller's select as for Send. A value taken counts
// in Stats.Accepted, and its fate as for Send; a value the codec cannot
// encode (or that Send would refuse: no frames, over WithMaxFrames, a bad
// ROUTER or STREAM envelope) is counted in Stats.Refused instead, logged
// once per episode, and not sent. A panic in the codec ends the socket
// with ErrPanic.
//
// The library never closes ch: it is the caller's. Closing it ends the
// stream: the owner stops reading it, the socket stays open, Send still
// works and SendFrom may be called again (the owner sees the close when it
// next can take a message to send; until then SendFrom of another channel
// fails with ErrUnsupported). Shutdown takes what the caller
// still puts on ch until the caller closes it (within Shutdown's ctx), so
// a producer that closes ch and then calls Shutdown has every value sent
// or counted; on a REP, whose values are replies, only until no reply is
// owed (an idle REP's Shutdown does not wait for ch). Once the socket has ended the owner no longer reads ch, so
// the caller's sends on it must also select on Done (or a context of the
// caller's); values still in ch's buffer then are the caller's: never
// Accepted, counted nowhere.
//
// Cost: an unbuffered ch costs a goroutine hand-off per message, about
// twice Send's cost (64-byte messages over inproc on a loaded 2-core
// machine: 1.2 to 1.4 µs per message against Send's 0.6 to 0.8 µs); a
// buffer of DefaultBuffer, the size of Send's own queue, brings it to
// Send's (0.6 to 0.7 µs).
//
// One channel at a time: SendFrom while a stream is open returns an error
// wrapping ErrUnsupported. SendFrom returns once the owner has the
// channel, or with context.Cause(ctx) if ctx ends first, ErrUnsupported on
// a type that cannot send, ErrInvalidOption for a nil channel, an error
// wrapping ErrClosed once Shutdown has begun, or the end reason once the
// socket has ended. It is safe for concurrent use. A channel costs the
// owner nothing while it is empty: it is one more case of the select the
// owner waits in.
func (s *Socket[T]) SendFrom(ctx context.Context, ch <-chan T) error {
	if !s.typ.canSend() {
		return newErr(ErrUnsupported, nil, "SendFrom on %s", s.typ)
	}
	if ch == nil {
		return newErr(ErrInvalidOption, nil, "SendFrom of a nil channel")
	}
	r := fromReq[T]{ch: ch, reply: make(chan error, 1)}
	select {
	case <-s.drainReq:
		return newErr(ErrClosed, nil, "SendFrom on %s: shutting down", s.name)
	default:
	}
	select {
	case s.fromReq <- r:
	case <-s.stopping:
		return s.reason
	case <-s.drainReq:
		return newErr(ErrClosed, nil, "SendFrom on %s: shutting down", s.name)
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	return <-r.reply // the owner answers at once
}

// takeFrom handles a value the owner received from the SendFrom channel
// (ok false: the caller closed it).
func (st *ownerState[T]) takeFrom(v T, ok bool) error {
	s := st.s
	if !ok {
		st.from = nil
		s.log.Debug("zchan: SendFrom channel closed")
		return nil
	}
	frames, err := s.encode(v)
	if err == nil {
		switch {
		case len(frames) == 0:
			err = newErr(ErrEmptyMessage, nil, "SendFrom on %s", s.name)
		case s.o.maxFrames > 0 && len(frames) > s.o.maxFrames:
			err = newErr(ErrTooManyFrames, nil, "SendFrom of %d frames, cap %d", len(frames), s.o.maxFrames)
		default:
			err = s.checkEnvelope(frames)
		}
	}
	if err != nil {
		if errors.Is(err, ErrPanic) {
			return err
		}
		n := s.stats.refused.Add(1)
		if !st.refusing {
			st.refusing = true
			s.log.Warn("zchan: value from the SendFrom channel refused", zap.Error(err), zap.Uint64("refused", n))
		}
		return nil
	}
	st.refusing = false
	s.stats.accepted.Add(1)
	st.out, st.hasOut = frames, true
	return nil
}

// register answers a SendFrom call.
func (st *ownerState[T]) register(r fromReq[T]) {
	if st.draining { // SendFrom checked, then Shutdown began
		r.reply <- newErr(ErrClosed, nil, "SendFrom on %s: shutting down", st.s.name)
		return
	}
	if st.from != nil {
		r.reply <- hintErr(ErrUnsupported, nil, "close the channel of the last SendFrom first", "second SendFrom channel on %s", st.s.name)
		return
	}
	st.from = r.ch
	r.reply <- nil
}
