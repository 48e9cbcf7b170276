package pipeline

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/zmqchan/zmqchan/zchan"
)

// Option configures a Chain (Start), a remote stage (Serve), a Pool
// (NewPool), remote workers (Work) or a Device (Queue, Forwarder,
// Streamer). Each option's doc says where it applies; giving one where it
// does not apply fails the constructor with ErrInvalidOption. Options are
// applied in order, then validated together. The zero value is not usable.
type Option interface{ apply(*options) }

// user bits: which constructors accept an option.
const (
	forChain uint8 = 1 << iota
	forServe
	forPool
	forWork
	forDevice
	forAll = forChain | forServe | forPool | forWork | forDevice
)

var kindNames = map[uint8]string{
	forChain: "Start", forServe: "Serve", forPool: "NewPool", forWork: "Work", forDevice: "a device",
}

type option struct {
	name string
	use  uint8
	f    func(*options)
}

func (op option) apply(o *options) {
	if op.use&o.kind == 0 {
		o.fail("%s does not apply to %s", op.name, kindNames[o.kind])
		return
	}
	op.f(o)
}

type options struct {
	kind   uint8
	err    error
	zctx   *zchan.Context
	name   string
	logger *zap.Logger
	codecs []any

	lifetime context.Context
	output   string

	workers     int
	endpoints   Endpoints
	aloTimeout  time.Duration
	waitWorkers int
	capture     string
	linger      time.Duration
}

func newOptions(kind uint8, opts []Option) (options, error) {
	o := options{
		kind:    kind,
		logger:  zap.NewNop(),
		workers: 1,
		linger:  zchan.DefaultLinger,
	}
	for _, op := range opts {
		if op == nil {
			o.fail("nil option")
			continue
		}
		op.apply(&o)
	}
	if o.err != nil {
		return o, o.err
	}
	return o, nil
}

func (o *options) fail(format string, args ...any) {
	if o.err == nil {
		o.err = fmt.Errorf("pipeline: "+format+": %w", append(args, ErrInvalidOption)...)
	}
}

// sockOpts returns the zchan options every socket of this constructor
// gets: the name, the linger, the logger and the context, then extra.
func (o *options) sockOpts(name string, extra ...zchan.Option) []zchan.Option {
	s := []zchan.Option{zchan.WithName(name), zchan.WithLinger(o.linger), zchan.WithLogger(o.logger)}
	if o.zctx != nil {
		s = append(s, zchan.WithContext(o.zctx))
	}
	return append(s, extra...)
}

// WithContext opens every socket in c. Sockets joined by inproc must share
// a zchan.Context, so a chain, pool or device that talks over inproc to
// sockets the caller opened must be given the caller's Context. Applies
// everywhere. Default: for Start, NewPool and the devices, zchan's
// process-wide Context (which zchan.Open also uses by default); for Serve
// and Work, a Context of their own, terminated when they return so that
// their last messages are flushed before the process exits.
func WithContext(c *zchan.Context) Option {
	return option{"WithContext", forAll, func(o *options) {
		if c == nil {
			o.fail("nil zchan context")
		}
		o.zctx = c
	}}
}

// WithName names the chain, pool or device (Name) and prefixes the names
// of its sockets. Applies everywhere. Default: "chain", "pool", "queue",
// "forwarder", "streamer", "serve" or "work", and a sequence number.
func WithName(name string) Option {
	return option{"WithName", forAll, func(o *options) { o.name = name }}
}

// WithLogger logs what has no caller to return to (a component that ended
// with undelivered values, tasks resent, the sockets' own warnings) to l.
// Applies everywhere. Default: no logging; nil means the same.
func WithLogger(l *zap.Logger) Option {
	return option{"WithLogger", forAll, func(o *options) {
		if l == nil {
			l = zap.NewNop()
		}
		o.logger = l
	}}
}

// WithCodec maps values of type T to frames with c on every link that
// carries a T. Without it a link carries []byte as one frame, string as one
// frame, zchan.Msg as its frames, and any other type as one frame of JSON.
// Both ends of a link must use the same codec: give a remote stage or
// worker process the same WithCodec. Applies to Start, Serve, NewPool and
// Work.
func WithCodec[T any](c zchan.Codec[T]) Option {
	return option{"WithCodec", forChain | forServe | forPool | forWork, func(o *options) {
		if c == nil {
			o.fail("nil codec")
		}
		o.codecs = append(o.codecs, c)
	}}
}

// WithLinger sets every socket's linger: how long a closing socket keeps
// trying to hand on the message it holds, and how long libzmq keeps
// sending what it queued. Applies everywhere. Default: zchan.DefaultLinger
// (1s).
func WithLinger(d time.Duration) Option {
	return option{"WithLinger", forAll, func(o *options) {
		if d < 0 {
			o.fail("linger %v", d)
		}
		o.linger = d
	}}
}

// WithLifetime ties a chain, pool or device to ctx, for short programs
// and tests: when ctx ends, the component closes at once, as if Close had
// been called, and Err (and Wait) return context.Cause(ctx). A service
// ends its components with Shutdown or a shutdown.Group instead. Applies
// to Start, NewPool and the devices. Default: the component lives until
// Close, Shutdown, its zchan.Context's termination or a failure, whatever
// happens to the context given to its constructor, which bounds only the
// opening.
func WithLifetime(ctx context.Context) Option {
	return option{"WithLifetime", forChain | forPool | forDevice, func(o *options) {
		if ctx == nil {
			o.fail("nil lifetime context")
		}
		o.lifetime = ctx
	}}
}

// WithOutput sets the endpoint of a chain's last link, from its last stage
// to Out. Applies to Start. Default: a unique inproc endpoint.
func WithOutput(endpoint string) Option {
	return option{"WithOutput", forChain, func(o *options) { o.output = endpoint }}
}

// WithWorkers sets how many workers NewPool starts in this process (0 is
// valid when all workers run elsewhere with Work), or how many Work runs.
// Each worker is one goroutine with three sockets (six zchan goroutines).
// Applies to NewPool and Work. Default: 1.
func WithWorkers(n int) Option {
	return option{"WithWorkers", forPool | forWork, func(o *options) {
		if n < 0 {
			o.fail("workers %d", n)
		}
		o.workers = n
	}}
}

// Endpoints are the three links of a pool: the ventilator's PUSH (Tasks),
// the sink's PULL (Results) and the KILL PUB (Control). The pool binds
// them; workers elsewhere connect to them. In WithEndpoints an empty field
// means the default; the zero value means all defaults.
type Endpoints struct {
	Tasks, Results, Control string
}

// WithEndpoints sets where a pool binds its three sockets; an empty field
// keeps its default. A tcp port of "*" picks a free port: Pool.Endpoints
// tells which, to hand to Work. Applies to NewPool. Default: three unique
// inproc endpoints.
func WithEndpoints(e Endpoints) Option {
	return option{"WithEndpoints", forPool, func(o *options) { o.endpoints = e }}
}

// WithAtLeastOnce turns on acknowledged delivery in a pool: the pool keeps
// every task until its result (or ErrSkip) comes back, sends it again if
// none came within timeout of its last sending (a worker died holding it,
// or the transport lost it with a crashed peer), and drops a result whose
// task was already answered, counting it in PoolStats.Duplicates. Results
// are therefore delivered exactly once per task, and the work function may
// run more than once per task: it should be idempotent. A timeout shorter
// than a task can take, queue included, causes needless resends (counted,
// and deduplicated). Memory: one entry per unanswered task. Applies to
// NewPool. Default: off (a task lost with a crashed worker stays lost).
func WithAtLeastOnce(timeout time.Duration) Option {
	return option{"WithAtLeastOnce", forPool, func(o *options) {
		if timeout <= 0 {
			o.fail("at-least-once timeout %v", timeout)
		}
		o.aloTimeout = timeout
	}}
}

// WithWaitForWorkers makes Submit wait until n workers are connected: the
// local ones, which are connected when NewPool returns, and remote ones,
// each of which announces itself on the results link once its sockets are
// connected (the guide's syncpub/syncsub coordination, done over the
// pool's reliable PUSH/PULL path). Without it the first worker to connect
// may get the whole batch. Over tcp a worker's task connection may finish
// its handshake just after its announcement arrives; tasks then go to the
// other workers meanwhile (immediate), none is lost. Applies to NewPool.
// Default: 0, no wait.
func WithWaitForWorkers(n int) Option {
	return option{"WithWaitForWorkers", forPool, func(o *options) {
		if n < 0 {
			o.fail("wait for workers %d", n)
		}
		o.waitWorkers = n
	}}
}

// WithCapture makes a device publish a copy of every message it forwards,
// in both directions, multipart intact, on a PUB socket bound to endpoint
// (libzmq's capture socket). A slow or absent subscriber misses copies;
// the device never waits for it. Applies to the devices. Default: none.
func WithCapture(endpoint string) Option {
	return option{"WithCapture", forDevice, func(o *options) {
		if endpoint == "" {
			o.fail("empty capture endpoint")
		}
		o.capture = endpoint
	}}
}
