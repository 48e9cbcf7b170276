package monitor

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
	// ErrStopped reports a WaitConnected on a monitor that has ended (its
	// socket closed, Close, a later Attach to the same socket, or the
	// termination of the Context) with no peer connected.
	ErrStopped = errors.New("monitor: stopped")
)

// errAbandoned is what the attach returns, on the watched socket's owner,
// once Open or Attach has given up: nobody sees it but the owner.
var errAbandoned = errors.New("monitor: attach abandoned")

var seq atomic.Uint64

// current is the monitor attached to each watched socket (keyed by the
// *zchan.Socket), so that Close detaches libzmq's monitor only if it is
// still this one's: libzmq has one monitor per socket, and a later Attach
// replaces the earlier.
var current sync.Map

// Monitor delivers the connection events of one socket and keeps count of
// its connected peers. It is safe for concurrent use. Its zero value is not
// usable: create one with Attach or Open. It cannot be reused after it
// ends.
type Monitor struct {
	events chan Event // sent on and closed by run
	pair   *zchan.Socket[Event]
	key    any          // the watched socket, in current; under mu
	detach func() error // stops libzmq's monitor on the watched socket
	quit   chan struct{}
	done   chan struct{}
	once   sync.Once

	mu      sync.Mutex
	ended   bool // run has exited; watch records nothing then
	st      Stats
	pending []uint32        // connections (descriptors) not handshaken yet, oldest first
	up      map[uint32]bool // connections handshaken and not disconnected
	// anonymous counts handshakes with no pending connection to credit.
	anonymous int
	changed   chan struct{} // closed and replaced when the peer count changes
}

// Stats counts what a monitor has seen. Every field is a count since the
// monitor started.
type Stats struct {
	// Events counts the events libzmq reported (MONITOR_STOPPED aside),
	// delivered on Events or dropped.
	Events uint64
	// Dropped counts the events dropped because Events was full.
	Dropped uint64
	// Handshakes counts the ZMTP handshakes that succeeded.
	Handshakes uint64
	// HandshakeFailures counts the handshakes that failed, for any reason.
	HandshakeFailures uint64
	// Disconnects counts the connections that ended while the socket
	// stayed open (libzmq's DISCONNECTED, which also follows each failed
	// handshake).
	Disconnects uint64
}

// Attach starts a monitor of the connection events of s, a socket that is
// already open, in whatever zchan.Context it is in (the default one
// included): the monitor's reading end is opened in s.Context(), and
// libzmq's monitor is attached from s's owner, through s.Do. It sees what
// happens from then on: to see the events of the socket's first binds and
// connects, open it without them, attach, then bind and connect (or use
// Open, which attaches during the opening).
//
// libzmq has one monitor per socket: attaching a second one to the same
// socket stops the first (its Events close, as when the socket closes).
//
// ctx bounds the attaching: if it ends before s's owner has attached the
// monitor, Attach returns context.Cause(ctx) and nothing is left behind;
// if the owner has attached it already, Attach returns the monitor. The
// monitor then lives until s ends, until Close, or until s's Context is
// terminated, whatever happens to ctx. Errors: those of s.Do (s has
// ended: its error), and libzmq's refusal, wrapped.
func Attach[T any](ctx context.Context, s *zchan.Socket[T]) (*Monitor, error) {
	if s == nil {
		return nil, fmt.Errorf("monitor: attach to a nil socket: %w", zchan.ErrInvalidOption)
	}
	addr := fmt.Sprintf("inproc://zmqchan.monitor.%d", seq.Add(1))
	m, err := start(ctx, s.Context(), addr)
	if err != nil {
		return nil, err
	}
	attach, abandon := attacher(addr)
	err = s.Do(ctx, attach)
	if err != nil {
		if abandon() {
			// The owner attached it just as ctx ended: the monitor is
			// there, and working.
			m.watch(s)
			return m, nil
		}
		m.shut()
		if ctx.Err() == nil {
			err = fmt.Errorf("monitor: attach to %s: %w", s.Name(), err)
		}
		return nil, err
	}
	m.watch(s)
	return m, nil
}

// attacher returns the function that attaches libzmq's monitor to addr,
// to run on the watched socket's owner, and abandon, which makes it refuse
// to run from then on and reports whether it ran already. A reading end
// that went away while libzmq's monitor is attached would block libzmq on
// its next event (it sends with a blocking call), so the caller shuts the
// reading end only if the attach never ran.
func attacher(addr string) (attach func(*zmq.Socket) error, abandon func() bool) {
	var mu sync.Mutex
	attached, abandoned := false, false
	attach = func(s *zmq.Socket) error {
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
	}
	abandon = func() bool {
		mu.Lock()
		defer mu.Unlock()
		abandoned = true
		return attached
	}
	return attach, abandon
}

// Open opens a socket of type t in zc, with opts, as zchan.OpenWith does,
// and a Monitor of its connection events. The monitor is attached during
// the opening, before any bind or connect, so no event is missed (Attach
// attaches to a socket that is open already). A nil zc means the default
// context of zchan, as for a socket opened without zchan.WithContext;
// otherwise Open adds zchan.WithContext(zc) after opts, so a WithContext
// in opts is overridden.
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
	addr := fmt.Sprintf("inproc://zmqchan.monitor.%d", seq.Add(1))
	m, err := start(ctx, zc, addr)
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
	attach, abandon := attacher(addr)
	opts = append(append(opts[:len(opts):len(opts)], zchan.WithSetup(attach)), zchan.WithContext(m.pair.Context()))
	sock, err := zchan.OpenWith(ctx, t, codec, opts...)
	if err != nil {
		if abandon() {
			// The owner has closed the socket or is about to (setup
			// has no user function left to run after the attach), and
			// libzmq's final event ends the reading end; termination of
			// the Context would too.
			<-m.done
		} else {
			m.shut() // no monitor is attached, and none will be
		}
		return nil, nil, err
	}
	m.watch(sock)
	return sock, m, nil
}

// watch records m as s's monitor, replacing an earlier one, and sets the
// detach Close uses.
func (m *Monitor) watch(s interface {
	Do(context.Context, func(*zmq.Socket) error) error
	Err() error
}) {
	m.mu.Lock()
	if !m.ended {
		m.key = s
		current.Store(s, m)
	}
	m.mu.Unlock()
	m.detach = func() error {
		if cur, ok := current.Load(s); !ok || cur != m {
			return nil // a later Attach replaced this monitor: libzmq stopped it
		}
		err := s.Do(context.Background(), func(z *zmq.Socket) error {
			if cur, _ := current.Load(s); cur != m {
				return nil // replaced meanwhile
			}
			return z.Monitor("", 0)
		})
		if err != nil && s.Err() != nil {
			return nil // the socket has ended, and its monitor with it
		}
		return err
	}
}

// start opens the reading end, in zc or (nil) the default context, and
// its forwarding goroutine.
func start(ctx context.Context, zc *zchan.Context, addr string) (*Monitor, error) {
	// RCVHWM 0: libzmq's monitor socket sends with a blocking call from its
	// I/O thread, so its pipe to us must never be full; the goroutine below
	// keeps it drained, and drops instead of blocking.
	opts := []zchan.Option{zchan.WithName("monitor " + addr), zchan.WithRecvHWM(0),
		zchan.WithLinger(0), zchan.WithConnect(addr)}
	if zc != nil {
		opts = append(opts, zchan.WithContext(zc))
	}
	pair, err := zchan.OpenWith(ctx, zchan.Pair, zchan.Codec[Event](codec{}), opts...)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, fmt.Errorf("monitor: open reading end: %w", err)
	}
	m := &Monitor{
		events:  make(chan Event, Buffer),
		pair:    pair,
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
		changed: make(chan struct{}),
		up:      make(map[uint32]bool),
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
	defer func() {
		m.mu.Lock()
		m.ended = true
		if m.key != nil {
			current.CompareAndDelete(m.key, m)
		}
		m.mu.Unlock()
	}()
	for {
		select {
		case ev, ok := <-m.pair.In():
			if !ok || ev.Kind == stopped {
				return
			}
			m.count(ev)
			select {
			case m.events <- ev:
			default:
				m.mu.Lock()
				m.st.Dropped++
				m.mu.Unlock()
			}
		case <-m.quit:
			return
		}
	}
}

// count updates the counters and the peer count with ev.
func (m *Monitor) count(ev Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	before := m.peers()
	m.st.Events++
	switch ev.Kind {
	case Accepted, Connected:
		m.pending = append(m.pending, ev.Value)
	case HandshakeSucceeded:
		m.st.Handshakes++
		// The event does not say which connection: the one pending
		// longest (exact when handshakes do not overlap).
		if len(m.pending) > 0 {
			m.up[m.pending[0]] = true
			m.pending = m.pending[1:]
		} else {
			m.anonymous++
		}
	case HandshakeFailed:
		m.st.HandshakeFailures++
	case Disconnected:
		m.st.Disconnects++
		switch fd := ev.Value; {
		case m.up[fd]:
			delete(m.up, fd)
		case slices.Contains(m.pending, fd):
			m.pending = slices.DeleteFunc(m.pending, func(p uint32) bool { return p == fd })
		case m.anonymous > 0:
			m.anonymous--
		}
	}
	if m.peers() != before {
		close(m.changed)
		m.changed = make(chan struct{})
	}
}

// peers is the number of connections whose handshake succeeded and that
// have not been disconnected since. libzmq's events name a connection by
// its descriptor on ACCEPTED, CONNECTED and DISCONNECTED, but not on
// HANDSHAKE_SUCCEEDED (its value is 0), and a connection whose handshake
// fails is disconnected with or without a HANDSHAKE_FAILED event (a
// non-ZMTP peer that sends an HTTP request gets none), so counting
// totals would not do: a handshake is credited to the connection that has
// waited longest for one, and a disconnect takes a peer away only if it
// ends a credited connection. m.mu must be held.
func (m *Monitor) peers() int { return len(m.up) + m.anonymous }

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
func (m *Monitor) Dropped() uint64 { return m.Stats().Dropped }

// Stats returns a snapshot of the monitor's counters.
func (m *Monitor) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.st
}

// Name returns the name of the monitor's reading end ("monitor
// inproc://zmqchan.monitor.N"), which names the monitor in metrics.
func (m *Monitor) Name() string { return m.pair.Name() }

// Peers returns the number of peers connected to the watched socket: the
// connections whose ZMTP handshake (authentication included) succeeded and
// that have not been disconnected since, as far as the events seen since
// the monitor started tell: a connection made before Attach is not
// counted, and, since libzmq's handshake event does not name the
// connection, while several handshakes are under way at once one that
// fails may be counted for a while in place of one that succeeded (the
// count is right again once those connections have ended). inproc
// connections make no events and are never counted. The count is kept whether or not Events is read, and it stops
// changing when the monitor ends. A peer counted here can carry messages:
// for a SUB, its subscriptions are on their way to the publisher.
func (m *Monitor) Peers() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.peers()
}

// WaitConnected blocks until at least one peer is connected (Peers() > 0),
// and returns nil at once if one is. It returns context.Cause(ctx) if ctx
// ends first, and an error wrapping ErrStopped if the monitor ends first.
// It is safe for concurrent use.
func (m *Monitor) WaitConnected(ctx context.Context) error {
	for {
		m.mu.Lock()
		n, changed := m.peers(), m.changed
		m.mu.Unlock()
		if n > 0 {
			return nil
		}
		select {
		case <-changed:
		case <-m.done:
			if m.Peers() > 0 {
				return nil
			}
			return fmt.Errorf("monitor: wait connected: %w", ErrStopped)
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

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
