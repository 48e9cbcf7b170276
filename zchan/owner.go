package zchan

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	zmq "github.com/pebbe/zmq4"
	"go.uber.org/zap"
)

// maxCloseDrain bounds how many messages the owner reads (and counts as
// undelivered) out of libzmq's receive queue when the socket ends.
const maxCloseDrain = 1 << 20

// own is the owner goroutine: the only code that touches the zmq socket.
func (s *Socket[T]) own(zc *Context, ready chan<- error) {
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
	zc.track(id, s)
	s.log = s.o.logger.With(zap.String("socket", name))
	w, err := s.setup(sock)
	if err != nil {
		sock.Close()
		zc.forget(id)
		fail(err)
		return
	}
	st := &ownerState[T]{s: s, sock: sock, w: w, d: newDirect(sock, s.o.pebbeOnly, s.log)}
	s.stats.direct.Store(st.d.h != nil)
	ready <- nil

	reason := st.loop()
	if st.retry != nil {
		st.retry.Stop()
	}
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
	if err := sock.Close(); err != nil && !isETERM(err) {
		s.closeErr = newErr(ErrFatal, err, "close %s", name)
	}
	s.forgetBinds()
	zc.forget(id)
	close(s.in)
}

// setup applies options, binds and connects, in that order; linger first,
// because libzmq refuses it once termination has begun.
func (s *Socket[T]) setup(sock *zmq.Socket) (*fdWaiter, error) {
	if err := sock.SetLinger(s.o.linger); err != nil {
		return nil, optionError("LINGER", err)
	}
	if s.typ == Router {
		// Without ROUTER_MANDATORY libzmq drops a message for a full or
		// unknown peer and reports success: nothing could count it. With
		// it, a full peer is EAGAIN (back pressure, or a counted drop with
		// WithDropAtHWM) and an unknown one EHOSTUNREACH (Unroutable). A
		// WithSetup function that turns it off again gets libzmq's silent
		// drops, which no counter sees.
		if err := sock.SetRouterMandatory(1); err != nil {
			return nil, optionError("ROUTER_MANDATORY", err)
		}
	}
	for _, so := range s.o.sockopts {
		if err := runUser(so.name, sock, so.set); err != nil {
			if errors.Is(err, ErrPanic) || errors.Is(err, ErrClosed) {
				return nil, err
			}
			return nil, optionError(so.name, err)
		}
	}
	for _, p := range s.o.subscribe {
		if err := sock.SetSubscribe(p); err != nil {
			return nil, optionError("SUBSCRIBE", err)
		}
	}
	for _, ep := range s.o.binds {
		if _, err := s.bind(sock, ep); err != nil {
			s.forgetBinds()
			return nil, err
		}
	}
	for _, ep := range s.o.connects {
		if err := s.connect(sock, ep); err != nil {
			s.forgetBinds()
			return nil, err
		}
	}
	return newFDWaiter(sock)
}

// runUser runs a user function on the socket (a WithSetup function, an
// option's setter, a Do function): a panic becomes an error wrapping
// ErrPanic, a libzmq errno is wrapped so errors.Is matches it, and a
// socket the function closed is an error wrapping ErrClosed.
func runUser(where string, sock *zmq.Socket, fn func(*zmq.Socket) error) (err error) {
	defer func() {
		if err == nil && isClosed(sock) {
			err = newErr(ErrClosed, nil, "%s closed the socket", where)
		}
	}()
	defer recoverInto(&err, where)
	return errnoErr(fn(sock))
}

func optionError(name string, err error) error {
	if isETERM(err) {
		return newErr(ErrTerminated, nil, "set %s", name)
	}
	if name == "setup" {
		return newErr(ErrInvalidOption, err, "WithSetup function")
	}
	return newErr(ErrInvalidOption, err, "set %s", name)
}

// ownerState is the owner's private state; only the owner goroutine
// touches it.
type ownerState[T any] struct {
	s    *Socket[T]
	sock *zmq.Socket
	w    *fdWaiter
	d    direct // libzmq's handle for the hot path, or pebbe's

	in     T      // decoded message held for the consumer
	inSize uint64 // its bytes
	hasIn  bool
	out    [][]byte // message held for libzmq
	hasOut bool
	armed  bool // the waiter has an arm token and has not answered
	// REQ: a request was sent and its reply has not arrived.
	// REP: a request arrived and its reply has not been sent.
	turn bool
	// pollout is ZMQ_EVENTS' POLLOUT as last read, false again after each
	// send. A REQ awaiting its reply shows it only when libzmq lets it send
	// anyway (REQ_RELAXED): the owner then takes the next request, so the
	// alternation is libzmq's, whichever way the option was set.
	pollout     bool
	draining    bool // Shutdown was called: end once nothing is in hand
	inReady     bool // input may be waiting: false after a receive found none, until ZMQ_EVENTS says otherwise or the waiter wakes
	stalled     bool // the held outbound message hit EAGAIN
	sentPanic   bool // the WithSent function panicked: it is not called again
	dropping    bool // an inbound drop episode is under way (WithDropWhenSlow)
	outDropping bool // an outbound drop episode is under way (WithDropAtHWM)
	decoding    bool // a decode-error episode is under way
	idleSpin    int  // turns in a row since one moved a message, while ZMQ_EVENTS said ready

	from     <-chan T // the SendFrom channel, nil when there is none
	refusing bool     // a refused-value episode is under way (SendFrom)

	sinceSelect int           // messages moved since the owner last looked at its channels
	retry       *time.Timer   // see retryTimer
	retryIn     time.Duration // its last period; 0 after progress
	unroutable  bool          // an unroutable-message episode is under way
}

// alwaysReady is a closed channel: the wait after a turn that used its
// whole budget selects on it, so that it looks at the Go channels and goes
// straight on.
var alwaysReady = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// loop runs until the socket must end and returns why. It is the owner's
// only wait. Why no wake-up is lost:
//
//   - Everything on the Go side that the owner must react to (a consumer
//     ready for In, a message from Send, a value or the close of the
//     SendFrom channel, a SendFrom call, a Do, Close, Shutdown, the
//     lifetime context) is a case of the one select below, enabled
//     whenever the owner can act on it (Send's queue and the SendFrom
//     channel together: when the owner may take a message to send).
//   - On the libzmq side, ZMQ_FD is edge-triggered and a send or receive
//     may consume the edge of input that is still there. So after every
//     turn (its last send or receive) and before every wait, the owner
//     reads ZMQ_EVENTS, and goes round again if it shows something it can
//     act on. Otherwise it waits on the waiter, which it armed then or
//     which is still armed from before: libzmq writes the signal fd for
//     every change after that read (reading ZMQ_EVENTS leaves its mailbox
//     asleep), and the waiter sees the write as the fd's level if it arms
//     after it, or as an edge if it was already waiting.
//   - A REQ awaiting its reply takes a new request only while the last
//     read of ZMQ_EVENTS showed POLLOUT (libzmq's REQ_RELAXED; a strict
//     REQ never shows it then): the change to POLLOUT after that read
//     writes the signal fd like any other, so the sendq case is enabled
//     by the wake-up and the read that follows.
//   - While ZMQ_EVENTS shows work, the owner goes round again without the
//     select, but only until it has moved WithBudget messages; then the
//     select takes alwaysReady instead of the waiter, so a flood cannot
//     keep the owner from its channels, and work goes on without an edge.
//   - One case breaks the edge rule: ZMQ_EVENTS' POLLOUT is for the
//     socket, not for the peer the held message goes to (ROUTER with
//     ROUTER_MANDATORY and several peers, STREAM, XPUB_NODROP), so a send
//     can fail while POLLOUT is set, and the turn's own calls may consume
//     the signal that the peer has room again. After two such turns the
//     owner also waits on a timer (retryTimer: 1 ms, doubling to 50 ms,
//     reset when a message moves): the only timer in the owner, armed
//     only while a message is stuck behind a POLLOUT that does not apply.
//
// Back pressure is the held message each way: the owner takes a message
// off libzmq only when it holds none for the consumer (wantRecv), and
// takes one from Send only when it holds none for libzmq (takeSends).
func (st *ownerState[T]) loop() error {
	s := st.s
	var lifetime <-chan struct{}
	if s.o.lifetime != nil {
		lifetime = s.o.lifetime.Done()
	}
	drainReq := s.drainReq
	for {
		moved, err := st.turnWork(s.o.budget - st.sinceSelect)
		if err != nil {
			return err
		}
		st.sinceSelect += moved
		if moved > 0 {
			st.idleSpin, st.retryIn = 0, 0
		}
		// Go round again while ZMQ_EVENTS (read after the last send or
		// receive) shows work and the budget lasts; once it is spent, look
		// at the channels without waiting (alwaysReady); with no work,
		// wait for the descriptor too.
		readyCh := alwaysReady
		var retry <-chan time.Time
		if st.sinceSelect < s.o.budget {
			ev, err := st.d.events(st.sock)
			if err != nil {
				return st.fatal("events", err)
			}
			st.inReady = ev&zmq.POLLIN != 0
			st.pollout = ev&zmq.POLLOUT != 0
			input := st.wantRecv() && st.inReady
			if input || (st.hasOut && ev&zmq.POLLOUT != 0) {
				if st.idleSpin < st.spinLimit(input) {
					st.idleSpin++
					continue
				}
				retry = st.retryTimer()
			} else if st.draining && st.drained() {
				return ErrClosed
			}
			if !st.armed {
				st.w.arm <- struct{}{}
				st.armed = true
			}
			readyCh = st.w.ready
		}
		st.sinceSelect = 0

		var inCh chan<- T
		if st.hasIn {
			inCh = s.in
		}
		var sendq <-chan [][]byte
		var from <-chan T
		if st.takeSends() {
			sendq, from = s.sendq, st.from
		}
		select {
		case inCh <- st.in:
			st.delivered()
		case m := <-sendq:
			st.out, st.hasOut = m, true
		case v, ok := <-from:
			if err := st.takeFrom(v, ok); err != nil {
				return err
			}
		case r := <-s.fromReq:
			st.register(r)
		case <-readyCh:
			if readyCh == st.w.ready {
				// Woken by libzmq: input may have come, or room for the held
				// message, which is worth two more tries (see spinLimit).
				st.armed, st.inReady, st.idleSpin = false, true, 0
				if st.w.err != nil {
					return st.w.err
				}
			}
		case c := <-s.cmds:
			err := runUser(c.name, st.sock, c.fn)
			c.reply <- err
			if errors.Is(err, ErrPanic) || errors.Is(err, ErrClosed) {
				return err
			}
		case <-retry:
		case <-drainReq:
			st.draining, drainReq = true, nil
		case <-lifetime:
			return newErr(ErrClosed, context.Cause(s.o.lifetime), "%s: lifetime ended", s.name)
		case <-s.closeReq:
			return ErrClosed
		}
	}
}

// spinLimit is how many turns in a row may move nothing while ZMQ_EVENTS
// says ready before the owner waits (with retryTimer). POLLIN is exact in
// libzmq (a receive then succeeds), so for input the limit only keeps a
// libzmq fault from becoming a hot loop; POLLOUT is not (see loop).
func (st *ownerState[T]) spinLimit(input bool) int {
	if input {
		return 64
	}
	return 2
}

// retryTimer returns a timer's channel for the next retry of a send that
// ZMQ_EVENTS says can go but libzmq refuses (see loop).
func (st *ownerState[T]) retryTimer() <-chan time.Time {
	st.retryIn = min(max(2*st.retryIn, time.Millisecond), 50*time.Millisecond)
	if st.retry == nil {
		st.retry = time.NewTimer(st.retryIn)
	} else {
		st.retry.Reset(st.retryIn)
	}
	return st.retry.C
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
		return !st.turn || st.pollout
	case Rep:
		return st.turn
	}
	return true
}

// drained reports, during Shutdown, that nothing is left in hand: nothing
// held either way, nothing queued by Send, no SendFrom channel still open
// (the caller closes it to end the drain; but a REP owing no reply has
// nothing it could take from it, and would never see the close), no reply
// owed or awaited, and (the caller has just read ZMQ_EVENTS) nothing in
// libzmq's receive queue.
func (st *ownerState[T]) drained() bool {
	if st.hasIn || st.hasOut || len(st.s.sendq) > 0 || (st.from != nil && st.s.typ != Rep) {
		return false
	}
	if (st.s.typ == Req || st.s.typ == Rep) && st.turn {
		return false
	}
	return !st.s.typ.canRecv() || !st.inReady
}

// turnWork moves messages until nothing more can move or it has moved
// budget of them; it reports how many it moved.
func (st *ownerState[T]) turnWork(budget int) (n int, err error) {
	s := st.s
	for n < budget {
		moved := false
		if st.hasOut {
			ok, err := st.trySend()
			if err != nil {
				return n, err
			}
			if ok {
				moved = true
				n++
			}
		}
		// A receive that finds nothing costs a system call in libzmq, so
		// after one the owner receives again only once ZMQ_EVENTS shows
		// input or the waiter wakes: a socket that mostly sends does not
		// pay a futile receive per message sent.
		if st.inReady && st.wantRecv() {
			ok, err := st.tryRecv()
			if err != nil {
				return n, err
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
			// Single-case selects: the runtime does those without locking
			// the channel; a two-case one with default locks both (4% of
			// the CPU of throughput/ipc/64B in a pprof). Send's queue goes
			// first here; the loop's select gives the SendFrom channel its
			// even chance.
			select {
			case m := <-s.sendq:
				st.out, st.hasOut = m, true
				moved = true
			default:
				if st.from == nil {
					break
				}
				select {
				case v, ok := <-st.from:
					if err := st.takeFrom(v, ok); err != nil {
						return n, err
					}
					if ok { // a refused value counts too, so a flood of them keeps to the budget
						moved = true
						n++
					}
				default:
				}
			}
		}
		if !moved {
			return n, nil
		}
	}
	return n, nil
}

// delivered records that the held inbound message was handed to In.
func (st *ownerState[T]) delivered() {
	var zero T
	st.s.stats.msgsIn.Add(1)
	st.s.stats.bytesIn.Add(st.inSize)
	st.in, st.inSize, st.hasIn = zero, 0, false
}

// trySend offers the held message to libzmq without blocking.
//
// Send errors are classified here, and only here (the empty reply in
// discarded and the flush in finish go through trySend or fatal too):
//
//   - EAGAIN, and EFSM from REQ/REP out of turn, on the first frame: the
//     message waits (back pressure; Stats.SendStalls counts the episode).
//     With WithDropAtHWM on ROUTER/STREAM it is dropped instead and
//     counted in Stats.Dropped, logged once per episode.
//   - EHOSTUNREACH on the first frame (ROUTER, whose ROUTER_MANDATORY is on
//     by default, or STREAM, addressing a peer that never was or has gone):
//     the message is discarded, counted in Stats.Unroutable, logged once
//     per episode; the socket goes on.
//   - ETERM: fatal, ErrTerminated: the zmq Context is being terminated and
//     the socket must close for Context.Term to return.
//   - Any error past the first frame: fatal, ErrFatal: libzmq took part of
//     the message and queues the rest of it whatever happens, so a failure
//     there is not back pressure, and what follows would be glued to the
//     half message.
//   - The empty reply of WithEmptyReplyOnCodecError (discarded): a REP
//     never reports back pressure or a departed peer (libzmq drops such a
//     reply without a word, and counts it nowhere), so an error there is
//     ETERM or a fault: fatal, as above and below.
//   - Any other errno on the first frame (ENOTSOCK: the socket was closed
//     under the owner; ENOTSUP, EINVAL: libzmq documents no other for a
//     non-blocking send on the classic types; EINTR is retried below us):
//     fatal, ErrFatal wrapping the errno, since nothing says the socket is
//     still usable.
func (st *ownerState[T]) trySend() (bool, error) {
	frames := st.out
	if i, err := st.d.send(st.sock, frames); err != nil {
		if i == 0 && isEAGAIN(err) {
			if st.s.o.dropFull {
				// ROUTER/STREAM with WithDropAtHWM: the peer's pipe is full.
				n := st.s.stats.dropped.Add(1)
				if !st.outDropping {
					st.outDropping = true
					st.s.log.Warn("zchan: peer at its HWM, dropping messages for it", zap.Uint64("dropped", n))
				}
				st.out, st.hasOut, st.stalled = nil, false, false
				return true, nil
			}
			if !st.stalled {
				st.stalled = true
				st.s.stats.sendStalls.Add(1)
			}
			return false, nil
		}
		if i == 0 && errnoOf(err) == zmq.Errno(syscall.EHOSTUNREACH) {
			n := st.s.stats.unroutable.Add(1)
			if !st.unroutable {
				st.unroutable = true
				st.s.log.Warn("zchan: message for an unknown or departed peer discarded", zap.Uint64("unroutable", n))
			}
			st.out, st.hasOut, st.stalled = nil, false, false
			return true, nil
		}
		return false, st.fatal("send", err)
	}
	if st.outDropping {
		st.outDropping = false
		st.s.log.Info("zchan: peers taking messages again", zap.Uint64("dropped", st.s.stats.dropped.Load()))
	}
	st.stalled, st.unroutable, st.pollout = false, false, false
	st.s.stats.msgsOut.Add(1)
	st.s.stats.bytesOut.Add(size(frames))
	st.out, st.hasOut = nil, false
	switch st.s.typ {
	case Req:
		st.turn = true
	case Rep:
		st.turn = false
	}
	if st.s.o.sent != nil {
		return true, st.callSent(frames)
	}
	return true, nil
}

// callSent hands the frames of a message libzmq has taken to the WithSent
// function. A panic in it is logged here (flush, at the end, has no one
// to return it to) and returned: it ends the socket, and the function is
// not called again (the close's flush sends the rest without it).
func (st *ownerState[T]) callSent(frames [][]byte) (err error) {
	if st.sentPanic {
		return nil
	}
	defer func() {
		if err != nil {
			st.sentPanic = true
			st.s.log.Error("zchan: WithSent function panicked", zap.Error(err))
		}
	}()
	defer recoverInto(&err, "WithSent")
	st.s.o.sent(frames)
	return nil
}

// tryRecv takes one message off the socket without blocking, decodes it
// and, if the consumer has room, delivers it. Every message it takes is
// counted once: delivered (now or later), or as a decode error, an
// oversized message, a drop, or (at the end) undelivered.
func (st *ownerState[T]) tryRecv() (bool, error) {
	s := st.s
	frames, over, err := st.recvFrames()
	if err != nil {
		if len(frames) > 0 {
			// Part of a message was read when libzmq failed (ETERM between
			// two frames): it was received and can never be delivered.
			s.stats.received.Add(1)
			s.stats.undelivered.Add(1)
		} else if isEAGAIN(err) {
			return false, nil
		}
		return false, st.fatal("receive", err)
	}
	s.stats.received.Add(1)
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
		return true, st.discarded(ErrTooManyFrames)
	}
	v, err := st.decode(frames)
	if err != nil {
		n := s.stats.decodeErrors.Add(1)
		if errors.Is(err, ErrPanic) {
			return true, err
		}
		if !st.decoding {
			st.decoding = true
			s.log.Warn("zchan: undecodable message", zap.Error(err), zap.Uint64("decode_errors", n))
		}
		return true, st.discarded(err)
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
	st.in, st.inSize, st.hasIn = v, size(frames), true
	select {
	case s.in <- v:
		st.delivered()
	default:
	}
	return true, nil
}

// decode runs the codec on the owner; a panic becomes an error wrapping
// ErrPanic, which ends the socket.
func (st *ownerState[T]) decode(frames [][]byte) (v T, err error) {
	defer recoverInto(&err, "Decode")
	return st.s.codec.Decode(frames)
}

// discarded handles a request the consumer will never see. A REP must
// reply before it can receive again: with WithEmptyReplyOnCodecError the
// owner answers it with an empty message and lets the next request in;
// without, the socket ends with why, since any reply made up here could be
// taken by the peer for a real one.
func (st *ownerState[T]) discarded(why error) error {
	if st.s.typ != Rep {
		return nil
	}
	if !st.s.o.emptyReply {
		return newErr(ErrCodec, why, "%s: request discarded, and REP must reply (WithEmptyReplyOnCodecError)", st.s.name)
	}
	if _, err := st.sock.SendBytes(nil, zmq.DONTWAIT); err != nil {
		return st.fatal("empty reply", err)
	}
	st.turn = false
	return nil
}

// recvFrames reads the frames of one message. over reports a message that
// exceeded the frame cap; its frames past the cap were read and dropped.
// An error after the first frame (ETERM when the context is terminated
// between two frames) is returned as it is, for fatal to classify, with
// the frames read so far.
func (st *ownerState[T]) recvFrames() (frames [][]byte, over bool, err error) {
	max := st.s.o.maxFrames
	batch := 1 << 30 // as many frames per call as the direct path takes
	hook := testHookBetweenFrames.Load()
	if hook != nil {
		batch = 1 // one frame per call, so that the hook runs between frames
	}
	for {
		if (len(frames) > 0 || over) && hook != nil {
			(*hook)(st.sock)
		}
		read := len(frames) > 0 || over
		var more bool
		frames, more, err = st.d.recv(st.sock, frames, batch)
		if max > 0 && len(frames) > max {
			// Past the cap: the frames were read (libzmq must be rid of
			// them) and are dropped.
			clear(frames[max:])
			frames, over = frames[:max], true
		}
		if err != nil {
			if (read || len(frames) > 0) && isEAGAIN(err) {
				// The rest of a message is always there once its first
				// frame is: EAGAIN here is a fault, not back pressure.
				return frames, false, newErr(ErrFatal, err, "%s: partial message", st.s.name)
			}
			return frames, false, err
		}
		if !more {
			return frames, over, nil
		}
	}
}

// testHookBetweenFrames, set by tests only, runs between two frames of a
// multipart receive (which then reads one frame per call into libzmq).
// It is atomic because the owner looks for it before every message.
var testHookBetweenFrames atomic.Pointer[func(sock *zmq.Socket)]

// fatal turns a libzmq error into the socket's end reason.
func (st *ownerState[T]) fatal(op string, err error) error {
	if errors.Is(err, ErrFatal) || errors.Is(err, ErrTerminated) {
		return err
	}
	return libzmqError(err, "%s %s", op, st.s.name)
}

// finish runs after the loop: it flushes the held outbound message and
// those Send queued within the linger (unless the context is terminated),
// and counts what cannot be delivered.
func (st *ownerState[T]) finish(reason error) {
	s := st.s
	var undelivered uint64
	terminated := errors.Is(reason, ErrTerminated) || errors.Is(reason, ErrFatal) ||
		errors.Is(reason, ErrPanic) || isClosed(st.sock)
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
		var zero T
		st.in, st.hasIn = zero, false
	}
	if !errors.Is(reason, ErrTerminated) && s.typ.canRecv() && !isClosed(st.sock) {
		// What libzmq already queued for us is lost when the socket closes:
		// count it rather than lose it silently. (Also when the flush above
		// gave up: that concerns the outbound side only.)
		for i := 0; i < maxCloseDrain; i++ {
			if frames, _, err := st.recvFrames(); err != nil {
				if len(frames) > 0 {
					s.stats.received.Add(1)
					undelivered++
				}
				break
			}
			s.stats.received.Add(1)
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
// It waits on the waiter like the loop, under the same edge rule.
func (st *ownerState[T]) flush(deadline <-chan time.Time) bool {
	for spins := 0; ; {
		ok, err := st.trySend()
		if ok || err != nil {
			return ok // a panic in the WithSent function was logged
		}
		ev, err := st.d.events(st.sock)
		if err != nil {
			return false
		}
		var retry <-chan time.Time
		if ev&zmq.POLLOUT != 0 { // see loop: POLLOUT may not apply to this message
			if spins < st.spinLimit(false) {
				spins++
				continue
			}
			retry = st.retryTimer()
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
		case <-retry:
		case <-deadline:
			return false
		}
	}
}
