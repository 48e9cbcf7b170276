package reqrep

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/zmqchan/zmqchan/zchan"
)

// Client sends typed requests and waits for their replies, over a DEALER
// socket (the default: concurrent requests multiplexed by a request id
// frame) or a REQ socket (WithType(zchan.Req): one request at a time,
// the socket reopened after an abandoned request). See the package doc for
// the contract.
//
// A Client is safe for concurrent use by multiple goroutines. Its zero
// value is not usable: create one with NewClient. It cannot be reused
// after Close or Shutdown. It has no goroutine besides its socket's two.
//
// Cost (BenchmarkClientOverhead in this package: 64 B, one caller, five
// round trips interleaved in one run, each on its own socket, medians; a
// shared 2-core machine at load 8, 2026-12-02 17:14): a DEALER client's
// round trip through a bare zchan ROUTER echo was 1.036 to 1.039 times
// that of a bare zchan DEALER doing what a correct caller of one must
// (send the REQ envelope ["", body], wait in a select on In and
// ctx.Done()) over inproc, 1.022 to 1.032 over ipc and 1.024 to 1.028 over
// tcp; 1.061 to 1.068, 1.041 to 1.047 and 1.029 to 1.039 times a bare
// DEALER sending [body] alone. The id frame is most of what is left: the
// client is 1.004 to 1.018 times the bare DEALER sending its wire format
// [id, "", body] by hand. A reqrep Server in place of the echo adds 2 to
// 10% (9 to 10% over inproc). A request costs the client one allocation (its id and frame
// headers): 5 per round trip in all, both ends' sockets included, as for
// the bare sockets (BenchmarkRoundTrip). A REQ client's round trip was the
// bare REQ's (within 5% over inproc, measured before these numbers).
type Client[Req, Rep any] struct {
	o    options
	reqc zchan.Codec[Req]
	repc zchan.Codec[Rep]
	name string

	closeOne sync.Once
	stop     chan struct{} // closed when Close begins
	done     chan struct{} // closed once the client has ended and its socket is closed

	mu       sync.Mutex
	closed   bool                     // no new requests: Close or Shutdown began
	inflight int                      // Request calls under way
	idle     chan struct{}            // closed when closed && inflight == 0
	slots    [waiterSlots]waiter      // DEALER: the callers waiting, the first waiterSlots at once
	pending  map[uint64]chan [][]byte // DEALER: the callers waiting beyond those, by request id
	req      *zchan.Socket[zchan.Msg] // REQ: the current socket, nil until the next request opens one

	// DEALER
	sock   *zchan.Socket[zchan.Msg]
	nextID atomic.Uint64

	// REQ
	turn chan struct{} // capacity 1: held by the request under way

	stats clientCounters
}

// ClientStats is a snapshot of a Client's counters. Once no Request is
// under way, Requests == Answered + TimedOut + Failed.
type ClientStats struct {
	// Requests counts Request calls.
	Requests uint64
	// Answered counts requests that returned a reply.
	Answered uint64
	// TimedOut counts requests that returned an error wrapping ErrTimeout.
	TimedOut uint64
	// Failed counts requests that returned any other error: ErrRemote,
	// ErrBadReply, a codec's, ErrClosed, or the socket's end.
	Failed uint64
	// Abandoned counts the requests, among Failed, that Close (or a
	// Shutdown whose context ended) cut short. It is what Undelivered
	// returns.
	Abandoned uint64
	// Sent counts the requests handed to the socket, resends included;
	// Retries counts the resends.
	Sent, Retries uint64
	// Reopens counts the REQ sockets closed because a request was
	// abandoned on them (a timeout, or a retry): each is replaced by a new
	// socket at the next send.
	Reopens uint64
	// StaleReplies counts replies that arrived for a request no caller
	// waits for any more (it timed out, or another attempt's reply came
	// first): they are discarded, never delivered to another request. A
	// DEALER client counts one when it reads it (a caller waiting for its
	// own reply reads every reply that arrives; Close reads the rest). On
	// a REQ client they are the replies found on a socket being closed
	// after a timeout; a reply that arrives after the close is discarded
	// by libzmq unseen.
	StaleReplies uint64
	// BadReplies counts messages on a DEALER client's socket that are not
	// a reply of this package's format ([8-byte id, "", body...]).
	BadReplies uint64
}

type clientCounters struct {
	requests, answered, timedOut, failed, abandoned atomic.Uint64
	sent, retries, reopens, stale, bad              atomic.Uint64
}

// NewClient opens a client socket (DEALER unless WithType says REQ),
// connected or bound as the options say, whose requests are encoded with
// reqc and replies decoded with repc. ctx bounds the opening only, as for
// zchan.Open: the client lives until Close or Shutdown. A REQ client opens
// its first socket here too, so that a bad endpoint is reported at once.
//
// Errors wrap ErrInvalidOption or what zchan.OpenWith returns; nothing is
// then left open.
func NewClient[Req, Rep any](ctx context.Context, reqc zchan.Codec[Req], repc zchan.Codec[Rep], opts ...Option) (*Client[Req, Rep], error) {
	o, err := build(false, opts)
	if err != nil {
		return nil, err
	}
	if reqc == nil || repc == nil {
		return nil, newErr(ErrInvalidOption, nil, "nil codec")
	}
	c := &Client[Req, Rep]{o: o, reqc: reqc, repc: repc, stop: make(chan struct{}), done: make(chan struct{}), idle: make(chan struct{})}
	if o.typ == zchan.Req {
		c.turn = make(chan struct{}, 1)
		s, err := c.openREQ(ctx)
		if err != nil {
			return nil, err
		}
		c.req = s
		c.name = o.name
		if c.name == "" {
			c.name = "reqrep client " + s.Name()
		}
		return c, nil
	}
	s, err := zchan.Open(ctx, zchan.Dealer, o.socketOptions()...)
	if err != nil {
		return nil, err
	}
	c.sock, c.name = s, s.Name()
	for i := range c.slots {
		c.slots[i].ch = make(chan [][]byte, 1)
	}
	c.pending = make(map[uint64]chan [][]byte)
	return c, nil
}

// waiterSlots is how many concurrent DEALER requests a client tracks in a
// fixed table, each slot with its own channel, made once; more at once go
// to a map, with channels from a pool. A request that finds a free slot
// costs a scan of a few words under the lock: registering and removing it
// took 0.03 to 0.05 µs in a micro-benchmark where the map and the pool
// took 0.34 to 0.48 (the 2-core machine under load, where an inproc round
// trip took 35 µs: about 1% of it).
const waiterSlots = 8

// waiter is a slot of the table. Both fields are guarded by Client.mu.
type waiter struct {
	busy bool          // taken by a request, until it has returned
	id   uint64        // the request id whose reply route may hand over; 0 once it has
	ch   chan [][]byte // capacity 1: see route
}

// Name returns the client's name (WithName, or its socket's).
func (c *Client[Req, Rep]) Name() string { return c.name }

// Request sends req and waits for its reply. ctx bounds the whole
// exchange: the wait for the socket to take the request (for REQ, also
// the wait for the requests before it), every attempt and every resend.
//
// It returns the reply, or an error: an *AttemptsError wrapping
// ErrTimeout (and context.Cause(ctx) if ctx ended) when no reply came in
// time, an error wrapping ErrRemote when the server failed the request,
// ErrBadReply or zchan.ErrCodec when the reply or the request could not be
// decoded or encoded, ErrPanic when a codec panicked, ErrClosed after
// Close or Shutdown began, or the socket's end reason (zchan.ErrTerminated,
// ...). A request that failed leaves nothing behind: its late reply, if
// one comes, is counted in ClientStats.StaleReplies and never handed to
// another request, and the next Request starts at once.
//
// Request is safe for concurrent use. On a DEALER client the requests run
// at the same time; on a REQ client they take turns.
func (c *Client[Req, Rep]) Request(ctx context.Context, req Req) (rep Rep, err error) {
	c.stats.requests.Add(1)
	defer func() {
		switch {
		case err == nil:
			c.stats.answered.Add(1)
		case errors.Is(err, ErrTimeout):
			c.stats.timedOut.Add(1)
		default:
			c.stats.failed.Add(1)
		}
	}()
	var body [][]byte
	if c.sock != nil {
		body, err = c.viaDealer(ctx, req)
	} else {
		body, err = c.viaREQ(ctx, req)
	}
	if err != nil {
		return rep, err
	}
	if rerr := remoteError(body); rerr != nil {
		return rep, rerr
	}
	return decode(c.repc, body)
}

// attempt returns the context of one attempt: ctx itself without
// WithRetries, else ctx bounded by the per-attempt timeout.
func (c *Client[Req, Rep]) attempt(ctx context.Context) (context.Context, context.CancelFunc) {
	if !c.o.retriesSet {
		return ctx, nop
	}
	return context.WithTimeout(ctx, c.o.perAttempt)
}

func nop() {}

// timeout is the error of a request that sent attempts times and ran out
// of time; cause is ctx's if ctx is what ended.
func timeout(ctx context.Context, attempts int) error {
	e := &AttemptsError{Attempts: attempts, Err: ErrTimeout}
	if ctx.Err() != nil {
		e.Cause = context.Cause(ctx)
	}
	return e
}

// viaDealer runs one request on the DEALER: [id, "", frames...] out, and
// the body of the reply carrying the same id back. There is no routing
// goroutine: every caller waiting for a reply reads the socket's In, keeps
// a reply with its own id and hands any other to the caller registered for
// it (or counts it as stale). So a lone caller gets its reply straight from
// the socket, and while any caller waits, replies are read.
func (c *Client[Req, Rep]) viaDealer(ctx context.Context, req Req) (body [][]byte, err error) {
	id := c.nextID.Add(1) // from 1: 0 marks a slot that takes no reply
	c.mu.Lock()           // begin and register at once: one lock a request, not two
	if c.closed {
		c.mu.Unlock()
		return nil, newErr(ErrClosed, nil, "request on %s: client closed", c.name)
	}
	c.inflight++
	var ch chan [][]byte
	slot := c.freeSlot()
	if slot != nil {
		slot.busy, slot.id, ch = true, id, slot.ch
	} else {
		ch = waiters.Get().(chan [][]byte)
		c.pending[id] = ch
	}
	c.mu.Unlock()
	defer func() {
		// No one sends on ch once it is unregistered (route does only
		// under c.mu, to a registered channel). A reply still in it came
		// as we gave up, or is a second reply to this id (one per
		// attempt) routed to us by another caller while we read the first
		// ourselves: stale either way, and ch must be empty before it is
		// used again. A slot's is emptied before the slot is free, under
		// the lock, so that the next request to take it cannot find it
		// full.
		c.mu.Lock()
		if slot != nil {
			c.drainStale(ch)
			slot.busy, slot.id = false, 0
		} else {
			delete(c.pending, id)
		}
		c.endLocked()
		c.mu.Unlock()
		if slot == nil {
			c.drainStale(ch)
			waiters.Put(ch)
		}
	}()
	frames, err := encode(c.reqc, req)
	if err != nil {
		return nil, err
	}
	msg := newRequest(id, frames)
	in := c.sock.In()
	for n := 1; ; n++ {
		actx, cancel := c.attempt(ctx)
		if err := c.sock.Send(actx, msg); err != nil {
			cancel()
			switch {
			case ctx.Err() != nil:
				return nil, timeout(ctx, n-1)
			case actx.Err() != nil && n < c.o.attempts:
				continue // no server took it in time: try again
			case actx.Err() != nil:
				return nil, timeout(ctx, n-1)
			}
			return nil, c.socketEnded(err)
		}
		c.stats.sent.Add(1)
		if n > 1 {
			c.stats.retries.Add(1)
		}
	wait:
		for {
			select {
			case body := <-ch:
				cancel()
				return body, nil
			case m, ok := <-in:
				if !ok {
					cancel()
					return nil, c.socketEnded(c.sock.Err())
				}
				if body, mine := c.route(m, id); mine {
					cancel()
					return body, nil
				}
			case <-actx.Done():
				cancel()
				if ctx.Err() != nil || n >= c.o.attempts {
					return nil, timeout(ctx, n)
				}
				break wait
			}
		}
	}
}

// socketEnded is the error of a request whose socket ended under it.
func (c *Client[Req, Rep]) socketEnded(err error) error {
	if errors.Is(err, ErrClosed) {
		c.stats.abandoned.Add(1)
		return newErr(ErrClosed, nil, "request on %s: client closed", c.name)
	}
	return err
}

// route takes a message read off the DEALER: it returns its body if it is
// the reply to request self; else it hands it to the caller waiting for
// its id, or counts it as stale (or bad).
func (c *Client[Req, Rep]) route(m zchan.Msg, self uint64) ([][]byte, bool) {
	id, body, ok := splitReply(m)
	if !ok {
		if n := c.stats.bad.Add(1); n == 1 {
			c.o.logger.Warn("reqrep: message that is not a reply discarded", zap.String("client", c.name), zap.Int("frames", len(m)))
		}
		return nil, false
	}
	if id == self {
		return body, true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var ch chan [][]byte
	for i := range c.slots {
		if w := &c.slots[i]; w.busy && w.id == id {
			ch, w.id = w.ch, 0
			break
		}
	}
	if ch == nil {
		var ok bool
		if ch, ok = c.pending[id]; !ok {
			c.stats.stale.Add(1)
			c.o.logger.Debug("reqrep: stale reply discarded", zap.String("client", c.name), zap.Uint64("id", id))
			return nil, false
		}
		delete(c.pending, id)
	}
	ch <- body // buffered, and sent on only here, once per registration: never blocks
	return nil, false
}

// freeSlot returns a free slot of the table, or nil; c.mu is held.
func (c *Client[Req, Rep]) freeSlot() *waiter {
	for i := range c.slots {
		if !c.slots[i].busy {
			return &c.slots[i]
		}
	}
	return nil
}

// drainStale counts the reply left in ch, if any, as stale.
func (c *Client[Req, Rep]) drainStale(ch chan [][]byte) {
	select {
	case <-ch:
		c.stats.stale.Add(1)
	default:
	}
}

// openREQ opens a REQ socket as the options say.
func (c *Client[Req, Rep]) openREQ(ctx context.Context) (*zchan.Socket[zchan.Msg], error) {
	return zchan.Open(ctx, zchan.Req, c.o.socketOptions(zchan.WithLinger(0))...)
}

// viaREQ runs one request on the REQ socket, after the requests before it;
// after a timeout it closes the socket (Lazy Pirate) so that the late
// reply can never be read, and opens a new one for the next attempt.
func (c *Client[Req, Rep]) viaREQ(ctx context.Context, req Req) ([][]byte, error) {
	if err := c.begin(); err != nil {
		return nil, err
	}
	defer c.end()
	frames, err := encode(c.reqc, req)
	if err != nil {
		return nil, err
	}
	select {
	case c.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, timeout(ctx, 0)
	case <-c.stop:
		return nil, newErr(ErrClosed, nil, "request on %s: client closed", c.name)
	}
	defer func() { <-c.turn }()
	for n := 1; ; n++ {
		actx, cancel := c.attempt(ctx)
		s, err := c.current(actx)
		if err != nil {
			cancel()
			switch {
			case ctx.Err() != nil:
				return nil, timeout(ctx, n-1)
			case actx.Err() != nil && n < c.o.attempts:
				continue
			case actx.Err() != nil:
				return nil, timeout(ctx, n-1)
			}
			return nil, err
		}
		if err := s.Send(actx, zchan.Msg(frames)); err != nil {
			cancel()
			switch { // a REQ that did not take the request is still in step
			case ctx.Err() != nil:
				return nil, timeout(ctx, n-1)
			case actx.Err() != nil && n < c.o.attempts:
				continue
			case actx.Err() != nil:
				return nil, timeout(ctx, n-1)
			}
			c.reset(s, false)
			return nil, c.socketEnded(err)
		}
		c.stats.sent.Add(1)
		if n > 1 {
			c.stats.retries.Add(1)
		}
		select {
		case m, ok := <-s.In():
			cancel()
			if !ok {
				err := s.Err()
				c.reset(s, false)
				return nil, c.socketEnded(err)
			}
			return m, nil
		case <-actx.Done():
			cancel()
			c.reset(s, true)
			if ctx.Err() != nil || n >= c.o.attempts {
				return nil, timeout(ctx, n)
			}
		}
	}
}

// current returns the REQ socket, opening a new one if the last was
// closed.
func (c *Client[Req, Rep]) current(ctx context.Context) (*zchan.Socket[zchan.Msg], error) {
	c.mu.Lock()
	s := c.req
	c.mu.Unlock()
	if s != nil {
		return s, nil
	}
	s, err := c.openREQ(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.stop: // Close began while this one opened: it is not Close's to see
		_ = s.Close()
		return nil, newErr(ErrClosed, nil, "request on %s: client closed", c.name)
	default:
	}
	c.req = s
	return s, nil
}

// reset closes a REQ socket (abandoned says a request on it was given up:
// counted as a reopen) and counts the replies it still held as stale. The
// next request opens a new socket.
func (c *Client[Req, Rep]) reset(s *zchan.Socket[zchan.Msg], abandoned bool) {
	c.mu.Lock()
	if c.req == s {
		c.req = nil
	}
	c.mu.Unlock()
	_ = s.Close() // linger 0: an unsent request is dropped
	for range s.In() {
		c.stats.stale.Add(1)
	}
	if abandoned {
		c.stats.reopens.Add(1)
	}
}

// begin counts a Request under way, unless the client is closed.
func (c *Client[Req, Rep]) begin() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return newErr(ErrClosed, nil, "request on %s: client closed", c.name)
	}
	c.inflight++
	return nil
}

// end counts a Request done, and lets a Shutdown waiting for the last
// one go on.
func (c *Client[Req, Rep]) end() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.endLocked()
}

// endLocked is end with c.mu held.
func (c *Client[Req, Rep]) endLocked() {
	c.inflight--
	if c.closed && c.inflight == 0 {
		c.markIdle()
	}
}

// markIdle closes idle once; c.mu is held.
func (c *Client[Req, Rep]) markIdle() {
	select {
	case <-c.idle:
	default:
		close(c.idle)
	}
}

// Close closes the client at once: new requests fail with ErrClosed, the
// requests under way return an error wrapping ErrClosed (counted in
// ClientStats.Abandoned), and the socket is closed (a DEALER's with its
// linger, which sends what it queued; a REQ's at once). Close waits for
// that, and returns the socket's close error, if any. It is idempotent and
// safe for concurrent use.
func (c *Client[Req, Rep]) Close() error {
	var err error
	c.closeOne.Do(func() {
		c.mu.Lock()
		c.closed = true
		if c.inflight == 0 {
			c.markIdle()
		}
		close(c.stop)
		s := c.req
		c.mu.Unlock()
		if c.sock != nil {
			err = c.sock.Close() // the requests under way return ErrClosed
			for m := range c.sock.In() {
				c.route(m, 0) // counted as stale or bad
			}
		} else {
			if s != nil {
				err = s.Close() // ends a Send or a wait on it at once
			}
			c.turn <- struct{}{} // the request under way has returned
			c.mu.Lock()
			s, c.req = c.req, nil
			c.mu.Unlock()
			if s != nil {
				_ = s.Close()
				for range s.In() {
					c.stats.stale.Add(1)
				}
			}
		}
		close(c.done)
	})
	<-c.done
	return err
}

// Shutdown closes the client gracefully: new requests fail with ErrClosed
// at once, the requests under way go on until they end (with their reply
// or their own context), then the client closes as Close does. If ctx ends
// first, Shutdown closes the client at once (the requests still under way
// return ErrClosed, counted in Abandoned) and returns context.Cause(ctx).
// It is safe for concurrent use and may be called again or after Close.
func (c *Client[Req, Rep]) Shutdown(ctx context.Context) error {
	c.mu.Lock()
	c.closed = true
	if c.inflight == 0 {
		c.markIdle()
	}
	c.mu.Unlock()
	select {
	case <-c.idle:
		return c.Close()
	case <-ctx.Done():
		_ = c.Close()
		return context.Cause(ctx)
	}
}

// Done returns a channel closed once the client has been closed (by
// Close or Shutdown) and its socket with it.
func (c *Client[Req, Rep]) Done() <-chan struct{} { return c.done }

// Stats returns a snapshot of the client's counters. It is safe to call
// at any time, also after Close.
func (c *Client[Req, Rep]) Stats() ClientStats {
	s := &c.stats
	return ClientStats{
		Requests: s.requests.Load(), Answered: s.answered.Load(), TimedOut: s.timedOut.Load(),
		Failed: s.failed.Load(), Abandoned: s.abandoned.Load(),
		Sent: s.sent.Load(), Retries: s.retries.Load(), Reopens: s.reopens.Load(),
		StaleReplies: s.stale.Load(), BadReplies: s.bad.Load(),
	}
}

// Undelivered returns ClientStats.Abandoned: the requests a shutdown cut
// short. A shutdown.Group reports it.
func (c *Client[Req, Rep]) Undelivered() uint64 { return c.stats.abandoned.Load() }

// Progress returns a number that grows whenever a request is sent or a
// reply arrives, for a shutdown.Group's settle step.
func (c *Client[Req, Rep]) Progress() uint64 {
	return c.stats.sent.Load() + c.stats.answered.Load() + c.stats.stale.Load()
}

// encode runs a codec's Encode, a panic included.
func encode[T any](codec zchan.Codec[T], v T) (frames [][]byte, err error) {
	defer recoverInto(&err, "Encode")
	frames, err = codec.Encode(v)
	if err != nil && !errors.Is(err, zchan.ErrCodec) {
		err = newErr(zchan.ErrCodec, err, "encode")
	}
	if err == nil && len(frames) == 0 {
		err = newErr(zchan.ErrCodec, nil, "encode: no frames")
	}
	return frames, err
}

// decode runs a codec's Decode, a panic included; a failure wraps
// ErrBadReply and zchan.ErrCodec.
func decode[T any](codec zchan.Codec[T], frames [][]byte) (v T, err error) {
	defer recoverInto(&err, "Decode")
	v, err = codec.Decode(frames)
	if err != nil {
		err = &rerr{msg: "reqrep: decode reply: " + err.Error(), sentinel: ErrBadReply, cause: wrapCodec(err)}
	}
	return v, err
}

func wrapCodec(err error) error {
	if errors.Is(err, zchan.ErrCodec) {
		return err
	}
	return &rerr{msg: err.Error(), sentinel: zchan.ErrCodec, cause: err}
}
