package zchan

import (
	"context"
	"time"

	zmq "github.com/pebbe/zmq4"
	"go.uber.org/zap"
)

// Defaults for the options below. Each option's doc repeats its default.
const (
	// DefaultLinger bounds how long Close and context termination wait for
	// queued outbound messages. libzmq's own default is -1 (forever), which
	// is how zmq_ctx_term hangs; this package never uses it.
	DefaultLinger = time.Second
	// DefaultBudget is how many messages the owner moves per turn before it
	// looks at its Go channels again (sends, commands, cancellation).
	DefaultBudget = 64
	// DefaultBuffer sizes the channels between the owner and its callers
	// (WithRecvBuffer, WithSendBuffer).
	DefaultBuffer = 64
)

// Option configures a socket at Open. Options are applied in order, then
// validated together; an invalid value makes Open fail with
// ErrInvalidOption. The zero value is not usable: build options with the
// With functions.
type Option interface{ apply(*options) }

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// sockopt is one setting applied to the socket by its owner, before any
// bind or connect.
type sockopt struct {
	name string
	set  func(*zmq.Socket) error
}

type options struct {
	err        error
	ctx        *Context
	name       string
	binds      []string
	connects   []string
	linger     time.Duration
	subscribe  []string
	sockopts   []sockopt
	maxFrames  int
	recvBuffer int
	sendBuffer int
	budget     int
	logger     *zap.Logger
	lockThread bool
	dropSlow   bool
	dropFull   bool // WithDropAtHWM
	reqRelaxed bool // WithReqRelaxed
	emptyReply bool
	lifetime   context.Context
	pebbeOnly  bool // tests: the owner's hot path through pebbe too (see direct.go)
	sent       func([][]byte)
}

func defaultOptions() options {
	return options{linger: DefaultLinger, budget: DefaultBudget, logger: zap.NewNop(),
		recvBuffer: DefaultBuffer, sendBuffer: -1}
}

func (o *options) fail(format string, args ...any) {
	if o.err == nil {
		o.err = newErr(ErrInvalidOption, nil, format, args...)
	}
}

func (o *options) set(name string, f func(*zmq.Socket) error) {
	o.sockopts = append(o.sockopts, sockopt{name: name, set: f})
}

func (o *options) validate(t Type) error {
	if o.err != nil {
		return o.err
	}
	if len(o.subscribe) > 0 && t != Sub {
		return newErr(ErrInvalidOption, nil, "subscriptions on a %s socket", t)
	}
	if o.dropFull && t != Router && t != Stream {
		return newErr(ErrInvalidOption, nil, "WithDropAtHWM on a %s socket (ROUTER and STREAM only)", t)
	}
	if o.reqRelaxed && t != Req {
		return newErr(ErrInvalidOption, nil, "WithReqRelaxed on a %s socket (REQ only)", t)
	}
	if o.emptyReply && t != Rep {
		return newErr(ErrInvalidOption, nil, "WithEmptyReplyOnCodecError on a %s socket", t)
	}
	for _, ep := range o.binds {
		if err := checkEndpoint("bind", ep); err != nil {
			return err
		}
	}
	for _, ep := range o.connects {
		if err := checkEndpoint("connect", ep); err != nil {
			return err
		}
	}
	return nil
}

// WithContext opens the socket in c. Sockets that talk over inproc must
// share a Context. Default: a process-wide Context that is never terminated.
func WithContext(c *Context) Option {
	return optionFunc(func(o *options) {
		if c == nil {
			o.fail("nil context")
		}
		o.ctx = c
	})
}

// WithName names the socket in logs, in Stats and in the errors of
// Context.Term. Default: the type and a sequence number, such as "PUSH#3".
func WithName(name string) Option { return optionFunc(func(o *options) { o.name = name }) }

// WithBind binds the socket to each endpoint, in order, before Open returns.
// A tcp port of "*" or "0" picks a free port; Socket.Endpoints tells which.
func WithBind(endpoints ...string) Option {
	return optionFunc(func(o *options) { o.binds = append(o.binds, endpoints...) })
}

// WithConnect connects the socket to each endpoint, in order, after all
// binds. Connecting is asynchronous in ZeroMQ: the peer need not exist yet.
func WithConnect(endpoints ...string) Option {
	return optionFunc(func(o *options) { o.connects = append(o.connects, endpoints...) })
}

// WithLinger sets how long queued outbound messages may keep the socket
// alive after Close or context termination. Zero discards them at once.
// It is set when the socket is created, because libzmq refuses it once
// termination has begun. Default: DefaultLinger (1s). Negative values
// (libzmq's "forever") are refused: they are how shutdowns hang.
func WithLinger(d time.Duration) Option {
	return optionFunc(func(o *options) {
		if d < 0 {
			o.fail("linger %v: must be finite", d)
		}
		o.linger = d
	})
}

// WithSendHWM sets ZMQ_SNDHWM, the number of outbound messages libzmq
// queues per peer before a send would block. 0 means no limit. Default:
// libzmq's (1000).
func WithSendHWM(n int) Option {
	return optionFunc(func(o *options) {
		if n < 0 {
			o.fail("send HWM %d", n)
		}
		o.set("SNDHWM", func(s *zmq.Socket) error { return s.SetSndhwm(n) })
	})
}

// WithRecvHWM sets ZMQ_RCVHWM, the number of inbound messages libzmq
// queues per peer before it stops reading from that peer. 0 means no
// limit. Default: libzmq's (1000).
func WithRecvHWM(n int) Option {
	return optionFunc(func(o *options) {
		if n < 0 {
			o.fail("receive HWM %d", n)
		}
		o.set("RCVHWM", func(s *zmq.Socket) error { return s.SetRcvhwm(n) })
	})
}

// WithIdentity sets ZMQ_ROUTING_ID, the identity a ROUTER peer sees for
// this socket (1 to 255 bytes, not starting with a zero byte). Default: a
// random identity chosen by the ROUTER.
func WithIdentity(id string) Option {
	return optionFunc(func(o *options) {
		if len(id) == 0 || len(id) > 255 || id[0] == 0 {
			o.fail("identity %q: 1 to 255 bytes, not starting with 0", id)
		}
		o.set("ROUTING_ID", func(s *zmq.Socket) error { return s.SetIdentity(id) })
	})
}

// WithSubscribe subscribes a SUB socket to each prefix before it connects,
// so no message published after the connection is missed for want of a
// subscription. "" subscribes to everything. Only valid on SUB; XSUB
// subscribes by sending a message. Default: no subscription (a SUB socket
// receives nothing).
func WithSubscribe(prefixes ...string) Option {
	return optionFunc(func(o *options) { o.subscribe = append(o.subscribe, prefixes...) })
}

// WithReconnect sets ZMQ_RECONNECT_IVL and ZMQ_RECONNECT_IVL_MAX: the first
// wait before reconnecting to a lost peer, and the cap of its exponential
// back-off (0 means no back-off). Default: libzmq's (100ms, 0).
func WithReconnect(interval, max time.Duration) Option {
	return optionFunc(func(o *options) {
		if interval < 0 || max < 0 {
			o.fail("reconnect %v/%v", interval, max)
		}
		o.set("RECONNECT_IVL", func(s *zmq.Socket) error { return s.SetReconnectIvl(interval) })
		o.set("RECONNECT_IVL_MAX", func(s *zmq.Socket) error { return s.SetReconnectIvlMax(max) })
	})
}

// WithHeartbeat turns on ZMTP heartbeats: a PING every interval; a peer
// that has not answered within timeout is disconnected; ttl tells the peer
// to drop this side after that long without traffic (0: not sent, libzmq
// rounds it to tenths of a second). Default: off.
func WithHeartbeat(interval, timeout, ttl time.Duration) Option {
	return optionFunc(func(o *options) {
		if interval <= 0 || timeout < 0 || ttl < 0 {
			o.fail("heartbeat %v/%v/%v", interval, timeout, ttl)
		}
		o.set("HEARTBEAT_IVL", func(s *zmq.Socket) error { return s.SetHeartbeatIvl(interval) })
		if timeout > 0 {
			o.set("HEARTBEAT_TIMEOUT", func(s *zmq.Socket) error { return s.SetHeartbeatTimeout(timeout) })
		}
		if ttl > 0 {
			o.set("HEARTBEAT_TTL", func(s *zmq.Socket) error { return s.SetHeartbeatTtl(ttl) })
		}
	})
}

// WithMaxMsgSize sets ZMQ_MAXMSGSIZE: a peer that sends a frame larger than
// n bytes is disconnected. Default: no limit.
func WithMaxMsgSize(n int64) Option {
	return optionFunc(func(o *options) {
		if n <= 0 {
			o.fail("max message size %d", n)
		}
		o.set("MAXMSGSIZE", func(s *zmq.Socket) error { return s.SetMaxmsgsize(n) })
	})
}

// WithImmediate sets ZMQ_IMMEDIATE: messages are queued only to peers whose
// connection is complete, so a PUSH never hands work to a peer that is not
// there. Default: off.
func WithImmediate(on bool) Option {
	return optionFunc(func(o *options) {
		o.set("IMMEDIATE", func(s *zmq.Socket) error { return s.SetImmediate(on) })
	})
}

// WithMaxFrames caps the frames per message, in both directions. Send
// refuses a longer message with ErrTooManyFrames; a longer inbound message
// is read to its end, discarded, counted in Stats.TooManyFrames and logged.
// Default: 0, no cap.
func WithMaxFrames(n int) Option {
	return optionFunc(func(o *options) {
		if n < 0 {
			o.fail("max frames %d", n)
		}
		o.maxFrames = n
	})
}

// WithRecvBuffer sizes the channel returned by In. The owner takes a
// message off the socket only when it has somewhere to put it: the buffer
// or a waiting consumer. The buffer is how far the owner may run ahead of
// a slow consumer; beyond it, back pressure goes to libzmq's receive HWM
// and on to the sender. When the socket ends, what is in the buffer can
// still be read from In. Default: DefaultBuffer (64): with no buffer every
// message costs a goroutine hand-off, which halves throughput (bench/).
func WithRecvBuffer(n int) Option {
	return optionFunc(func(o *options) {
		if n < 0 {
			o.fail("receive buffer %d", n)
		}
		o.recvBuffer = n
	})
}

// WithSendBuffer sizes the queue between Send and the owner. Send returns
// once its message is queued; when the queue is full (the owner holds a
// message libzmq cannot take yet, because the send HWM is reached or no
// peer is there), Send blocks. Queued messages are sent in order; those
// still queued when the socket ends are sent within the linger or counted
// in Stats.Undelivered. Default: DefaultBuffer (64), except for REQ and
// REP, where it is 0 so that Send keeps the request/reply rhythm: a REQ's
// Send returns only when the owner takes the request, after the previous
// reply has arrived, and a stray REP reply blocks instead of answering a
// request that has not come yet. 0 makes every Send wait for the owner.
func WithSendBuffer(n int) Option {
	return optionFunc(func(o *options) {
		if n < 0 {
			o.fail("send buffer %d", n)
		}
		o.sendBuffer = n
	})
}

// WithBudget sets how many messages the owner moves per turn before it
// looks at its Go channels (sends, commands, Close, cancellation) again,
// so a flooded socket stays responsive. After a turn that used its whole
// budget, the owner carries on without waiting for a new ZMQ_FD edge.
// Default: DefaultBudget (64).
func WithBudget(n int) Option {
	return optionFunc(func(o *options) {
		if n <= 0 {
			o.fail("budget %d", n)
		}
		o.budget = n
	})
}

// WithLogger logs what has no caller to return to (decode errors, drops,
// undelivered messages at close) to l. Default: no logging; nil means the
// same.
func WithLogger(l *zap.Logger) Option {
	return optionFunc(func(o *options) {
		if l == nil {
			l = zap.NewNop()
		}
		o.logger = l
	})
}

// WithLockOSThread locks the owner goroutine to its OS thread. libzmq only
// needs a full memory barrier when a socket moves between threads, which
// the Go scheduler provides, so the lock is not needed for safety; it costs
// a thread hand-off on every wake (bench/README.md has the numbers).
// Default: off.
func WithLockOSThread(on bool) Option {
	return optionFunc(func(o *options) { o.lockThread = on })
}

// WithDropWhenSlow makes the owner keep reading the socket when the
// consumer of In falls behind, dropping the newest messages instead of
// pushing back. Each drop is counted in Stats.Dropped and each episode is
// logged once. Default: off (back pressure, nothing dropped).
func WithDropWhenSlow(on bool) Option {
	return optionFunc(func(o *options) { o.dropSlow = on })
}

// WithDropAtHWM makes a ROUTER or STREAM drop a message for a peer whose
// pipe is full (the send HWM reached) instead of waiting for room; each
// such message is counted in Stats.Dropped and each episode is logged once.
// It is the old ROUTER behaviour made visible: the owner still sets
// ROUTER_MANDATORY, so that libzmq reports the full pipe (EAGAIN) rather
// than dropping in silence. Use it when one slow peer must not hold up the
// others (a ROUTER serving many clients that may stop reading). Only valid
// on ROUTER and STREAM. Default: off: a send to a full peer waits (back
// pressure), as on every other type.
func WithDropAtHWM(on bool) Option {
	return optionFunc(func(o *options) { o.dropFull = on })
}

// WithReqRelaxed sets ZMQ_REQ_RELAXED and ZMQ_REQ_CORRELATE on a REQ: a new
// request may be sent before the reply to the last one has arrived (the
// last one is then abandoned), and libzmq discards a reply that does not
// answer the latest request. The owner then does not keep the REQ's
// alternation: Send takes a new request whenever libzmq can send it. This
// is what a client with timeouts needs: after a request times out, the
// next one goes at once, and the late reply to the abandoned one is never
// delivered. (A late reply that arrived before the next request was sent
// answers the latest request as libzmq sees it, and is delivered: a client
// that abandons a request drains In before sending the next.) Setting the
// two options through WithSetup has the same effect. Shutdown still waits
// for the reply to the latest request (bounded by its ctx). Only valid on
// REQ. Default: off: strict alternation, kept by the owner.
func WithReqRelaxed() Option {
	return optionFunc(func(o *options) {
		o.reqRelaxed = true
		o.set("REQ_RELAXED", func(s *zmq.Socket) error { return s.SetReqRelaxed(1) })
		o.set("REQ_CORRELATE", func(s *zmq.Socket) error { return s.SetReqCorrelate(1) })
	})
}

// WithSetup runs f on the owner goroutine after the options above and
// before any bind or connect, for settings this package has no option for
// (CURVE keys, ZAP domain, TCP keepalives). f must not keep the socket or
// close it (Open then fails with ErrClosed), and should not block: Open
// returns when its context ends, but the owner, and the socket, stay
// until f returns. An error from f fails Open, wrapped with
// ErrInvalidOption; a panic in f fails it with ErrPanic.
func WithSetup(f func(*zmq.Socket) error) Option {
	return optionFunc(func(o *options) {
		if f == nil {
			o.fail("nil setup function")
		}
		o.set("setup", f)
	})
}

// WithSent has the owner call f with the frames of each message libzmq
// has taken, once it has: libzmq copies a message into buffers of its own
// when it takes it, so f may reuse the frames' memory (put them back in a
// free list of the caller's, say), which the frames of a message passed to
// Send must otherwise never be. f is not called for a message that was not
// taken (dropped, unroutable, undelivered: see Stats), whose frames are
// left to the garbage collector. f sees every message the socket sends,
// so it should only take back frames it recognises. f runs on the owner
// goroutine: it must be quick and must not call the socket's methods. A
// panic in f is logged, f is not called again, and the socket ends with
// an error wrapping ErrPanic (if the socket was already closing, with
// the reason it was closing for); the message has been sent
// (Stats.MsgsOut). Default: none.
func WithSent(f func(frames [][]byte)) Option {
	return optionFunc(func(o *options) {
		if f == nil {
			o.fail("nil WithSent function")
		}
		o.sent = f
	})
}

// WithLifetime ties the socket to ctx: when ctx ends, the socket ends as
// if Close had been called, and Err returns context.Cause(ctx). It is for
// short programs and tests; a service closes its sockets in order with
// Shutdown or a shutdown.Group instead. Default: the socket lives until
// Close, Shutdown, its Context's termination or a fatal error, whatever
// happens to the context given to Open.
func WithLifetime(ctx context.Context) Option {
	return optionFunc(func(o *options) {
		if ctx == nil {
			o.fail("nil lifetime context")
		}
		o.lifetime = ctx
	})
}

// WithEmptyReplyOnCodecError makes a REP socket answer a request it cannot
// hand on (the codec failed to decode it, or it had more frames than
// WithMaxFrames) with an empty message, and go on. libzmq's REP must reply
// to every request before it can take the next, so without this option
// such a request ends the socket with an error wrapping ErrCodec: any
// reply this package made up could be taken by the peer for a real one.
// Turn it on when an empty reply means "refused" in your protocol (and
// consider ROUTER for servers facing untrusted peers). Only valid on REP.
// Default: off.
func WithEmptyReplyOnCodecError(on bool) Option {
	return optionFunc(func(o *options) { o.emptyReply = on })
}
