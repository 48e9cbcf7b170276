//go:build linux

package secure

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"
)

// DefaultWatchdogInterval is how often a Watchdog looks at memory unless
// WatchdogConfig.Interval says otherwise. One look costs a mallinfo2 call
// (tens of microseconds), plus a scan of the process's descriptors when
// over the limit.
const DefaultWatchdogInterval = time.Second

// WatchdogConfig configures a Watchdog.
type WatchdogConfig struct {
	// Endpoints are the tcp endpoints of the sockets to guard, as
	// zchan.Socket.Endpoints returns them ("tcp://0.0.0.0:5555"). Only
	// connections accepted on these are ever disconnected.
	Endpoints []string
	// Limit is the memory, in bytes, above which the watchdog acts. It is
	// measured as the C heap in use (glibc's mallinfo2), where libzmq keeps
	// every message it buffers; with a libc that lacks mallinfo2, as the
	// process's resident set size. Required.
	Limit int64
	// Interval is how often memory is measured. Default:
	// DefaultWatchdogInterval.
	Interval time.Duration
	// Logger gets one warning per disconnect and one per episode over the
	// limit with nobody to disconnect. Default: no logging.
	Logger *zap.Logger
}

// Watchdog is the last resort against what Limits cannot bound: a peer
// that sends a multipart message that never ends, each frame under
// MaxMsgSize. libzmq buffers such a message until its last frame arrives,
// without limit, and a ZeroMQ socket has no call to drop one accepted
// peer. The watchdog measures memory every Interval; while it is over
// Limit, it shuts down, each turn, the tcp connection accepted on the
// guarded endpoints that has received the most bytes (TCP_INFO), and
// libzmq then frees everything that peer had pending.
//
// What it does not do: it cannot tell a hostile peer from an honest one
// that has sent more bytes over a longer life; it disconnects the
// biggest sender when memory is over the limit for any reason (including
// memory that is not libzmq's); a disconnected peer may reconnect (make
// it unwelcome with Authenticator.Revoke or SetIPDeny). It acts on
// libzmq's descriptors from outside libzmq: it only calls shutdown(2),
// never close(2), and checks the descriptor's addresses again just
// before, so that a descriptor closed and reused between the scan and the
// shutdown is not touched unless it is another connection to the same
// endpoint from the same peer address and port.
//
// A Watchdog is Linux only (it reads /proc/self/fd). It is safe for
// concurrent use; its zero value is not usable: create one with
// NewWatchdog. It cannot be reused after Close.
type Watchdog struct {
	cfg         WatchdogConfig
	log         *zap.Logger
	locals      []netip.AddrPort // a zero address means any address
	measure     func() int64
	disconnects atomic.Uint64
	quit        chan struct{}
	done        chan struct{}
	once        sync.Once
}

// NewWatchdog starts a watchdog, owned by the returned Watchdog: its one
// goroutine runs until Close. An invalid configuration (no Limit, a
// negative Interval, an endpoint that is not tcp with a port) is an error
// wrapping ErrWatchdog, as is a system without /proc/self/fd.
func NewWatchdog(cfg WatchdogConfig) (*Watchdog, error) {
	if cfg.Limit <= 0 || cfg.Interval < 0 || len(cfg.Endpoints) == 0 {
		return nil, fmt.Errorf("secure: watchdog limit %d, interval %v, %d endpoints: %w",
			cfg.Limit, cfg.Interval, len(cfg.Endpoints), ErrWatchdog)
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultWatchdogInterval
	}
	w := &Watchdog{cfg: cfg, log: cfg.Logger, measure: cHeap, quit: make(chan struct{}), done: make(chan struct{})}
	if w.log == nil {
		w.log = zap.NewNop()
	}
	if cHeap() < 0 {
		w.measure = rss
	}
	for _, ep := range cfg.Endpoints {
		ap, err := parseTCP(ep)
		if err != nil {
			return nil, err
		}
		w.locals = append(w.locals, ap)
	}
	if _, err := os.ReadDir("/proc/self/fd"); err != nil {
		return nil, fmt.Errorf("secure: watchdog: %w: %w", ErrWatchdog, err)
	}
	go w.run()
	return w, nil
}

func parseTCP(ep string) (netip.AddrPort, error) {
	rest, ok := strings.CutPrefix(ep, "tcp://")
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("secure: watchdog endpoint %q is not tcp: %w", ep, ErrWatchdog)
	}
	host, port, err := net.SplitHostPort(rest)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("secure: watchdog endpoint %q: %w: %w", ep, ErrWatchdog, err)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return netip.AddrPort{}, fmt.Errorf("secure: watchdog endpoint %q: port: %w", ep, ErrWatchdog)
	}
	var addr netip.Addr // zero: any
	if host != "*" && host != "0.0.0.0" && host != "::" {
		if addr, err = netip.ParseAddr(host); err != nil {
			return netip.AddrPort{}, fmt.Errorf("secure: watchdog endpoint %q: %w: %w", ep, ErrWatchdog, err)
		}
		addr = addr.Unmap()
	}
	return netip.AddrPortFrom(addr, uint16(p)), nil
}

// Disconnects returns how many connections the watchdog has shut down.
func (w *Watchdog) Disconnects() uint64 { return w.disconnects.Load() }

// Close stops the watchdog and waits for its goroutine. It is idempotent.
func (w *Watchdog) Close() error {
	w.once.Do(func() { close(w.quit) })
	<-w.done
	return nil
}

func (w *Watchdog) run() {
	defer close(w.done)
	t := time.NewTimer(w.cfg.Interval)
	defer t.Stop()
	over := false // an episode over the limit with nobody to disconnect
	for {
		select {
		case <-w.quit:
			return
		case <-t.C:
		}
		used := w.measure()
		if used <= w.cfg.Limit {
			over = false
		} else if !w.disconnectBiggest(used) && !over {
			over = true
			w.log.Warn("secure: memory over the watchdog limit, no guarded connection to drop",
				zap.Int64("used", used), zap.Int64("limit", w.cfg.Limit))
		}
		t.Reset(w.cfg.Interval)
	}
}

// conn is one accepted tcp connection on a guarded endpoint.
type conn struct {
	fd          int
	local, peer netip.AddrPort
	received    uint64
}

// disconnectBiggest shuts down the guarded connection that received the
// most bytes; it reports whether there was one.
func (w *Watchdog) disconnectBiggest(used int64) bool {
	var best conn
	found := false
	for _, c := range w.conns() {
		if !found || c.received > best.received {
			best, found = c, true
		}
	}
	if !found {
		return false
	}
	// The descriptor is libzmq's: check it is still the same connection
	// just before acting, and never close it.
	if c, ok := w.inspect(best.fd); !ok || c.local != best.local || c.peer != best.peer {
		return true
	}
	// Counted before the shutdown, so that whoever sees the peer gone
	// also sees the count.
	n := w.disconnects.Add(1)
	if err := unix.Shutdown(best.fd, unix.SHUT_RDWR); err != nil {
		w.disconnects.Add(^uint64(0))
		return true
	}
	w.log.Warn("secure: memory over the watchdog limit, peer disconnected",
		zap.Stringer("peer", best.peer), zap.Uint64("bytes_received", best.received),
		zap.Int64("used", used), zap.Int64("limit", w.cfg.Limit), zap.Uint64("disconnects", n))
	return true
}

// conns lists the accepted tcp connections on the guarded endpoints.
func (w *Watchdog) conns() []conn {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil
	}
	var out []conn
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if link, err := os.Readlink("/proc/self/fd/" + e.Name()); err != nil || !strings.HasPrefix(link, "socket:") {
			continue
		}
		if c, ok := w.inspect(fd); ok {
			out = append(out, c)
		}
	}
	return out
}

// inspect reads fd's addresses and bytes received; ok is false unless fd
// is a connected tcp socket on a guarded endpoint.
func (w *Watchdog) inspect(fd int) (conn, bool) {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return conn{}, false
	}
	local, ok := addrPort(sa)
	if !ok || !w.guarded(local) {
		return conn{}, false
	}
	pa, err := unix.Getpeername(fd)
	if err != nil {
		return conn{}, false // the listener itself
	}
	peer, ok := addrPort(pa)
	if !ok {
		return conn{}, false
	}
	info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		return conn{}, false
	}
	return conn{fd: fd, local: local, peer: peer, received: info.Bytes_received}, true
}

func (w *Watchdog) guarded(local netip.AddrPort) bool {
	for _, g := range w.locals {
		if g.Port() == local.Port() && (!g.Addr().IsValid() || g.Addr() == local.Addr()) {
			return true
		}
	}
	return false
}

func addrPort(sa unix.Sockaddr) (netip.AddrPort, bool) {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port)), true
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr).Unmap(), uint16(a.Port)), true
	}
	return netip.AddrPort{}, false
}
