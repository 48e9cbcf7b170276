package reqrep

import (
	"time"

	"go.uber.org/zap"

	"github.com/zmqchan/zmqchan/zchan"
)

// DefaultConcurrency is how many requests a ROUTER Server works on at
// once unless WithConcurrency says otherwise: enough to overlap handlers
// that wait on I/O, few enough that a flood of requests waits in libzmq
// (and pushes back to the clients' high-water marks) rather than in
// goroutines.
const DefaultConcurrency = 16

// Option configures a Client (NewClient) or a Server (NewServer). Options
// are applied in order, then validated; an option that does not apply to
// the constructor it was given to, or a value out of range, makes it fail
// with ErrInvalidOption. The zero value is not usable: build options with
// the With functions.
type Option interface{ apply(*options) }

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

type options struct {
	err         error
	typ         zchan.Type
	typSet      bool
	name        string
	binds       []string
	connects    []string
	zopts       []zchan.Option
	logger      *zap.Logger
	attempts    int           // client: sends per request
	perAttempt  time.Duration // client: the wait for a reply to each send
	retriesSet  bool
	concurrency int // server
	concSet     bool
}

func (o *options) fail(format string, args ...any) {
	if o.err == nil {
		o.err = newErr(ErrInvalidOption, nil, format, args...)
	}
}

// build applies opts over the defaults and checks them for a client
// (server false) or a server.
func build(server bool, opts []Option) (options, error) {
	o := options{logger: zap.NewNop(), attempts: 1, concurrency: DefaultConcurrency}
	if server {
		o.typ = zchan.Router
	} else {
		o.typ = zchan.Dealer
	}
	for _, opt := range opts {
		if opt == nil {
			return o, newErr(ErrInvalidOption, nil, "nil option")
		}
		opt.apply(&o)
	}
	if o.err != nil {
		return o, o.err
	}
	switch {
	case server && o.typ != zchan.Router && o.typ != zchan.Rep:
		return o, newErr(ErrInvalidOption, nil, "a server socket must be ROUTER or REP, not %s", o.typ)
	case !server && o.typ != zchan.Dealer && o.typ != zchan.Req:
		return o, newErr(ErrInvalidOption, nil, "a client socket must be DEALER or REQ, not %s", o.typ)
	case server && o.retriesSet:
		return o, newErr(ErrInvalidOption, nil, "WithRetries on a server")
	case !server && o.concSet:
		return o, newErr(ErrInvalidOption, nil, "WithConcurrency on a client")
	}
	return o, nil
}

// WithType sets the socket type: DEALER (the default) or REQ for a
// Client, ROUTER (the default) or REP for a Server. See the package doc
// for what each one means.
func WithType(t zchan.Type) Option {
	return optionFunc(func(o *options) { o.typ, o.typSet = t, true })
}

// WithName names the client or server, and its socket, in logs, in errors
// and in a shutdown.Group's Report. Default: the socket's name, such as
// "DEALER#3".
func WithName(name string) Option { return optionFunc(func(o *options) { o.name = name }) }

// WithBind binds the socket to each endpoint (zchan.WithBind). A REQ
// client that reopens its socket binds the new one to the same endpoints.
func WithBind(endpoints ...string) Option {
	return optionFunc(func(o *options) { o.binds = append(o.binds, endpoints...) })
}

// WithConnect connects the socket to each endpoint (zchan.WithConnect). A
// DEALER client connected to several servers spreads its requests over
// them round-robin, and so its resends too.
func WithConnect(endpoints ...string) Option {
	return optionFunc(func(o *options) { o.connects = append(o.connects, endpoints...) })
}

// WithSocketOptions passes options to zchan.OpenWith for the socket (a
// zchan.WithContext, high-water marks, CURVE through WithSetup, ...).
// They are applied after this package's own defaults, so they override
// them: a server's socket has zchan.WithRecvBuffer(0) (a request waits in
// libzmq, not in a buffer, until a handler is free to take it) and, for a
// ROUTER, ROUTER_MANDATORY (a reply to a departed client is counted, never
// dropped silently); a REQ client's has zchan.WithLinger(0) (a request it
// abandoned is not sent after its socket is closed).
func WithSocketOptions(opts ...zchan.Option) Option {
	return optionFunc(func(o *options) { o.zopts = append(o.zopts, opts...) })
}

// WithLogger logs what has no caller to return to (stale replies, handler
// failures) to l, and passes it to the socket. Default: no logging; nil
// means the same.
func WithLogger(l *zap.Logger) Option {
	return optionFunc(func(o *options) {
		if l == nil {
			l = zap.NewNop()
		}
		o.logger = l
	})
}

// WithRetries makes a Client send each request up to attempts times in
// all, waiting at most perAttempt for a reply to each (the guide's Lazy
// Pirate). The request's context still bounds the whole exchange. A DEALER
// client resends on the same socket, with the same request id, so a reply
// to any of the attempts answers the request and the others are counted as
// stale; libzmq hands each resend to the next connected server in turn. A
// REQ client closes its socket, opens a new one and resends on it. Retries
// are only safe for requests the server may see more than once. Default: 1
// attempt, bounded by the request's context alone. Only for clients.
func WithRetries(attempts int, perAttempt time.Duration) Option {
	return optionFunc(func(o *options) {
		if attempts < 1 || perAttempt <= 0 {
			o.fail("WithRetries(%d, %v): need at least 1 attempt and a positive timeout", attempts, perAttempt)
		}
		o.attempts, o.perAttempt, o.retriesSet = attempts, perAttempt, true
	})
}

// WithConcurrency sets how many requests a ROUTER Server's handlers work
// on at once (n goroutines). A REP server works on one at a time whatever
// n is: libzmq's REP takes the next request only after the reply to the
// last. Default: DefaultConcurrency (16). Only for servers.
func WithConcurrency(n int) Option {
	return optionFunc(func(o *options) {
		if n < 1 {
			o.fail("WithConcurrency(%d): need at least 1", n)
		}
		o.concurrency, o.concSet = n, true
	})
}

// socketOptions returns the zchan options for the socket: endpoints and
// name first, then extra (this package's defaults), then the caller's.
func (o *options) socketOptions(extra ...zchan.Option) []zchan.Option {
	zo := []zchan.Option{zchan.WithLogger(o.logger)}
	if o.name != "" {
		zo = append(zo, zchan.WithName(o.name))
	}
	if len(o.binds) > 0 {
		zo = append(zo, zchan.WithBind(o.binds...))
	}
	if len(o.connects) > 0 {
		zo = append(zo, zchan.WithConnect(o.connects...))
	}
	zo = append(zo, extra...)
	return append(zo, o.zopts...)
}
