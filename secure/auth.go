package secure

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/zmqchan/zmqchan/zchan"
)

// zapEndpoint is where libzmq looks for the ZAP handler of a context
// (RFC 27/ZAP). Only one socket per context can bind it.
const zapEndpoint = "inproc://zeromq.zap.01"

// Option configures an Authenticator. Build options with the With
// functions; the zero value is not usable.
type Option interface{ apply(*options) }

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

type options struct{ logger *zap.Logger }

// WithLogger logs each verdict (allowed or denied, with the client's
// public key, address and the reason; never a secret) at debug level, and
// handler failures at error level, among them the handler's end when it
// ends other than by Close. Default: no logging; nil means the same.
func WithLogger(l *zap.Logger) Option {
	return optionFunc(func(o *options) {
		if l == nil {
			l = zap.NewNop()
		}
		o.logger = l
	})
}

// AuthStats counts the verdicts of an Authenticator.
type AuthStats struct {
	// Allowed counts handshakes the handler let in.
	Allowed uint64
	// Denied counts handshakes the handler refused, including the probes
	// of Listen and Verify.
	Denied uint64
}

// Authenticator is the ZAP handler of one zchan.Context: libzmq asks it
// about every CURVE handshake of every socket in that context, and it
// answers from an allow list of client public keys and optional IP allow
// and deny lists. It denies CURVE clients by default: a new Authenticator
// lets none in until Allow is called. libzmq also asks it about the NULL
// peers of sockets with a ZAP domain (Limits.ZAPDomain): those it lets in
// by the IP lists alone, as NULL has no credentials to check. PLAIN it
// refuses.
//
// It runs in the same context as the sockets it protects, which is what
// pebbe/zmq4's AuthStart does not do (it serves only pebbe's default
// context, so a CURVE server in any other context lets every client in).
// libzmq allows one handler per context: a second NewAuthenticator for
// the same Context fails with ErrHandlerExists.
//
// Its handler ends on Close, when its Context is terminated, or on a
// fatal error of its socket. When it ends, libzmq has no handler to ask
// and lets in every client of a CURVE server still open in the context:
// Done and Err are how a program learns that the handler has ended, and
// why. An end other than by Close is also logged at error level (see
// WithLogger). From then on every method that changes or checks the
// lists, and Verify, fails with an error wrapping ErrAuthClosed.
//
// An Authenticator is safe for concurrent use; its lists can change at
// any time, and each handshake sees them as they are when libzmq asks.
// A change does not affect connections already authenticated. Its zero
// value is not usable: create one with NewAuthenticator. It cannot be
// reused after Close.
type Authenticator struct {
	zc   *zchan.Context
	sock *zchan.Socket[zchan.Msg]
	log  *zap.Logger

	mu    sync.RWMutex
	keys  map[string]struct{}
	allow []netip.Prefix
	deny  []netip.Prefix

	allowed, denied atomic.Uint64
	stop            context.CancelCauseFunc
	done            chan struct{} // closed by run when the handler has ended
	reason          error         // why it ended; written by run before done is closed
}

// NewAuthenticator binds the ZAP handler of zc and starts the goroutine
// that answers it. The handler runs until Close or until zc is
// terminated; it is not tied to a context.Context on purpose: a handler
// that goes away while CURVE servers still run in zc makes libzmq accept
// every client again. Close the servers first, then the Authenticator.
//
// A nil zc or Option is an error wrapping zchan.ErrInvalidOption; a zc
// that has a handler already, ErrHandlerExists; a terminated zc,
// zchan.ErrTerminated.
func NewAuthenticator(zc *zchan.Context, opts ...Option) (*Authenticator, error) {
	if zc == nil {
		return nil, fmt.Errorf("secure: nil context: %w", zchan.ErrInvalidOption)
	}
	o := options{logger: zap.NewNop()}
	for _, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("secure: nil option: %w", zchan.ErrInvalidOption)
		}
		opt.apply(&o)
	}
	sock, err := zchan.Open(context.Background(), zchan.Router,
		zchan.WithContext(zc), zchan.WithName("zap handler"), zchan.WithBind(zapEndpoint),
		zchan.WithLinger(0), zchan.WithLogger(o.logger))
	if err != nil {
		if errors.Is(err, zchan.ErrAddrInUse) {
			return nil, fmt.Errorf("%w: %w", ErrHandlerExists, err)
		}
		return nil, fmt.Errorf("secure: bind ZAP handler: %w", err)
	}
	ctx, stop := context.WithCancelCause(context.Background())
	a := &Authenticator{
		zc: zc, sock: sock, log: o.logger,
		keys: make(map[string]struct{}),
		stop: stop, done: make(chan struct{}),
	}
	go a.run(ctx)
	return a, nil
}

// Context returns the zchan.Context the Authenticator serves.
func (a *Authenticator) Context() *zchan.Context { return a.zc }

// Allow adds client public keys (Z85 text, 40 characters) to the allow
// list. If any key is invalid, none is added and the error wraps
// ErrInvalidKey. Once the handler has ended (Done is closed), Allow adds
// nothing and fails with an error wrapping ErrAuthClosed.
func (a *Authenticator) Allow(keys ...string) error {
	if err := a.ended("allow"); err != nil {
		return err
	}
	for _, k := range keys {
		if err := CheckKey(k); err != nil {
			return err
		}
	}
	a.mu.Lock()
	for _, k := range keys {
		a.keys[k] = struct{}{}
	}
	a.mu.Unlock()
	return nil
}

// Revoke removes client public keys from the allow list. Invalid keys are
// refused as by Allow. Connections already authenticated stay up. Once
// the handler has ended, Revoke fails with an error wrapping
// ErrAuthClosed.
func (a *Authenticator) Revoke(keys ...string) error {
	if err := a.ended("revoke"); err != nil {
		return err
	}
	for _, k := range keys {
		if err := CheckKey(k); err != nil {
			return err
		}
	}
	a.mu.Lock()
	for _, k := range keys {
		delete(a.keys, k)
	}
	a.mu.Unlock()
	return nil
}

// SetIPAllow replaces the IP allow list: when it is not empty, only
// clients whose address matches one of its entries (an IP address such as
// "10.0.0.7" or a CIDR prefix such as "10.0.0.0/8") get to the key check.
// No entries clears the list. If any entry is invalid, the list is left
// as it was and the error wraps ErrInvalidAddress. Once the handler has
// ended, SetIPAllow fails with an error wrapping ErrAuthClosed.
func (a *Authenticator) SetIPAllow(entries ...string) error {
	if err := a.ended("set IP allow list"); err != nil {
		return err
	}
	p, err := parsePrefixes(entries)
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.allow = p
	a.mu.Unlock()
	return nil
}

// SetIPDeny replaces the IP deny list: clients whose address matches one
// of its entries are refused, whatever their key. It is checked before the
// allow list. Entries and errors are as for SetIPAllow.
func (a *Authenticator) SetIPDeny(entries ...string) error {
	if err := a.ended("set IP deny list"); err != nil {
		return err
	}
	p, err := parsePrefixes(entries)
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.deny = p
	a.mu.Unlock()
	return nil
}

func parsePrefixes(entries []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(entries))
	for _, e := range entries {
		if strings.Contains(e, "/") {
			p, err := netip.ParsePrefix(e)
			if err != nil {
				return nil, fmt.Errorf("secure: %q: %w: %w", e, ErrInvalidAddress, err)
			}
			out = append(out, p.Masked())
			continue
		}
		ip, err := netip.ParseAddr(e)
		if err != nil {
			return nil, fmt.Errorf("secure: %q: %w: %w", e, ErrInvalidAddress, err)
		}
		ip = ip.Unmap()
		out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
	}
	return out, nil
}

// Stats returns the verdicts so far. Safe to call at any time, also after
// the handler has ended (the counts are then final).
func (a *Authenticator) Stats() AuthStats {
	return AuthStats{Allowed: a.allowed.Load(), Denied: a.denied.Load()}
}

// Close unbinds the handler and waits for its goroutine to exit. libzmq
// releases the handler's endpoint a moment later, when it reaps the
// socket; a handshake in between waits for an answer that never comes and
// fails after the handshake interval. From then on libzmq lets in every
// client of a CURVE server still open in the context (it has no handler
// to ask): close those servers first. Close is idempotent and safe for
// concurrent use; an error is libzmq's from closing the socket, wrapping
// ErrLibzmq. Close does not change Err once the handler has ended for
// another reason.
func (a *Authenticator) Close() error {
	a.stop(ErrAuthClosed)
	err := a.sock.Close()
	<-a.done
	if err != nil {
		return fmt.Errorf("secure: close ZAP handler: %w: %w", ErrLibzmq, err)
	}
	return nil
}

// Done returns a channel that is closed when the handler's goroutine has
// ended, for whatever reason (Close, the Context's termination, a fatal
// error); Err then says why. Once it is closed, nothing answers libzmq's
// ZAP requests in the Context: see Close for what that means for CURVE
// servers still open there.
func (a *Authenticator) Done() <-chan struct{} { return a.done }

// Err returns nil while the handler runs, and once Done is closed, why it
// ended: ErrAuthClosed after Close, an error wrapping
// zchan.ErrTerminated after the Context's termination, or the error that
// ended its socket. It does not change after Done is closed.
func (a *Authenticator) Err() error {
	select {
	case <-a.done:
		return a.reason
	default:
		return nil
	}
}

// ended returns, once the handler has ended, an error for op wrapping
// ErrAuthClosed (and the reason, when it is not Close); nil before.
func (a *Authenticator) ended(op string) error {
	if err := a.closedErr(); err != nil {
		return fmt.Errorf("secure: %s: %w", op, err)
	}
	return nil
}

// closedErr returns ErrAuthClosed, or ErrAuthClosed wrapped with the
// reason when it is not Close, once the handler has ended; nil before.
func (a *Authenticator) closedErr() error {
	select {
	case <-a.done:
	default:
		return nil
	}
	if a.reason == ErrAuthClosed {
		return ErrAuthClosed
	}
	return fmt.Errorf("%w: %w", ErrAuthClosed, a.reason)
}

// run answers ZAP requests until the socket ends or Close stops it, then
// records why and closes done.
func (a *Authenticator) run(ctx context.Context) {
	reason := a.serve(ctx)
	// After Close the reason is ErrAuthClosed, unless the Context's
	// termination ended the socket first.
	if context.Cause(ctx) != nil && !errors.Is(reason, zchan.ErrTerminated) {
		reason = ErrAuthClosed
	}
	if reason == nil { // an ended zchan socket has a reason; Err must not be nil
		reason = fmt.Errorf("secure: ZAP handler ended: %w", zchan.ErrClosed)
	}
	if reason != ErrAuthClosed {
		// Nobody called Close, so nobody is waiting for an error: the log
		// is the one place to say it, besides Done and Err.
		a.log.Error("secure: ZAP handler ended without Close: nothing authenticates CURVE clients in its context",
			zap.Error(reason))
	}
	// A reply that failed while the socket lives (not seen: a ROUTER send
	// fails only when the socket ends) leaves the socket bound and
	// unread, on purpose: handshakes then wait and fail after the
	// handshake interval, whereas an unbound handler would let every
	// client in. Close unbinds it.
	a.reason = reason
	close(a.done)
}

// serve answers ZAP requests until the socket ends or a reply cannot be
// sent, and returns why.
func (a *Authenticator) serve(ctx context.Context) error {
	for req := range a.sock.In() {
		reply, ok := a.answer(req)
		if !ok {
			continue
		}
		// A ROUTER never blocks a send (it drops what it cannot route),
		// so this returns promptly; it fails only when the socket ends
		// or Close cancels ctx.
		if err := a.sock.Send(ctx, reply); err != nil {
			if serr := a.sock.Err(); serr != nil {
				return serr
			}
			return err
		}
	}
	return a.sock.Err()
}

// answer builds the reply to one ZAP request. The request arrives as
// [peer, "", version, request id, domain, address, identity, mechanism,
// credentials...]; the reply is [peer, "", version, request id, status
// code, status text, user id, metadata]. ok is false for a message too
// short to answer, which libzmq never sends.
func (a *Authenticator) answer(req zchan.Msg) (zchan.Msg, bool) {
	if len(req) < 4 || len(req[1]) != 0 {
		a.log.Error("secure: malformed ZAP request", zap.Int("frames", len(req)))
		return nil, false
	}
	reply := func(code, text, user string) zchan.Msg {
		return zchan.Msg{req[0], nil, []byte("1.0"), req[3], []byte(code), []byte(text), []byte(user), nil}
	}
	if string(req[2]) != "1.0" || len(req) < 8 {
		a.denied.Add(1)
		a.log.Error("secure: ZAP request of an unknown version", zap.ByteString("version", req[2]))
		return reply("400", "bad ZAP request", ""), true
	}
	address, mechanism, creds := string(req[5]), string(req[7]), req[8:]
	key := ""
	if mechanism == "CURVE" && len(creds) == 1 && len(creds[0]) == 32 {
		key = z85Encode(creds[0])
	}
	ok, why := a.decide(address, mechanism, key)
	log := a.log.With(zap.String("mechanism", mechanism), zap.String("address", address),
		zap.String("key", key), zap.ByteString("domain", req[4]))
	if !ok {
		a.denied.Add(1)
		log.Debug("secure: denied", zap.String("reason", why))
		return reply("400", why, ""), true
	}
	a.allowed.Add(1)
	log.Debug("secure: allowed")
	return reply("200", "OK", key), true
}

// decide applies the lists: deny list, then allow list, then the key
// (CURVE) or nothing more (NULL).
func (a *Authenticator) decide(address, mechanism, key string) (bool, string) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if len(a.deny) > 0 || len(a.allow) > 0 {
		ip, err := netip.ParseAddr(address)
		if err != nil {
			return false, "address not an IP"
		}
		ip = ip.Unmap()
		for _, p := range a.deny {
			if p.Contains(ip) {
				return false, "address denied"
			}
		}
		if len(a.allow) > 0 && !containsIP(a.allow, ip) {
			return false, "address not allowed"
		}
	}
	switch mechanism {
	case "NULL":
		// libzmq asks about NULL only for a socket with a ZAP domain
		// (Limits.ZAPDomain), which has no credentials to check: a NULL
		// socket lets everyone in, so the IP lists are all there is.
		return true, ""
	case "CURVE":
	default:
		return false, "mechanism not supported"
	}
	if key == "" {
		return false, "malformed credentials"
	}
	if _, ok := a.keys[key]; !ok {
		return false, "key not allowed"
	}
	return true, ""
}

func containsIP(list []netip.Prefix, ip netip.Addr) bool {
	for _, p := range list {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
