package shutdown

import (
	"fmt"
	"time"

	"github.com/zmqchan/zmqchan/zchan"
	"go.uber.org/zap"
)

// Defaults for the options below. Each option's doc repeats its default.
const (
	// DefaultDrainTimeout bounds the drain: shutting down every stage in
	// order, from the start of shutdown.
	DefaultDrainTimeout = 5 * time.Second
	// DefaultTermTimeout bounds the termination of the zmq context after
	// the drain, and how long past its deadline the group waits for a
	// component's Shutdown. It is above zchan.DefaultLinger, the bound of
	// both for a zchan socket.
	DefaultTermTimeout = 3 * time.Second
	// DefaultSettle is how long the Progress of the components not yet
	// shut down must stay still, after a component's Shutdown returns,
	// before the next stage's turn: the time libzmq gets to hand what the
	// closed component queued to its peers downstream.
	DefaultSettle = 50 * time.Millisecond
)

// Option configures a Group at New. Options are applied in order, then
// validated; an invalid value makes New fail with an error wrapping
// ErrInvalidOption. Build options with the With functions.
type Option interface{ apply(*options) }

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

type options struct {
	drain    time.Duration
	term     time.Duration
	settle   time.Duration
	lossless bool
	logger   *zap.Logger
	zopts    []zchan.ContextOption
	err      error
}

func defaultOptions() options {
	return options{drain: DefaultDrainTimeout, term: DefaultTermTimeout, settle: DefaultSettle, lossless: true, logger: zap.NewNop()}
}

func (o *options) fail(format string, args ...any) {
	if o.err == nil {
		o.err = fmt.Errorf("%w: %s", ErrInvalidOption, fmt.Sprintf(format, args...))
	}
}

// WithDrainTimeout sets the drain deadline, counted from the start of
// shutdown: it is the deadline of the context every component's Shutdown
// gets, so a component still draining then stops at once (and counts what
// it abandons), and a function still running then is left to the
// termination, which ends any zchan socket it blocks on. Both are named
// in Wait's error (ErrDrainTimeout). Default: DefaultDrainTimeout (5s). It
// must be positive.
func WithDrainTimeout(d time.Duration) Option {
	return optionFunc(func(o *options) {
		if d <= 0 {
			o.fail("drain timeout %v: must be positive", d)
		}
		o.drain = d
	})
}

// WithTermTimeout bounds the termination of the zmq context (the watchdog
// on zmq_ctx_term), counted from the end of the drain. If it passes, Wait
// returns an error wrapping zchan.ErrTermTimeout that names what held the
// context. It also bounds how long past its deadline the group waits for
// a component's Shutdown to return (ErrStillRunning after that). Make it
// longer than the longest linger of the group's sockets. Default:
// DefaultTermTimeout (3s). It must be positive.
func WithTermTimeout(d time.Duration) Option {
	return optionFunc(func(o *options) {
		if d <= 0 {
			o.fail("term timeout %v: must be positive", d)
		}
		o.term = d
	})
}

// WithSettle sets how long the Progress of the components not yet shut
// down must stay still after a component's Shutdown returns before the
// next stage's turn. Zero goes on at once (messages libzmq still had
// queued are then counted as undelivered downstream over inproc, or lost
// invisibly over tcp). Default: DefaultSettle (50ms). It must not be
// negative.
func WithSettle(d time.Duration) Option {
	return optionFunc(func(o *options) {
		if d < 0 {
			o.fail("settle %v: must not be negative", d)
		}
		o.settle = d
	})
}

// WithLogger logs every step of shutdown (what, how long, how many
// messages undelivered) to l. Default: no logging; nil means the same.
func WithLogger(l *zap.Logger) Option {
	return optionFunc(func(o *options) {
		if l == nil {
			l = zap.NewNop()
		}
		o.logger = l
	})
}

// WithContextOptions passes opts to zchan.NewContext when New creates the
// group's zmq context (I/O threads, the socket limit). An invalid one
// makes New fail with an error wrapping ErrInvalidOption and
// zchan.ErrInvalidOption.
func WithContextOptions(opts ...zchan.ContextOption) Option {
	return optionFunc(func(o *options) { o.zopts = append(o.zopts, opts...) })
}

// WithLosslessDrain sets whether the group, when a socket that sends over
// a link to other sockets of the group (see Link) comes to its turn,
// first waits until the link's receivers have taken off libzmq everything
// the link's senders sent, before it shuts the socket down: so closing it
// drops nothing that was in libzmq's queues or the kernel's, whatever the
// linger, and the receivers, shut down later, hand it on or count it as
// undelivered. The wait is bounded by the drain deadline; it lasts as long
// as the receivers take to read what is in flight, which the HWMs
// (zchan.WithSendHWM, WithRecvHWM: 1000 each by default) and, over tcp,
// the kernel's socket buffers bound: keep them small where the receivers
// are slow (see the package doc). It costs nothing when nothing is in
// flight (one look at the counters). Off, the group shuts the socket down
// at once and what was in flight is lost when the sockets close, counted
// as lost in transit. Default: on.
func WithLosslessDrain(on bool) Option {
	return optionFunc(func(o *options) { o.lossless = on })
}
