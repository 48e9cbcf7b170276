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
// If a's handler has ended (a.Done is closed), Listen opens nothing and
// fails with an error wrapping ErrNotEnforced and ErrAuthClosed. A nil a
// is an error wrapping zchan.ErrInvalidOption; a socket that cannot be
// opened, an error of zchan.OpenWith (context.Cause(ctx) if ctx is done
// before the socket is open).
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
	if err := a.Verify(ctx, kp.Public(), sock.Endpoints()...); err != nil {
		sock.Close()
		return nil, err
	}
	return sock, nil
}

// Verify proves that CURVE servers with public key serverPublic, bound to
// endpoints in a's Context, consult a: for each tcp or ipc endpoint, a
// DEALER with a fresh random key connects, and Verify waits for the
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
// answers for a's Context any more. An invalid serverPublic is an error
// wrapping ErrInvalidKey.
func (a *Authenticator) Verify(ctx context.Context, serverPublic string, endpoints ...string) error {
	if err := a.closedErr(); err != nil {
		return fmt.Errorf("secure: verify: %w: %w", ErrNotEnforced, err)
	}
	if err := CheckKey(serverPublic); err != nil {
		return err
	}
	for _, ep := range endpoints {
		target, ok := probeTarget(ep)
		if !ok {
			continue
		}
		if err := a.probe(ctx, serverPublic, target); err != nil {
			return fmt.Errorf("secure: probe %s: %w", ep, err)
		}
	}
	return nil
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

func (a *Authenticator) probe(ctx context.Context, serverPublic, target string) error {
	kp, err := NewKeyPair()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrProbe, err)
	}
	ctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	cli, mon, err := monitor.Open(ctx, a.zc, zchan.Dealer, zchan.Frames,
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
