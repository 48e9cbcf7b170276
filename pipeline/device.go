package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/zmqchan/zmqchan/zchan"
)

// Device is a running device: two sockets and one goroutine per direction
// moving whole messages (every frame, in order) from one to the other,
// like libzmq's zmq_proxy, but stoppable: it ends on Shutdown or Close,
// when its zchan.Context is terminated or the WithLifetime context ends,
// never stuck in a blocking call. Each direction pushes back: when the
// far side cannot take a message, the device stops reading the near side,
// down to its high-water mark.
//
// A Device is safe for concurrent use. Its zero value is not usable:
// create one with Queue, Forwarder or Streamer. It cannot be restarted.
type Device struct {
	name    string
	front   *zchan.Socket[zchan.Msg]
	back    *zchan.Socket[zchan.Msg]
	capture *zchan.Socket[zchan.Msg]
	oneWay  bool
	log     *zap.Logger

	// ctx is the device's own: cancelled by Close, a failure, or the end
	// of the WithLifetime context. The constructor's only bounds the
	// opening.
	ctx       context.Context
	cancel    context.CancelCauseFunc
	pumps     sync.WaitGroup
	drainer   sync.WaitGroup
	drainReq  chan struct{} // closed by Shutdown
	drainOnce sync.Once
	stopTake  chan struct{} // closed by the drainer of a two-way device
	draining  atomic.Bool

	errOnce sync.Once
	err     error
	done    chan struct{}

	c           [2]counts // per direction: read off the source, written (forwarded), held
	undelivered atomic.Uint64
}

var deviceSeq atomic.Uint64

// Queue starts the guide's request-reply broker: a ROUTER on frontend for
// clients (REQ, DEALER) and a DEALER on backend for workers (REP, DEALER),
// forwarding requests to the workers fairly and replies back to the client
// whose envelope they carry. With backend on inproc and the workers'
// sockets in the same zchan.Context, it is the multithreaded server.
//
// An endpoint is bound, or connected if it starts with ">" (the ">" is
// removed); a tcp port of "*" picks a free port (Endpoints tells which).
// Queue returns when both sockets are ready, or with an error (zchan's
// for an endpoint, ErrInvalidOption, context.Cause(ctx) if ctx ends
// first), leaving nothing open. ctx bounds the opening only: the device
// runs until Shutdown or Close, a failure, its zchan.Context's termination
// or the end of the WithLifetime context. Applies: WithContext, WithName,
// WithLogger, WithLinger, WithLifetime, WithCapture.
func Queue(ctx context.Context, frontend, backend string, opts ...Option) (*Device, error) {
	return newDevice(ctx, "queue", zchan.Router, zchan.Dealer, frontend, backend, true, opts)
}

// Forwarder starts a pub-sub proxy: an XSUB on frontend, where publishers
// connect (or that connects to a publisher), and an XPUB on backend for
// subscribers. Messages go from frontend to backend and subscriptions from
// backend to frontend, so publishers filter at the source. Like any PUB,
// the XPUB drops messages for a subscriber that is slow or not yet there.
// Endpoints, options and lifetime are as for Queue.
func Forwarder(ctx context.Context, frontend, backend string, opts ...Option) (*Device, error) {
	return newDevice(ctx, "forwarder", zchan.XSub, zchan.XPub, frontend, backend, true, opts)
}

// Streamer starts a pipeline proxy: a PULL on frontend and a PUSH on
// backend, messages going one way. Endpoints, options and lifetime are as
// for Queue.
func Streamer(ctx context.Context, frontend, backend string, opts ...Option) (*Device, error) {
	return newDevice(ctx, "streamer", zchan.Pull, zchan.Push, frontend, backend, false, opts)
}

func endpointOpt(ep string) zchan.Option {
	if c, ok := strings.CutPrefix(ep, ">"); ok {
		return zchan.WithConnect(c)
	}
	return zchan.WithBind(ep)
}

func newDevice(ctx context.Context, kind string, ft, bt zchan.Type, fe, be string, both bool, opts []Option) (*Device, error) {
	o, err := newOptions(forDevice, opts)
	if err != nil {
		return nil, err
	}
	name := o.name
	if name == "" {
		name = fmt.Sprintf("%s#%d", kind, deviceSeq.Add(1))
	}
	dctx, cancel := context.WithCancelCause(lifetimeOf(&o))
	d := &Device{
		name: name, oneWay: !both, log: o.logger, ctx: dctx, cancel: cancel,
		drainReq: make(chan struct{}), stopTake: make(chan struct{}), done: make(chan struct{}),
	}
	abort := func(err error) (*Device, error) {
		for _, s := range []*zchan.Socket[zchan.Msg]{d.front, d.back, d.capture} {
			if s != nil {
				s.Close()
			}
		}
		cancel(err)
		return nil, err
	}
	if o.capture != "" {
		if d.capture, err = zchan.Open(ctx, zchan.Pub, o.sockOpts(name+".capture", endpointOpt(o.capture))...); err != nil {
			return abort(err)
		}
	}
	if d.back, err = zchan.Open(ctx, bt, o.sockOpts(name+".backend", endpointOpt(be))...); err != nil {
		return abort(err)
	}
	if d.front, err = zchan.Open(ctx, ft, o.sockOpts(name+".frontend", endpointOpt(fe))...); err != nil {
		return abort(err)
	}
	d.pumps.Add(1)
	go d.pump(d.front, d.back, &d.c[0])
	if both {
		d.pumps.Add(1)
		go d.pump(d.back, d.front, &d.c[1])
	}
	d.drainer.Add(1)
	go d.drain()
	go d.supervise()
	return d, nil
}

// pump moves messages from one socket to the other until the device ends,
// counting each in cn.
func (d *Device) pump(from, to *zchan.Socket[zchan.Msg], cn *counts) {
	defer d.pumps.Done()
	for {
		select {
		case <-d.stopTake:
			return
		default:
		}
		var m zchan.Msg
		var ok bool
		select {
		case m, ok = <-from.In():
		case <-d.stopTake:
			return
		case <-d.ctx.Done():
			return
		}
		if !ok {
			if !d.draining.Load() { // a drained Streamer's frontend ends so
				d.fail(fmt.Errorf("pipeline: %s: %s: %w", d.name, from.Name(), from.Err()))
			}
			return
		}
		cn.read.Add(1)
		if d.capture != nil {
			_ = d.capture.Send(d.ctx, m) // PUB: never waits for a subscriber
		}
		if err := to.Send(d.ctx, m); err != nil {
			cn.held.Add(1)
			if d.ctx.Err() == nil {
				d.fail(fmt.Errorf("pipeline: %s: %s: %w", d.name, to.Name(), err))
			}
			return
		}
		cn.written.Add(1)
	}
}

// drain is Shutdown's work: a one-way device shuts its frontend down,
// which hands the pump what libzmq had received and then ends the pump; a
// two-way device stops its pumps from taking new messages once each has
// forwarded the one it holds. Either way the sockets then close, handing
// on what was forwarded within the linger.
func (d *Device) drain() {
	defer d.drainer.Done()
	select {
	case <-d.drainReq:
	case <-d.ctx.Done():
		return
	}
	d.draining.Store(true)
	if d.oneWay {
		_ = d.front.Shutdown(d.ctx) // cut short by Close
	} else {
		close(d.stopTake)
	}
}

// supervise waits for the pumps, closes the sockets, settles the
// accounting and closes Done.
func (d *Device) supervise() {
	d.pumps.Wait()
	if d.ctx.Err() != nil {
		d.fail(context.Cause(d.ctx)) // a no-op after a failure or Close; the lifetime's cause
	} else {
		d.fail(fmt.Errorf("pipeline: %s: %w", d.name, ErrClosed)) // drained
	}
	d.drainer.Wait()
	var u uint64
	for i := range d.c {
		u += d.c[i].held.Load()
	}
	for _, s := range []*zchan.Socket[zchan.Msg]{d.front, d.back} {
		s.Close()
		u += s.Undelivered()
		for range s.In() { // left in its buffer: nobody reads it now
			u++
		}
	}
	if d.capture != nil {
		d.capture.Close() // copies are not counted
	}
	d.undelivered.Store(u)
	if u > 0 {
		d.log.Warn("pipeline: device ended with undelivered messages",
			zap.String("device", d.name), zap.Uint64("undelivered", u), zap.Error(d.err))
	}
	close(d.done)
}

func (d *Device) fail(err error) {
	d.errOnce.Do(func() { d.err = err })
	d.cancel(err)
}

// Name returns the device's name (WithName, or the kind and a number).
func (d *Device) Name() string { return d.name }

// Endpoints returns the frontend's and the backend's bound endpoints as
// libzmq resolved them (empty for a side that connects).
func (d *Device) Endpoints() (frontend, backend string) {
	first := func(s []string) string {
		if len(s) == 0 {
			return ""
		}
		return s[0]
	}
	return first(d.front.Endpoints()), first(d.back.Endpoints())
}

// Forwarded returns how many messages the device has moved, both
// directions together.
func (d *Device) Forwarded() uint64 { return d.c[0].written.Load() + d.c[1].written.Load() }

// DeviceStats are a Device's counters, per direction: Read the messages
// taken from the near socket, Written those handed to the far one
// (frontend to backend first, then back). Undelivered is Undelivered's
// figure: final once the device is done.
type DeviceStats struct {
	ReadForward, WrittenForward, ReadBack, WrittenBack, Undelivered uint64
}

// Stats returns the device's counters (metrics.ForGroup collects them).
// It is safe for concurrent use.
func (d *Device) Stats() DeviceStats {
	return DeviceStats{
		ReadForward: d.c[0].read.Load(), WrittenForward: d.c[0].written.Load(),
		ReadBack: d.c[1].read.Load(), WrittenBack: d.c[1].written.Load(),
		Undelivered: d.undelivered.Load(),
	}
}

// Shutdown stops the device gracefully: a Streamer forwards everything
// its frontend has already received (libzmq's queue included) and stops
// taking more; a Queue or Forwarder, whose sockets both send and receive,
// forwards the message each direction holds and stops taking new ones.
// Then the sockets close as for Close, handing on what was forwarded
// within the linger; messages received and not forwarded are counted in
// Undelivered. If ctx ends first, Shutdown closes the device at once
// (Close) and returns context.Cause(ctx). Otherwise it returns the error
// that had stopped the device, or nil. Shutdown waits until Done is
// closed; it is safe for concurrent use and may be called again, or after
// Close.
func (d *Device) Shutdown(ctx context.Context) error {
	d.drainOnce.Do(func() { close(d.drainReq) })
	select {
	case <-d.done:
		return d.result()
	case <-ctx.Done():
		d.Close()
		return context.Cause(ctx)
	}
}

// Close stops the device at once: both directions stop, each socket hands
// on what it holds within the linger and closes; what it cannot is counted
// in Undelivered. Close waits for that (about the linger at most) and
// returns nil, or the error that had stopped the device. It is idempotent
// and safe for concurrent use.
func (d *Device) Close() error {
	d.fail(fmt.Errorf("pipeline: %s: %w", d.name, ErrClosed))
	<-d.done
	return d.result()
}

func (d *Device) result() error {
	if errors.Is(d.err, ErrClosed) {
		return nil
	}
	return d.err
}

// Done returns a channel closed when the device has stopped, its sockets
// are closed and Undelivered is final.
func (d *Device) Done() <-chan struct{} { return d.done }

// Err returns why the device stopped (an error wrapping ErrClosed after
// Close or Shutdown, the WithLifetime context's cause, or a socket's
// failure), or nil while it runs.
func (d *Device) Err() error {
	select {
	case <-d.done:
		return d.err
	default:
		return nil
	}
}

// Undelivered returns how many messages the device received and could
// not hand on: held by a direction when it was cut off, left in a
// socket's buffers, or queued by libzmq for a socket when it closed
// (capture copies are not counted). Once Done is closed, the messages its
// two sockets received equal those they handed to libzmq plus
// Undelivered. It is final once Done is closed, and 0 before.
func (d *Device) Undelivered() uint64 { return d.undelivered.Load() }

// Progress returns a number that grows whenever the device moves a
// message: a shutdown coordinator watches it to see when the device has
// gone still.
func (d *Device) Progress() uint64 {
	return d.c[0].read.Load() + d.c[0].written.Load() + d.c[1].read.Load() + d.c[1].written.Load()
}
