package pipeline

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/zmqchan/zmqchan/zchan"
)

// Device is a running device: two sockets and one goroutine per direction
// moving whole messages (every frame, in order) from one to the other,
// like libzmq's zmq_proxy, but stoppable: it ends when its context is
// cancelled or Close is called, never stuck in a blocking call. Each
// direction pushes back: when the far side cannot take a message, the
// device stops reading the near side, down to its high-water mark.
//
// A Device is safe for concurrent use. Its zero value is not usable:
// create one with Queue, Forwarder or Streamer. It cannot be restarted.
type Device struct {
	name    string
	front   *zchan.Socket[zchan.Msg]
	back    *zchan.Socket[zchan.Msg]
	capture *zchan.Socket[zchan.Msg]
	log     *zap.Logger

	ctx    context.Context
	cancel context.CancelCauseFunc
	wg     sync.WaitGroup

	errOnce   sync.Once
	err       error
	closeOnce sync.Once
	closeErr  error
	done      chan struct{}

	forwarded   atomic.Uint64
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
// Queue returns when both sockets are ready, or with an error, leaving
// nothing open. Applies: WithContext, WithName, WithLogger,
// WithSocketOptions, WithLinger, WithCapture.
func Queue(ctx context.Context, frontend, backend string, opts ...Option) (*Device, error) {
	return newDevice(ctx, "queue", zchan.Router, zchan.Dealer, frontend, backend, true, opts)
}

// Forwarder starts a pub-sub proxy: an XSUB on frontend, where publishers
// connect (or that connects to a publisher), and an XPUB on backend for
// subscribers. Messages go from frontend to backend and subscriptions from
// backend to frontend, so publishers filter at the source. Like any PUB,
// the XPUB drops messages for a subscriber that is slow or not yet there.
// Endpoints and options are as for Queue.
func Forwarder(ctx context.Context, frontend, backend string, opts ...Option) (*Device, error) {
	return newDevice(ctx, "forwarder", zchan.XSub, zchan.XPub, frontend, backend, true, opts)
}

// Streamer starts a pipeline proxy: a PULL on frontend and a PUSH on
// backend, messages going one way. Endpoints and options are as for Queue.
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
	dctx, cancel := context.WithCancelCause(ctx)
	d := &Device{name: name, log: o.logger, ctx: dctx, cancel: cancel, done: make(chan struct{})}
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
		if d.capture, err = zchan.Open(dctx, zchan.Pub, o.sockOpts(name+".capture", endpointOpt(o.capture))...); err != nil {
			return abort(err)
		}
	}
	if d.back, err = zchan.Open(dctx, bt, o.sockOpts(name+".backend", endpointOpt(be))...); err != nil {
		return abort(err)
	}
	if d.front, err = zchan.Open(dctx, ft, o.sockOpts(name+".frontend", endpointOpt(fe))...); err != nil {
		return abort(err)
	}
	d.wg.Add(1)
	go d.pump(d.front, d.back)
	if both {
		d.wg.Add(1)
		go d.pump(d.back, d.front)
	}
	go func() {
		d.wg.Wait()
		for _, s := range []*zchan.Socket[zchan.Msg]{d.front, d.back, d.capture} {
			if s != nil {
				d.undelivered.Add(closeCount(s))
			}
		}
		d.fail(context.Cause(dctx))
		close(d.done)
	}()
	return d, nil
}

// pump moves messages from one socket to the other until the device ends.
func (d *Device) pump(from, to *zchan.Socket[zchan.Msg]) {
	defer d.wg.Done()
	for {
		var m zchan.Msg
		var ok bool
		select {
		case m, ok = <-from.In():
		case <-d.ctx.Done():
			return
		}
		if !ok {
			d.fail(fmt.Errorf("pipeline: %s: %s: %w", d.name, from.Name(), from.Err()))
			return
		}
		if d.capture != nil {
			_ = d.capture.Send(d.ctx, m) // PUB: never waits for a subscriber
		}
		if err := to.Send(d.ctx, m); err != nil {
			if d.ctx.Err() == nil {
				d.fail(fmt.Errorf("pipeline: %s: %s: %w", d.name, to.Name(), err))
			} else {
				d.undelivered.Add(1)
			}
			return
		}
		d.forwarded.Add(1)
	}
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
func (d *Device) Forwarded() uint64 { return d.forwarded.Load() }

// Close stops the device: both directions stop, each socket hands on what
// it holds within the linger and closes. Close waits for that (about the
// linger at most) and returns nil, or the error that had stopped the
// device. It is idempotent and safe for concurrent use.
func (d *Device) Close() error {
	d.closeOnce.Do(func() {
		d.fail(ErrClosed)
		<-d.done
		d.closeErr = d.err
		if d.closeErr == ErrClosed {
			d.closeErr = nil
		}
	})
	return d.closeErr
}

// Done returns a channel closed when the device has stopped and its
// sockets are closed.
func (d *Device) Done() <-chan struct{} { return d.done }

// Err returns why the device stopped (ErrClosed after Close, the
// context's cause, or a socket's failure), or nil while it runs.
func (d *Device) Err() error {
	select {
	case <-d.done:
		return d.err
	default:
		return nil
	}
}

// Undelivered returns how many messages the device's sockets held or had
// queued when they closed and could not hand on, plus one per direction
// that was cut off mid-forward. It is complete once Done is closed.
func (d *Device) Undelivered() uint64 { return d.undelivered.Load() }
