package zchan

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	zmq "github.com/pebbe/zmq4"
)

// Endpoints: checked here before libzmq sees them, bound and connected by
// the owner (at Open, and by the methods below), and kept in the socket's
// list of bound endpoints.

// checkEndpoint refuses what libzmq would refuse with a bare EINVAL (which
// says nothing of what is wrong) or, worse, take and misread: libzmq 4.3
// takes a tcp port of "-1" as 65535, "5999x" as 5999 and " 5" as 5, and
// wraps numbers above 65535 modulo 65536. Each refusal says what a correct
// endpoint looks like. Everything else about an endpoint is left to libzmq
// (endpointError classifies its answer).
func checkEndpoint(op, ep string) error {
	transport, rest, ok := strings.Cut(ep, "://")
	if !ok {
		hint := "endpoint needs a transport, e.g. tcp://" + ep
		if ep == "" || strings.Contains(ep, "/") {
			hint = "endpoint needs a transport: tcp://host:port, ipc:///path or inproc://name"
		}
		return hintErr(ErrBadEndpoint, nil, hint, "%s %q", op, ep)
	}
	if transport != "tcp" {
		return nil
	}
	host, port, ok := cutPort(rest)
	if !ok || host == "" {
		hint := "a tcp endpoint is tcp://host:port, e.g. tcp://" + orLocalhost(host) + ":5555"
		if op == "bind" {
			hint = "a tcp endpoint is tcp://host:port; tcp://*:5555 binds every interface, tcp://" + orLocalhost(host) + ":* a free port"
		}
		return hintErr(ErrBadEndpoint, nil, hint, "%s %q", op, ep)
	}
	if port == "*" {
		if op == "connect" {
			return hintErr(ErrBadEndpoint, nil, "connect needs the port number; * picks a port on bind only", "%s %q", op, ep)
		}
		return nil
	}
	if port == "" || strings.TrimLeft(port, "0123456789") != "" {
		return hintErr(ErrBadEndpoint, nil, fmt.Sprintf("port %q: a port is a number from 0 to 65535, or * on bind", port), "%s %q", op, ep)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n > 65535 {
		return hintErr(ErrBadEndpoint, nil, fmt.Sprintf("port %s: a port is a number from 0 to 65535, or * on bind", port), "%s %q", op, ep)
	}
	if n == 0 && op == "connect" {
		return hintErr(ErrBadEndpoint, nil, "nothing listens on port 0; 0, like *, picks a port on bind only", "%s %q", op, ep)
	}
	return nil
}

// cutPort splits a tcp address at its last colon (after an IPv6 address
// in brackets, if any).
func cutPort(addr string) (host, port string, ok bool) {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 || strings.LastIndexByte(addr, ']') > i {
		return addr, "", false
	}
	return addr[:i], addr[i+1:], true
}

func orLocalhost(host string) string {
	if host == "" {
		return "localhost"
	}
	return host
}

// endpointError classifies an error libzmq returned for op on ep.
func endpointError(op, ep string, err error) error {
	switch errnoOf(err) {
	case zmq.EADDRINUSE:
		return newErr(ErrAddrInUse, err, "%s %q", op, ep)
	case zmq.ETERM:
		return newErr(ErrTerminated, nil, "%s %q", op, ep)
	case zmq.EPROTONOSUPPORT:
		return hintErr(ErrBadEndpoint, err, "the transports are tcp, ipc, inproc and those libzmq was built with", "%s %q", op, ep)
	case zmq.Errno(syscall.ENOENT):
		if op == "unbind" {
			return quietErr(ErrBadEndpoint, err, "not bound there; Unbind takes an endpoint Bind returned or Endpoints lists", "%s %q", op, ep)
		}
		return quietErr(ErrBadEndpoint, err, "not connected there; Disconnect takes the endpoint given to Connect or WithConnect", "%s %q", op, ep)
	case zmq.Errno(syscall.ENODEV):
		return hintErr(ErrBadEndpoint, err, "not an address of this host, nor the name of one of its interfaces", "%s %q", op, ep)
	case zmq.Errno(syscall.EADDRNOTAVAIL):
		return hintErr(ErrBadEndpoint, err, "not an address of this host", "%s %q", op, ep)
	}
	return newErr(ErrBadEndpoint, err, "%s %q", op, ep)
}

// inprocBinds records which Context holds each bound inproc name, so that
// a connect to a name bound only in another Context (a connection that
// libzmq keeps pending forever, since inproc names are per context) fails
// at once and says why.
var inprocBinds = struct {
	sync.Mutex
	m map[string]map[*Context]int
}{m: map[string]map[*Context]int{}}

func addInproc(zc *Context, ep string) {
	inprocBinds.Lock()
	defer inprocBinds.Unlock()
	if inprocBinds.m[ep] == nil {
		inprocBinds.m[ep] = map[*Context]int{}
	}
	inprocBinds.m[ep][zc]++
}

func removeInproc(zc *Context, ep string) {
	inprocBinds.Lock()
	defer inprocBinds.Unlock()
	if m := inprocBinds.m[ep]; m != nil {
		if m[zc]--; m[zc] <= 0 {
			delete(m, zc)
		}
		if len(m) == 0 {
			delete(inprocBinds.m, ep)
		}
	}
}

// checkInproc refuses a connect to an inproc name bound in another Context
// and not in zc.
func checkInproc(zc *Context, ep string) error {
	if !strings.HasPrefix(ep, "inproc://") {
		return nil
	}
	inprocBinds.Lock()
	defer inprocBinds.Unlock()
	m := inprocBinds.m[ep]
	if len(m) == 0 || m[zc] > 0 {
		return nil
	}
	return hintErr(ErrBadEndpoint, nil, "it is bound in another zchan.Context; inproc connects only within one: open both sockets WithContext of the same Context",
		"connect %q", ep)
}

// boundEndpoint is one bind: what the caller asked for and what libzmq
// made of it (the port picked for "*").
type boundEndpoint struct{ asked, resolved string }

// bind binds the owner's socket to ep and records it; it runs on the owner.
func (s *Socket[T]) bind(sock *zmq.Socket, ep string) (string, error) {
	if err := checkEndpoint("bind", ep); err != nil {
		return "", err
	}
	if err := sock.Bind(ep); err != nil {
		return "", endpointError("bind", ep, err)
	}
	last, err := sock.GetLastEndpoint()
	if err != nil {
		last = ep
	}
	if strings.HasPrefix(ep, "inproc://") {
		addInproc(s.zc, ep)
	}
	s.epMu.Lock()
	s.endpoints = append(s.endpoints, boundEndpoint{ep, last})
	s.epMu.Unlock()
	return last, nil
}

// unbind undoes a bind to ep (as asked, or as resolved); it runs on the owner.
func (s *Socket[T]) unbind(sock *zmq.Socket, ep string) error {
	if err := sock.Unbind(ep); err != nil {
		return endpointError("unbind", ep, err)
	}
	s.epMu.Lock()
	defer s.epMu.Unlock()
	if i := slices.IndexFunc(s.endpoints, func(b boundEndpoint) bool { return b.resolved == ep || b.asked == ep }); i >= 0 {
		if strings.HasPrefix(ep, "inproc://") {
			removeInproc(s.zc, s.endpoints[i].resolved)
		}
		s.endpoints = slices.Delete(s.endpoints, i, i+1)
	}
	return nil
}

// forgetBinds drops the socket's inproc names from the registry when the
// socket closes.
func (s *Socket[T]) forgetBinds() {
	s.epMu.Lock()
	defer s.epMu.Unlock()
	for _, b := range s.endpoints {
		if strings.HasPrefix(b.resolved, "inproc://") {
			removeInproc(s.zc, b.resolved)
		}
	}
}

// connect connects the owner's socket to ep; it runs on the owner.
func (s *Socket[T]) connect(sock *zmq.Socket, ep string) error {
	if err := checkEndpoint("connect", ep); err != nil {
		return err
	}
	if err := checkInproc(s.zc, ep); err != nil {
		return err
	}
	if err := sock.Connect(ep); err != nil {
		return endpointError("connect", ep, err)
	}
	s.epMu.Lock()
	s.connects = append(s.connects, ep)
	s.epMu.Unlock()
	return nil
}

// Connects returns the endpoints the socket is connected to, as given to
// WithConnect or Connect, in that order, without those Disconnect removed.
// A shutdown.Group matches them to the Endpoints of its other sockets to
// find the links between them.
func (s *Socket[T]) Connects() []string {
	s.epMu.Lock()
	defer s.epMu.Unlock()
	return append([]string(nil), s.connects...)
}

// Endpoints returns the endpoints the socket is bound to, as libzmq
// resolved them (a tcp port of "*" shows the port picked), in the order
// they were bound (WithBind, then Bind), without those Unbind removed.
func (s *Socket[T]) Endpoints() []string {
	s.epMu.Lock()
	defer s.epMu.Unlock()
	eps := make([]string, len(s.endpoints))
	for i, b := range s.endpoints {
		eps[i] = b.resolved
	}
	return eps
}

// Bind binds the socket to ep while it is open, through the owner, and
// returns the endpoint as libzmq resolved it (the port picked for
// "tcp://host:*"), which Endpoints then lists. Errors are Open's for
// WithBind: ErrBadEndpoint (with a hint for the common mistakes),
// ErrAddrInUse, each wrapping libzmq's errno; the socket's end reason if
// it has ended. Bind blocks until the owner has bound, ctx ends (the bind
// may then still happen, and Endpoints shows it) or the socket ends. It is
// safe for concurrent use.
func (s *Socket[T]) Bind(ctx context.Context, ep string) (string, error) {
	resolved := make(chan string, 1) // the owner never blocks on it
	err := s.run(ctx, "bind", func(z *zmq.Socket) error {
		r, err := s.bind(z, ep)
		resolved <- r
		return err
	})
	if err != nil {
		return "", err
	}
	return <-resolved, nil
}

// Unbind stops listening on ep, an endpoint Bind returned or Endpoints
// lists (or the one given to WithBind or Bind), through the owner.
// Connections already accepted on it stay. libzmq closes the listener in
// its I/O thread after Unbind returns, so the address may be in use for a
// moment longer. It fails with ErrBadEndpoint
// (wrapping ENOENT) if the socket is not bound there. It blocks like Bind.
func (s *Socket[T]) Unbind(ctx context.Context, ep string) error {
	return s.run(ctx, "unbind", func(z *zmq.Socket) error { return s.unbind(z, ep) })
}

// Connect connects the socket to ep while it is open, through the owner.
// Connecting is asynchronous in ZeroMQ: Connect returns once libzmq has
// checked ep and started connecting; the peer need not be there yet. It
// validates ep as WithConnect does and returns ErrBadEndpoint (with a
// hint) for a malformed endpoint, an unknown transport, a tcp port that is
// missing, "*" or not a number from 0 to 65535, and an inproc name bound
// only in another Context. A tcp host name that cannot be resolved is not
// an error here: libzmq resolves it later, in its I/O thread, and retries
// every reconnect interval without telling the caller; a monitor on the
// socket sees the retries. It blocks like Bind.
func (s *Socket[T]) Connect(ctx context.Context, ep string) error {
	return s.run(ctx, "connect", func(z *zmq.Socket) error { return s.connect(z, ep) })
}

// Disconnect closes the connection to ep made by WithConnect or Connect
// (ep as given there), through the owner; what libzmq queued for that
// peer is dropped. It fails with ErrBadEndpoint (wrapping ENOENT) if the
// socket is not connected to ep. It blocks like Bind.
func (s *Socket[T]) Disconnect(ctx context.Context, ep string) error {
	return s.run(ctx, "disconnect", func(z *zmq.Socket) error {
		if err := z.Disconnect(ep); err != nil {
			return endpointError("disconnect", ep, err)
		}
		s.epMu.Lock()
		defer s.epMu.Unlock()
		if i := slices.Index(s.connects, ep); i >= 0 {
			s.connects = slices.Delete(s.connects, i, i+1)
		}
		return nil
	})
}
