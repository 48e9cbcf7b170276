package monitor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchan/zmqchan/zchan"
)

// Buffer is the capacity of the Events channel. Events that find it full
// are dropped and counted (Monitor.Dropped): the monitor never pushes back
// on libzmq, whose I/O thread sends the events with a blocking call, and
// never queues without bound (a connection storm makes events as fast as
// peers can connect). 256 holds the events of about 60 connections that
// come and go while the consumer is busy.
const Buffer = 256

// Sentinel errors.
var (
	// ErrNilContext reports an Open without a zchan.Context: the monitor
	// and the socket it watches must share one, and the process-wide
	// default context is never terminated.
	ErrNilContext = errors.New("monitor: nil context")
)

// errAbandoned is what the attach returns, on the watched socket's owner,
// once Open has returned: nobody sees it but the owner, which then closes
// the socket.
var errAbandoned = errors.New("monitor: open abandoned")

var seq atomic.Uint64

// Monitor delivers the connection events of one socket. It is safe for
// concurrent use. Its zero value is not usable: create one with Open. It
// cannot be reused after it ends.
type Monitor struct {
	events  chan Event // sent on and closed by run
	pair    *zchan.Socket[Event]
	detach  func() error // stops libzmq's monitor on the watched socket
	quit    chan struct{}
	done    chan struct{}
	once    sync.Once
	dropped atomic.Uint64
}

// Open opens a socket of type t in zc, with opts, as zchan.OpenWith does,
// and a Monitor of its connection events. The monitor is attached before
// any bind or connect, so no event is missed. zc must be the Context the
// socket is opened in; Open adds zchan.WithContext(zc) after opts, so a
// WithContext in opts is overridden.
//
// The monitor's reading end is a zchan PAIR socket in zc, connected to a
// unique inproc address before libzmq's monitor binds it. It ends when the
// watched socket ends (libzmq sends a final MONITOR_STOPPED event), when
// Close detaches it, or when zc is terminated, whichever comes first; it
// is not tied to ctx, because a reading end that went away while the
// watched socket lives would block libzmq's I/O thread on its next event.
//
// ctx bounds the opening only, as for zchan.OpenWith: once Open has
// returned, the socket lives until it is closed (or its Context is
// terminated), whatever happens to ctx. If ctx ends first, Open returns
// context.Cause(ctx) at once, unless the monitor was already attached: it
// then waits for the owner to finish the setup (the binds and connects
// that follow) and close the socket, which is prompt.
//
// On error the monitor is closed, and so is the socket, except that a
// WithSetup function of opts still running when ctx ended goes on; the
// socket's owner closes the socket when it returns, without attaching
// the monitor.
func Open[T any](ctx context.Context, zc *zchan.Context, t zchan.Type, codec zchan.Codec[T], opts ...zchan.Option) (*zchan.Socket[T], *Monitor, error) {
	if zc == nil {
		return nil, nil, ErrNilContext
	}
	addr := fmt.Sprintf("inproc://zmqchan.monitor.%d", seq.Add(1))
	m, err := start(zc, addr)
	if err != nil {
		return nil, nil, err
	}
	// The attach runs on the watched socket's owner, during its setup. If
	// ctx ends first, OpenWith returns at once while the owner goes on
	// with setup and only then closes the socket; libzmq would then send
	// the bind's or connect's event, with a blocking call on the owner, to
	// a reading end that is gone. So once Open has given up, the attach
	// refuses to run; and if it ran already, the reading end stays until
	// libzmq's MONITOR_STOPPED, which comes when the owner has closed the
	// socket.
	var mu sync.Mutex
	attached, abandoned := false, false
	attach := zchan.WithSetup(func(s *zmq.Socket) error {
		mu.Lock()
		defer mu.Unlock()
		if abandoned {
			return errAbandoned
		}
		if err := s.Monitor(addr, zmq.EVENT_ALL); err != nil {
			return err
		}
		attached = true
		return nil
	})
	opts = append(append(opts[:len(opts):len(opts)], attach), zchan.WithContext(zc))
	sock, err := zchan.OpenWith(ctx, t, codec, opts...)
	if err != nil {
		mu.Lock()
		abandoned = true
		wasAttached := attached
		mu.Unlock()
		if wasAttached {
			// The owner has closed the socket or is about to (setup
			// has no user function left to run after the attach), and
			// libzmq's final event ends the reading end; termination of
			// zc would too.
			<-m.done
		} else {
			m.shut() // no monitor is attached, and none will be
		}
		return nil, nil, err
	}
	m.detach = func() error {
		err := sock.Do(context.Background(), func(s *zmq.Socket) error { return s.Monitor("", 0) })
		if err != nil && sock.Err() != nil {
			return nil // the socket has ended, and its monitor with it
		}
		return err
	}
	return sock, m, nil
}

// start opens the reading end and its forwarding goroutine.
func start(zc *zchan.Context, addr string) (*Monitor, error) {
	// RCVHWM 0: libzmq's monitor socket sends with a blocking call from its
	// I/O thread, so its pipe to us must never be full; the goroutine below
	// keeps it drained, and drops instead of blocking.
	pair, err := zchan.OpenWith(context.Background(), zchan.Pair, zchan.Codec[Event](codec{}),
		zchan.WithContext(zc), zchan.WithName("monitor "+addr), zchan.WithRecvHWM(0),
		zchan.WithLinger(0), zchan.WithConnect(addr))
	if err != nil {
		return nil, fmt.Errorf("monitor: open reading end: %w", err)
	}
	m := &Monitor{
		events: make(chan Event, Buffer),
		pair:   pair,
		quit:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	go m.run()
	return m, nil
}

// run forwards events until libzmq's monitor stops, the reading end ends
// (context terminated), or shut is called.
func (m *Monitor) run() {
	defer close(m.done)
	defer close(m.events)
	defer m.pair.Close()
	for {
		select {
		case ev, ok := <-m.pair.In():
			if !ok || ev.Kind == stopped {
				return
			}
			select {
			case m.events <- ev:
			default:
				m.dropped.Add(1)
			}
		case <-m.quit:
			return
		}
	}
}

// shut stops run without waiting for MONITOR_STOPPED; only for when
// libzmq's monitor is known to be gone.
func (m *Monitor) shut() {
	m.once.Do(func() { close(m.quit) })
	<-m.done
}

// Events returns the channel of events. It is closed when the watched
// socket has closed (after its last event), after Close, or when the
// Context is terminated. A consumer that falls Buffer events behind loses
// the newest ones; Dropped counts them.
func (m *Monitor) Events() <-chan Event { return m.events }

// Dropped returns how many events were dropped because Events was full.
func (m *Monitor) Dropped() uint64 { return m.dropped.Load() }

// Close detaches the monitor from the watched socket, if that is still
// open (the socket itself stays open), waits for libzmq's last event,
// closes Events and the reading end. Events still buffered in Events stay
// readable. Close is idempotent and safe for concurrent use; it blocks
// until the forwarding goroutine has exited, which is prompt because
// libzmq sends its final event while the detach call runs.
func (m *Monitor) Close() error {
	var err error
	if m.detach != nil {
		err = m.detach()
	}
	if err != nil {
		// libzmq's monitor may still be attached: keep the reading end
		// open rather than block libzmq's next event; it ends with the
		// socket or the context.
		return fmt.Errorf("monitor: detach: %w", err)
	}
	<-m.done
	return nil
}

// Done returns a channel closed when the monitor has ended.
func (m *Monitor) Done() <-chan struct{} { return m.done }
