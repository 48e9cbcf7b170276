package secure

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/zmqchan/zmqchan/monitor"
	"github.com/zmqchan/zmqchan/zchan"
)

// ProbeTimeout bounds each probe of Verify when its ctx has no earlier
// deadline. A probe on loopback takes about a millisecond; the bound is
// for a loaded machine.
const ProbeTimeout = 10 * time.Second

// Listen opens a CURVE server socket of type t in a's Context with kp,
// DefaultLimits, then opts (bind endpoints, and any option that overrides
// a default), and proves the Authenticator answers for it: for each tcp
// and ipc endpoint it binds, a client with a fresh random key must be
// refused (see Verify). If any probe is not refused, Listen closes the
// socket and returns an error wrapping ErrNotEnforced or ErrProbe; nothing
// is left open. Each probe counts as one denial in a's Stats and shows as
// one authentication failure among the server's connection events.
//
// Every socket type but STREAM can be a CURVE server; for a STREAM t
// (raw tcp, no handshake) Listen opens nothing and fails with an error
// wrapping ErrNotEnforced. If a's handler has ended (a.Done is closed),
// Listen opens nothing and fails with an error wrapping ErrNotEnforced
// and ErrAuthClosed. A nil a is an error wrapping zchan.ErrInvalidOption;
// a socket that cannot be opened, an error of zchan.OpenWith
// (context.Cause(ctx) if ctx is done before the socket is open).
//
// To watch the server's connection events, or to start from other
// Limits, open it yourself with the same pieces: monitor.Open (or
// zchan.OpenWith) with Limits.Options, Server(kp) and the bind options in
// a.Context(), then call a.Verify.
func Listen[T any](ctx context.Context, a *Authenticator, kp KeyPair, t zchan.Type, codec zchan.Codec[T], opts ...zchan.Option) (*zchan.Socket[T], error) {
	if a == nil {
		return nil, fmt.Errorf("secure: nil authenticator: %w", zchan.ErrInvalidOption)
	}
	if err := a.closedErr(); err != nil {
		return nil, fmt.Errorf("secure: listen: %w: %w", ErrNotEnforced, err)
	}
	if _, err := probeTypeFor(t); err != nil {
		return nil, err // STREAM, or not a type: nothing to secure or open
	}
	limits, err := DefaultLimits().Options()
	if err != nil {
		return nil, err
	}
	all := append(limits, opts...)
	all = append(all, Server(kp), zchan.WithContext(a.zc))
	sock, err := zchan.OpenWith(ctx, t, codec, all...)
	if err != nil {
		return nil, err
	}
	if err := a.Verify(ctx, t, kp.Public(), sock.Endpoints()...); err != nil {
		sock.Close()
		return nil, err
	}
	return sock, nil
}

// Verify proves that CURVE servers of type t with public key
// serverPublic, bound to endpoints in a's Context, consult a: for each tcp
// or ipc endpoint, a client with a fresh random key connects, of a type
// that t accepts as a peer (a ROUTER for REQ, a DEALER for REP, DEALER
// and ROUTER, PUSH for PULL, PULL for PUSH, SUB for PUB and XPUB, PUB
// for SUB and XSUB, PAIR for PAIR), and Verify waits for the
// handshake's outcome. A refusal by the ZAP handler is the proof; a
// handshake that succeeds means no handler answered (the server is in
// another context, or a has been closed) and yields ErrNotEnforced; any
// other outcome, or none within ProbeTimeout or before ctx ends, yields
// ErrProbe (wrapping context.Cause(ctx) if ctx ended), as does a probe
// that cannot be started. inproc endpoints are skipped: inproc has no
// handshake, so CURVE does not apply to it. A wildcard host (0.0.0.0, ::)
// is probed on loopback.
//
// If a's handler has ended (Done is closed), Verify probes nothing and
// fails with an error wrapping ErrNotEnforced and ErrAuthClosed: nothing
// answers for a's Context any more. A STREAM t fails with ErrNotEnforced
// too: a STREAM socket speaks raw tcp, with no handshake and no CURVE. An
// invalid serverPublic is an error wrapping ErrInvalidKey; a t that is
// not a socket type, zchan.ErrUnknownType.
func (a *Authenticator) Verify(ctx context.Context, t zchan.Type, serverPublic string, endpoints ...string) error {
	if err := a.closedErr(); err != nil {
		return fmt.Errorf("secure: verify: %w: %w", ErrNotEnforced, err)
	}
	probeType, err := probeTypeFor(t)
	if err != nil {
		return err
	}
	if err := CheckKey(serverPublic); err != nil {
		return err
	}
	for _, ep := range endpoints {
		target, ok := probeTarget(ep)
		if !ok {
			continue
		}
		if err := a.probe(ctx, probeType, serverPublic, target); err != nil {
			return fmt.Errorf("secure: probe %s: %w", ep, err)
		}
	}
	return nil
}

// probeTypeFor returns the socket type Verify probes a server of type t
// with: one that t accepts as a peer in the ZMTP handshake (RFC 28, 29,
// 30, 31), since libzmq drops a peer of another type during the
// handshake, which would hide the ZAP handler's verdict (with libzmq
// 4.3.4, a DEALER probe of a REQ, PUSH, PULL, PUB, SUB, XPUB, XSUB or
// PAIR server failed with "broken pipe"). REQ, REP, DEALER
// and ROUTER servers are probed by a ROUTER or a DEALER, PULL by PUSH and
// PUSH by PULL, PUB and XPUB by SUB, SUB and XSUB by PUB, PAIR by PAIR.
// A STREAM t is an error wrapping ErrNotEnforced (no CURVE on raw tcp);
// an unknown t, zchan.ErrUnknownType.
func probeTypeFor(t zchan.Type) (zchan.Type, error) {
	switch t {
	case zchan.Req:
		return zchan.Router, nil
	case zchan.Rep, zchan.Dealer, zchan.Router:
		return zchan.Dealer, nil
	case zchan.Pull:
		return zchan.Push, nil
	case zchan.Push:
		return zchan.Pull, nil
	case zchan.Pub, zchan.XPub:
		return zchan.Sub, nil
	case zchan.Sub, zchan.XSub:
		return zchan.Pub, nil
	case zchan.Pair:
		return zchan.Pair, nil
	case zchan.Stream:
		return 0, fmt.Errorf("secure: a STREAM socket speaks raw tcp, without CURVE: %w", ErrNotEnforced)
	}
	return 0, fmt.Errorf("secure: socket type %v: %w", t, zchan.ErrUnknownType)
}

// probeTarget maps a bound endpoint to one a client can connect to.
func probeTarget(ep string) (string, bool) {
	switch {
	case strings.HasPrefix(ep, "ipc://"):
		return ep, true
	case strings.HasPrefix(ep, "tcp://0.0.0.0:"):
		return "tcp://127.0.0.1:" + strings.TrimPrefix(ep, "tcp://0.0.0.0:"), true
	case strings.HasPrefix(ep, "tcp://[::]:"):
		return "tcp://[::1]:" + strings.TrimPrefix(ep, "tcp://[::]:"), true
	case strings.HasPrefix(ep, "tcp://"):
		return ep, true
	}
	return "", false
}

func (a *Authenticator) probe(ctx context.Context, t zchan.Type, serverPublic, target string) error {
	kp, err := NewKeyPair()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrProbe, err)
	}
	ctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	cli, mon, err := monitor.Open(ctx, a.zc, t, zchan.Frames,
		Client(kp, serverPublic), zchan.WithLinger(0), zchan.WithName("auth probe"),
		// One attempt is enough: no reconnect within the probe's bound.
		zchan.WithReconnect(time.Hour, 0), zchan.WithConnect(target))
	if err != nil {
		return fmt.Errorf("%w: open probe: %w", ErrProbe, err)
	}
	defer func() {
		cli.Close()
		mon.Close()
	}()
	for {
		select {
		case ev, ok := <-mon.Events():
			if !ok {
				return fmt.Errorf("%w: probe socket ended: %w", ErrProbe, cli.Err())
			}
			switch {
			case ev.Kind == monitor.HandshakeSucceeded:
				return fmt.Errorf("%w: a client with a random key was let in", ErrNotEnforced)
			case ev.Kind == monitor.HandshakeFailed && ev.Failure == monitor.FailureAuth:
				return nil
			case ev.Kind == monitor.HandshakeFailed, ev.Kind == monitor.Disconnected:
				return fmt.Errorf("%w: %v", ErrProbe, ev)
			}
		case <-ctx.Done():
			return fmt.Errorf("%w: no verdict: %w", ErrProbe, context.Cause(ctx))
		}
	}
}
