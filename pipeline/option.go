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
	endpoint    string
	atLeastOnce bool
	waitWorkers int
	credit      int
	queue       int
	resultBuf   int
	heartbeat   time.Duration
	liveness    int
	killTimeout time.Duration
	events      any // chan<- PoolEvent[Task], checked by NewPool
	capture     string
	linger      time.Duration
}

func newOptions(kind uint8, opts []Option) (options, error) {
	o := options{
		kind:        kind,
		logger:      zap.NewNop(),
		workers:     1,
		linger:      zchan.DefaultLinger,
		credit:      DefaultCredit,
		queue:       DefaultQueueSize,
		resultBuf:   DefaultResultBuffer,
		heartbeat:   DefaultHeartbeat,
		liveness:    DefaultLiveness,
		killTimeout: DefaultKillTimeout,
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
// Each worker is two goroutines and one DEALER socket (two zchan goroutines).
// Applies to NewPool and Work. Default: 1.
func WithWorkers(n int) Option {
	return option{"WithWorkers", forPool | forWork, func(o *options) {
		if n < 0 {
			o.fail("workers %d", n)
		}
		o.workers = n
	}}
}

// WithEndpoint sets where a pool binds its ROUTER, the one link every
// worker connects a DEALER to (inproc, ipc or tcp; a tcp port of "*" picks
// a free port: Pool.Endpoint tells which, to hand to Work). Applies to
// NewPool. Default: a unique inproc endpoint.
func WithEndpoint(endpoint string) Option {
	return option{"WithEndpoint", forPool, func(o *options) { o.endpoint = endpoint }}
}

// WithAtLeastOnce makes a pool re-dispatch the tasks of a worker declared
// dead (silent for the liveness bound, see WithHeartbeat) to the others,
// instead of reporting them lost. A task is the worker's from when the
// pool sends it under the worker's credit until its answer comes back, so
// a worker's death costs what it held in resends (PoolStats.Resent): its
// window at the time, at most its credit (see WithWorkerCredit),
// and a result for a task already answered is dropped and counted
// (PoolStats.Duplicates): every task is answered exactly once on Results,
// and the function may run more than once for a task (a worker declared
// dead that was only stopped may still finish it), so it should be
// idempotent. Applies to NewPool. Default: at most once: the tasks of a
// dead worker are counted in PoolStats.Lost and named in a WorkerDead
// event; none is run twice.
func WithAtLeastOnce() Option {
	return option{"WithAtLeastOnce", forPool, func(o *options) { o.atLeastOnce = true }}
}

// Defaults of the worker link (see WithWorkerCredit, WithHeartbeat,
// WithKillTimeout and the protocol in the package doc).
const (
	// DefaultCredit is how many tasks a worker holds at most, and so the
	// most a dead worker takes with it (and, with WithAtLeastOnce, the
	// most resent after its death). Within it the pool keeps a window of
	// tasks out to each worker that follows the worker's answer rate (see
	// the protocol in the package doc): a fast worker's window opens to
	// the credit, a slow one's stays at a few tasks, so the credit no
	// longer sets what a slow worker holds back at a batch's end (the
	// window does). The pool sends tasks in batches of half a window or
	// more, one message each, so for short tasks the credit sets how far a
	// message's cost is shared. Measured with bench's pool row (4 workers,
	// 64 B tasks, 2 shared cores), tasks per second over raw pebbe's in the
	// same runs, inproc/ipc/tcp (bench/README.md has the tables): with the
	// Results buffer (WithResultBuffer), three runs of 9 to 15 rounds each,
	// 64: 0.87-0.97/0.81-0.87/0.80-0.88; 128: 1.07-1.17/1.00-1.05/
	// 0.92-1.01 (10 runs over the day: medians 1.10/0.98/0.87, tcp
	// 0.67-1.01, and 128 ahead of 64 in both pairs run side by side);
	// 256: 1.00-1.23/0.97-1.08/0.91-1.12. At 64 the CPU per
	// task was raw pebbe's (1.84/2.9/2.69 µs against 1.84/2.82/2.92): what
	// held the pool back there was the refill round trip, not work. 128
	// was the smallest credit as fast as the larger ones. Since the pool's
	// batch buffers are reused (a third less garbage), 256 is faster again
	// (tcp, 3 × 30 runs alternating: 64 0.84-0.96, 128 1.07-1.23, 256
	// 1.30-1.47); 128 stays, for the smaller cost of a death, as it meets
	// every floor of the row. TestPoolSlowWorker (a worker
	// 10 times slower beside two fast ones): the batch in 0.93 to 0.98 of
	// the fast ones' time alone, its last 10 results in 21 to 32 ms against
	// 6 to 8 (the slow one's window of 2 or 3 is the tail).
	DefaultCredit = 128
	// DefaultHeartbeat is how often each side of a worker link sends a
	// heartbeat: four small messages a second per worker.
	DefaultHeartbeat = 250 * time.Millisecond
	// DefaultLiveness is how many heartbeat intervals of silence declare
	// the other side dead: 1 s with DefaultHeartbeat. One lost interval
	// is a scheduler hiccup on a loaded machine, not a death; four keep a
	// false death rare while a dead worker's tasks move on within about a
	// second.
	DefaultLiveness = 4
	// DefaultQueueSize is how many submitted tasks a pool keeps waiting
	// for a worker with credit: libzmq's default HWM, which is what a
	// PUSH ventilator buffered per worker.
	DefaultQueueSize = 1000
	// DefaultResultBuffer is the room in a pool's Results channel: as
	// zchan's In, enough that the pool hands over results in bursts
	// rather than one rendezvous (and one wake-up of each side) per
	// result, which cost a fifth of the pool's throughput at 64 B.
	DefaultResultBuffer = 64
	// DefaultKillTimeout bounds how long a closing pool waits for its
	// workers' goodbyes after sending them KILL.
	DefaultKillTimeout = time.Second
)

// WithWorkerCredit sets a worker's credit: how many tasks it holds at
// most, running or waiting, and so how many a dead worker takes with it.
// The pool sends a worker a task only while it holds fewer than its
// credit (a task counts until the worker answers it), and fewer than its
// window, which follows the worker's answer rate and is at most the
// credit (see the protocol in the package doc), and none while the
// results waiting on Results reach the credit of all its workers, so a
// consumer that stops reading stops the workers after at most their
// credit, without stopping their heartbeats.
// For NewPool it is the credit of its local workers and the most it grants
// a remote one; for Work, what its workers ask for. Applies to NewPool and
// Work. Default: DefaultCredit.
func WithWorkerCredit(n int) Option {
	return option{"WithWorkerCredit", forPool | forWork, func(o *options) {
		if n < 1 || n > 1<<16 {
			o.fail("worker credit %d", n)
		}
		o.credit = n
	}}
}

// WithQueueSize sets how many submitted tasks a pool keeps waiting for a
// worker with credit (beyond one per registered worker) before Submit
// blocks. Queued tasks are the pool's, not a worker's: a worker's death
// never takes them, and those still queued when the pool closes are
// counted in Undelivered. Memory: one entry per queued task. Applies to
// NewPool. Default: DefaultQueueSize; 0 makes Submit wait for a credit.
func WithQueueSize(n int) Option {
	return option{"WithQueueSize", forPool, func(o *options) {
		if n < 0 {
			o.fail("queue size %d", n)
		}
		o.queue = n
	}}
}

// WithResultBuffer sets the room in a pool's Results channel. Results in
// it count as delivered (PoolStats.Results) while the pool runs;
// Shutdown waits until the consumer has read them, and Close (or a
// failure) takes back those still unread and counts them in Undelivered
// instead, so the accounting is exact once the pool is done. The buffer
// counts towards the bound on results waiting for the consumer (see
// Results). Applies to NewPool. Default: DefaultResultBuffer; 0 makes
// Results unbuffered: a result is handed over only when received.
func WithResultBuffer(n int) Option {
	return option{"WithResultBuffer", forPool, func(o *options) {
		if n < 0 {
			o.fail("result buffer %d", n)
		}
		o.resultBuf = n
	}}
}

// WithHeartbeat sets how often each side of a worker link sends a
// heartbeat (interval), and after how many intervals of silence it
// declares the other side dead (liveness): the pool then gives up on the
// worker (its tasks re-dispatched with WithAtLeastOnce, else reported
// lost), and a worker reconnects and registers again. These are
// application messages on the task link, not ZMTP heartbeats (which, in
// libzmq 4.3, can abort the process when they meet a socket whose input is
// stopped: libzmq#3937, #4767). Give the pool and its workers the same
// values. For a chain, a Remote stage's Serve sends the heartbeat on its
// output link, and the stage reading that link (or Out) fails the chain
// with ErrDead, naming the remote stage, after liveness intervals of
// waiting in silence; the chain sends one on the link into the remote
// stage, and Serve returns ErrDead after as long without input. Give a
// chain and its Serve the same values. Applies to NewPool, Work, Start and Serve. Default:
// DefaultHeartbeat and DefaultLiveness.
func WithHeartbeat(interval time.Duration, liveness int) Option {
	return option{"WithHeartbeat", forPool | forWork | forChain | forServe, func(o *options) {
		if interval <= 0 || liveness < 2 {
			o.fail("heartbeat %v, liveness %d", interval, liveness)
		}
		o.heartbeat, o.liveness = interval, liveness
	}}
}

// WithKillTimeout bounds how long a pool that is ending (Shutdown once
// drained, Close, a failure, the lifetime's end) waits for its workers'
// goodbyes after sending each one KILL over its link. Applies to NewPool.
// Default: DefaultKillTimeout.
func WithKillTimeout(d time.Duration) Option {
	return option{"WithKillTimeout", forPool, func(o *options) {
		if d < 0 {
			o.fail("kill timeout %v", d)
		}
		o.killTimeout = d
	}}
}

// WithEvents makes a pool report its workers joining, leaving and dying
// on ch, whose element type must match the pool's Task type (NewPool
// fails with ErrInvalidOption otherwise). The pool never waits for ch: an
// event that does not fit is dropped and counted in
// PoolStats.EventsDropped (every event is also logged). The pool never
// closes ch. Applies to NewPool. Default: none.
func WithEvents[Task any](ch chan<- PoolEvent[Task]) Option {
	return option{"WithEvents", forPool, func(o *options) {
		if ch == nil {
			o.fail("nil events channel")
		}
		o.events = ch
	}}
}

// WithWaitForWorkers makes Submit wait until n workers have registered
// (sent READY; local ones as well as remote ones) at the same time (the
// guide's syncpub/syncsub coordination). Without it the
// first worker to register gets the first tasks, though never more than
// its credit. Applies to NewPool. Default: 0, no wait.
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
