package zchanold

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	zmq "github.com/pebbe/zmq4"
	"go.uber.org/zap"
)

// closedCh is always ready: the owner selects on it instead of the
// waiter's ready channel after a turn that used its whole budget, so that
// it looks at its Go channels once and goes on without a new edge.
var closedCh = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// maxCloseDrain bounds how many messages the owner reads (and counts as
// undelivered) out of libzmq's receive queue when the socket ends.
const maxCloseDrain = 1 << 20

// own is the owner goroutine: the only code that touches the zmq socket.
func (s *Socket[T]) own(ctx context.Context, zc *Context, ready chan<- error) {
	defer close(s.done)
	if s.o.lockThread {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
	}
	fail := func(err error) {
		s.reason = err
		close(s.stopping)
		close(s.in)
		ready <- err
	}
	sock, id, name, err := zc.newSocket(s.typ, func(id uint64) string {
		if s.o.name != "" {
			return s.o.name
		}
		return fmt.Sprintf("%s#%d", s.typ, id)
	})
	if err != nil {
		fail(err)
		return
	}
	s.name = name
	s.log = s.o.logger.With(zap.String("socket", name))
	w, err := s.setup(sock)
	if err != nil {
		sock.Close()
		zc.forget(id)
		fail(err)
		return
	}
	s.w = w
	ready <- nil

	st := &ownerState[T]{s: s, sock: sock, w: w, d: newDirect(sock, s.o.pebbeOnly), inReady: true}
	stopKick := context.AfterFunc(ctx, w.kickAlways)
	reason := st.loop(ctx)
	stopKick()
	s.reason = reason
	close(s.stopping)
	start := time.Now()
	st.finish(reason)
	st.d.free()
	w.stop()
	// The flush in finish spent part of the linger; give libzmq only the
	// rest, so that Close and termination stay within one linger.
	if spent := time.Since(start); spent > time.Millisecond && !errors.Is(reason, ErrTerminated) {
		_ = sock.SetLinger(max(s.o.linger-spent, 0))
	}
	if err := sock.Close(); err != nil {
		s.closeErr = fmt.Errorf("zchan: close %s: %w", name, err)
	}
	zc.forget(id)
	close(s.in)
}

// setup applies options, binds and connects, in that order; linger first,
// because libzmq refuses it once termination has begun.
func (s *Socket[T]) setup(sock *zmq.Socket) (*fdWaiter, error) {
	if err := sock.SetLinger(s.o.linger); err != nil {
		return nil, optionError("LINGER", err)
	}
	for _, so := range s.o.sockopts {
		if err := so.set(sock); err != nil {
			return nil, optionError(so.name, err)
		}
	}
	for _, p := range s.o.subscribe {
		if err := sock.SetSubscribe(p); err != nil {
			return nil, optionError("SUBSCRIBE", err)
		}
	}
	for _, ep := range s.o.binds {
		if err := sock.Bind(ep); err != nil {
			return nil, endpointError("bind", ep, err)
		}
		last, err := sock.GetLastEndpoint()
		if err != nil {
			last = ep
		}
		s.endpoints = append(s.endpoints, last)
	}
	for _, ep := range s.o.connects {
		if err := sock.Connect(ep); err != nil {
			return nil, endpointError("connect", ep, err)
		}
	}
	fd, err := sock.GetFd()
	if err != nil {
		return nil, fmt.Errorf("zchan: ZMQ_FD: %w: %w", ErrUnsupported, err)
	}
	return newFDWaiter(fd)
}

func optionError(name string, err error) error {
	if isETERM(err) {
		return fmt.Errorf("zchan: set %s: %w", name, ErrTerminated)
	}
	return fmt.Errorf("zchan: set %s: %w: %w", name, ErrInvalidOption, err)
}

// ownerState is the owner's private state; only the owner goroutine
// touches it.
type ownerState[T any] struct {
	s    *Socket[T]
	sock *zmq.Socket
	w    *fdWaiter
	d    direct // libzmq's handle for the hot path, or pebbe's

	in     T    // decoded message waiting for the consumer
	hasIn  bool //
	out    [][]byte
	hasOut bool
	armed  bool // the waiter has an arm token
	// REQ: a request was sent and its reply has not arrived.
	// REP: a request arrived and its reply has not been sent.
	turn bool

	pendingFn func() bool // st.pending bound to the loop's context, made once
	inReady   bool        // input may be waiting; false after a receive found none, until EVENTS or a wake
	taken     uint64      // messages taken from sendq; Socket.queued counts those put in
	stalled   bool        // the held outbound message hit EAGAIN
	dropping  bool        // a drop episode is under way
	decoding  bool        // a decode-error episode is under way
	idleSpin  int         // EVENTS said ready but a turn moved nothing
}

// wantRecv reports whether the owner should take a message off the socket.
func (st *ownerState[T]) wantRecv() bool {
	s := st.s
	if !s.typ.canRecv() {
		return false
	}
	switch s.typ {
	case Req:
		if !st.turn {
			return false
		}
	case Rep:
		if st.turn {
			return false
		}
	}
	return !st.hasIn || s.o.dropSlow
}

// takeSends reports whether the owner may take a new message from Send.
func (st *ownerState[T]) takeSends() bool {
	if st.hasOut || !st.s.typ.canSend() {
		return false
	}
	switch st.s.typ {
	case Req:
		return !st.turn
	case Rep:
		return st.turn
	}
	return true
}

// loop runs until the socket must end and returns why.
func (st *ownerState[T]) loop(ctx context.Context) error {
	s := st.s
	done := ctx.Done()
	for {
		moved, exhausted, err := st.turnWork()
		if err != nil {
			return err
		}
		if moved > 0 {
			st.idleSpin = 0
			if !exhausted {
				// Let the goroutines this turn readied (a consumer of In, a
				// blocked Send) run before the owner spends system calls on
				// parking: a reply they send is then taken on the next turn
				// instead of costing a kick and a wake.
				runtime.Gosched()
				if !st.pending(ctx) {
					continue
				}
				// A command, Close or cancellation is waiting: look at the
				// channels once, without waiting for an edge, so a steady
				// trickle of messages cannot keep the owner from them.
				exhausted = true
			}
		}
		var readyCh <-chan struct{}
		if exhausted {
			readyCh = closedCh
		} else {
			// Read ZMQ_EVENTS after the last send or receive and before
			// waiting: a send or receive may have consumed the edge while
			// input or output is ready, and no new edge would come.
			ev, err := st.d.events(st.sock)
			if err != nil {
				return st.fatal("events", err)
			}
			if ev&zmq.POLLIN != 0 {
				st.inReady = true
			}
			if (st.hasOut && ev&zmq.POLLOUT != 0) || (st.wantRecv() && ev&zmq.POLLIN != 0) {
				// Ready now: go round again. Consecutive turns that move
				// nothing although EVENTS says ready should not happen
				// (libzmq's EVENTS and its non-blocking calls agree); if
				// they repeat, report it once and wait for an edge rather
				// than spin.
				if st.idleSpin++; st.idleSpin <= 3 {
					continue
				}
				if st.idleSpin == 4 {
					s.log.Warn("zchan: ZMQ_EVENTS reports ready but nothing moves", zap.Int("events", int(ev)))
				}
			}
			// Nothing to deliver and no caller waiting on a channel: wait on
			// ZMQ_FD right here, without the hop through the waiter.
			// If something else needs it, select below.
			if !st.hasIn && !st.armed && s.blocked.Load() == 0 {
				if st.pendingFn == nil {
					st.pendingFn = func() bool { return st.pending(ctx) }
				}
				busy, err := st.w.park(st.pendingFn)
				if err != nil {
					return fmt.Errorf("zchan: wait on ZMQ_FD: %w", err)
				}
				if !busy {
					st.inReady = true // woken: input may have come
					continue
				}
			}
			if !st.armed {
				st.w.arm <- struct{}{}
				st.armed = true
			}
			readyCh = st.w.ready
		}

		var inCh chan<- T
		if st.hasIn {
			inCh = s.in
		}
		var sendq <-chan [][]byte
		if st.takeSends() {
			sendq = s.sendq
		}
		select {
		case inCh <- st.in:
			st.delivered()
		case m := <-sendq:
			st.tookSend(m)
		case <-readyCh:
			st.inReady = true
			if !exhausted {
				st.armed = false
				if st.w.err != nil {
					return fmt.Errorf("zchan: wait on ZMQ_FD: %w", st.w.err)
				}
			}
		case c := <-s.cmds:
			s.blocked.Add(-1)
			c.reply <- c.fn(st.sock)
		case <-done:
			return context.Cause(ctx)
		case <-s.closeReq:
			return ErrClosed
		}
	}
}

// tookSend holds m, taken from sendq, for sending.
func (st *ownerState[T]) tookSend(m [][]byte) {
	st.out, st.hasOut = m, true
	st.taken++
	if cap(st.s.sendq) == 0 {
		st.s.blocked.Add(-1) // the caller was counted as blocked; see Send
	}
}

// pending reports whether something other than ZMQ_FD needs the owner:
// a caller blocked on a channel, a queued message it can take, Close, or
// cancellation. Every one of these wakers kicks a parked owner.
func (st *ownerState[T]) pending(ctx context.Context) bool {
	s := st.s
	if s.blocked.Load() > 0 || (st.takeSends() && s.queued.Load() != st.taken) || ctx.Err() != nil {
		return true
	}
	select {
	case <-s.closeReq:
		return true
	default:
		return false
	}
}

// turnWork moves messages until nothing more can move or the budget is
// used up; it reports whether the budget ran out.
func (st *ownerState[T]) turnWork() (n int, exhausted bool, err error) {
	s := st.s
	// A receive that finds nothing costs a system call in libzmq; after
	// one, the owner receives again only once ZMQ_EVENTS shows input (read
	// here once per turn, before every wait, and implied by a wake), so a
	// socket that mostly sends (a one-way PAIR, a DEALER) does not pay a
	// futile receive for every message it sends.
	if !st.inReady && st.wantRecv() {
		ev, err := st.d.events(st.sock)
		if err != nil {
			return 0, false, st.fatal("events", err)
		}
		st.inReady = ev&zmq.POLLIN != 0
	}
	for n < s.o.budget {
		moved := false
		if st.hasOut {
			ok, err := st.trySend()
			if err != nil {
				return n, false, err
			}
			if ok {
				moved = true
				n++
			}
		}
		if st.inReady && st.wantRecv() {
			ok, err := st.tryRecv()
			if err != nil {
				return n, false, err
			}
			if ok {
				moved = true
				n++
			} else {
				st.inReady = false
			}
		}
		if st.hasIn {
			select {
			case s.in <- st.in:
				st.delivered()
			default:
			}
		}
		if st.takeSends() {
			select {
			case m := <-s.sendq:
				st.tookSend(m)
				moved = true
			default:
			}
		}
		if !moved {
			return n, false, nil
		}
	}
	return n, true, nil
}

func (st *ownerState[T]) delivered() {
	var zero T
	st.in, st.hasIn = zero, false
}

// trySend offers the held message to libzmq without blocking.
func (st *ownerState[T]) trySend() (bool, error) {
	frames := st.out
	last := len(frames) - 1
	for i, f := range frames {
		flag := zmq.DONTWAIT
		if i < last {
			flag |= zmq.SNDMORE
		}
		if _, err := st.sock.SendBytes(f, flag); err != nil {
			if i == 0 && isEAGAIN(err) {
				if !st.stalled {
					st.stalled = true
					st.s.stats.sendStalls.Add(1)
				}
				return false, nil
			}
			// libzmq queues the rest of a message once its first frame is
			// accepted, so a failure past frame 0 is not back pressure.
			return false, st.fatal("send", err)
		}
	}
	st.stalled = false
	st.s.stats.msgsOut.Add(1)
	st.s.stats.bytesOut.Add(size(frames))
	st.out, st.hasOut = nil, false
	switch st.s.typ {
	case Req:
		st.turn = true
	case Rep:
		st.turn = false
	}
	return true, nil
}

// tryRecv takes one message off the socket without blocking, decodes it
// and, if the consumer has room, delivers it.
func (st *ownerState[T]) tryRecv() (bool, error) {
	s := st.s
	frames, over, err := st.recvFrames()
	if err != nil {
		if isEAGAIN(err) {
			return false, nil
		}
		return false, st.fatal("receive", err)
	}
	switch s.typ {
	case Req:
		st.turn = false
	case Rep:
		st.turn = true
	}
	if over {
		s.stats.tooManyFrames.Add(1)
		s.log.Warn("zchan: inbound message over the frame cap discarded",
			zap.Int("frames", len(frames)), zap.Int("cap", s.o.maxFrames))
		st.replyDiscarded()
		return true, nil
	}
	v, err := s.codec.Decode(frames)
	if err != nil {
		n := s.stats.decodeErrors.Add(1)
		if !st.decoding {
			st.decoding = true
			s.log.Warn("zchan: undecodable message", zap.Error(err), zap.Uint64("decode_errors", n))
		}
		st.replyDiscarded()
		return true, nil
	}
	if st.decoding {
		st.decoding = false
		s.log.Info("zchan: decoding again", zap.Uint64("decode_errors", s.stats.decodeErrors.Load()))
	}
	if st.hasIn { // only with dropSlow: make room for the newest message
		select {
		case s.in <- st.in:
			st.delivered()
		default:
			n := s.stats.dropped.Add(1)
			if !st.dropping {
				st.dropping = true
				s.log.Warn("zchan: slow consumer, dropping messages", zap.Uint64("dropped", n))
			}
			return true, nil
		}
	}
	if st.dropping {
		st.dropping = false
		s.log.Info("zchan: consumer caught up", zap.Uint64("dropped", s.stats.dropped.Load()))
	}
	s.stats.msgsIn.Add(1)
	s.stats.bytesIn.Add(size(frames))
	st.in, st.hasIn = v, true
	select {
	case s.in <- v:
		st.delivered()
	default:
	}
	return true, nil
}

// replyDiscarded keeps REP usable after a request the consumer never
// sees: the request has no reply coming, so the owner answers nothing and
// lets the next request in. libzmq's REP would otherwise refuse to receive
// (EFSM) until a reply is sent; an empty reply tells the REQ peer its
// request was refused instead of leaving it waiting forever.
func (st *ownerState[T]) replyDiscarded() {
	if st.s.typ != Rep {
		return
	}
	if _, err := st.sock.SendBytes(nil, zmq.DONTWAIT); err == nil {
		st.turn = false
	}
}

// recvFrames reads the frames of one message. over reports a message that
// exceeded the frame cap; its frames past the cap were read and dropped.
func (st *ownerState[T]) recvFrames() (frames [][]byte, over bool, err error) {
	max := st.s.o.maxFrames
	for {
		f, more, err := st.d.recvFrame(st.sock)
		if err != nil {
			if len(frames) > 0 || over {
				// The rest of a message is always there once its first
				// frame is; anything else is a fault.
				return nil, false, fmt.Errorf("zchan: partial message: %w", err)
			}
			return nil, false, err
		}
		if max == 0 || len(frames) < max {
			frames = append(frames, f)
		} else {
			over = true
		}
		if !more {
			return frames, over, nil
		}
	}
}

// fatal turns a libzmq error into the socket's end reason.
func (st *ownerState[T]) fatal(op string, err error) error {
	if isETERM(err) {
		return fmt.Errorf("zchan: %s: %w", st.s.name, ErrTerminated)
	}
	return fmt.Errorf("zchan: %s %s: %w", op, st.s.name, err)
}

// finish runs after the loop: it flushes the held outbound message within
// the linger (unless the context is terminated), and counts what cannot be
// delivered.
func (st *ownerState[T]) finish(reason error) {
	s := st.s
	var undelivered uint64
	terminated := errors.Is(reason, ErrTerminated)
	var deadline <-chan time.Time
	if !terminated {
		t := time.NewTimer(s.o.linger)
		defer t.Stop()
		deadline = t.C
	}
	if st.hasOut && !terminated && !st.flush(deadline) {
		terminated = true // linger passed or libzmq failed: count the rest
	}
	if st.hasOut {
		undelivered++
		st.out, st.hasOut = nil, false
	}
	// Messages queued by Send: send them within the same linger, or count
	// them. A Send that is still under way either sees stopping and
	// refuses its message, or queues it before senders drops to zero.
	for {
		select {
		case m := <-s.sendq:
			st.out, st.hasOut = m, true
			if terminated || !st.flush(deadline) {
				terminated = true
				undelivered++
				st.out, st.hasOut = nil, false
			}
			continue
		default:
		}
		if s.senders.Load() == 0 && len(s.sendq) == 0 {
			break
		}
		runtime.Gosched() // a Send between its two checks; it returns at once
	}
	if st.hasIn {
		undelivered++
	}
	if !errors.Is(reason, ErrTerminated) && s.typ.canRecv() {
		// What libzmq already queued for us is lost when the socket closes:
		// count it rather than lose it silently. (Also when the flush above
		// gave up: that concerns the outbound side only.)
		for i := 0; i < maxCloseDrain; i++ {
			if _, _, err := st.recvFrames(); err != nil {
				break
			}
			undelivered++
		}
	}
	if undelivered > 0 {
		s.stats.undelivered.Add(undelivered)
		s.log.Warn("zchan: socket ended with undelivered messages",
			zap.Uint64("undelivered", undelivered), zap.Error(reason))
	}
	s.log.Debug("zchan: socket closed", zap.Error(reason))
}

// flush tries to send the held message until libzmq takes it, the
// deadline passes, or libzmq fails; it reports whether the message went.
func (st *ownerState[T]) flush(deadline <-chan time.Time) bool {
	for {
		ok, err := st.trySend()
		if ok {
			return true
		}
		if err != nil {
			return false
		}
		ev, err := st.d.events(st.sock)
		if err != nil {
			return false
		}
		if ev&zmq.POLLOUT != 0 {
			continue
		}
		if !st.armed {
			st.w.arm <- struct{}{}
			st.armed = true
		}
		select {
		case <-st.w.ready:
			st.armed = false
			if st.w.err != nil {
				return false
			}
		case <-deadline:
			return false
		}
	}
}
