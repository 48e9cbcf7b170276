package secure_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/zmqchan/zmqchan/monitor"
	"github.com/zmqchan/zmqchan/secure"
	"github.com/zmqchan/zmqchan/zchan"
)

func TestKeyPair(t *testing.T) {
	other := newKeyPair(t)
	// A pair as text, as it would come from a configuration.
	pub2, sec2, err := zmq.NewCurveKeypair()
	if err != nil {
		t.Fatal(err)
	}
	bad := []struct{ name, pub, sec string }{
		{"mismatched", other.Public(), sec2},
		{"short public", pub2[:39], sec2},
		{"short secret", pub2, sec2[:39]},
		{"not z85", strings.Repeat("~", 40), sec2},
		{"overflow group", "%%%%%" + pub2[5:], sec2},
		{"empty", "", ""},
	}
	for _, c := range bad {
		_, err := secure.ParseKeyPair(c.pub, c.sec)
		if !errors.Is(err, secure.ErrInvalidKey) {
			t.Errorf("%s: %v, want ErrInvalidKey", c.name, err)
		}
		if err != nil && strings.Contains(err.Error(), sec2) {
			t.Errorf("%s: error quotes the secret key", c.name)
		}
	}
	good, err := secure.ParseKeyPair(pub2, sec2)
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(good)
	if err != nil {
		t.Fatal(err)
	}
	var fromJSON string
	if err := json.Unmarshal(js, &fromJSON); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprint(good), fmt.Sprintf("%+v", good), fmt.Sprintf("%#v", good), fromJSON} {
		if strings.Contains(s, sec2) {
			t.Errorf("formatted key pair shows the secret: %s", s)
		}
		if !strings.Contains(s, pub2) {
			t.Errorf("formatted key pair lacks the public key: %s", s)
		}
	}
}

func TestListsRefuseInvalidEntries(t *testing.T) {
	zc := newContext(t)
	a := newAuth(t, zc)
	kp := newKeyPair(t)
	if err := a.Allow(kp.Public(), "not a key"); !errors.Is(err, secure.ErrInvalidKey) {
		t.Fatalf("Allow: %v", err)
	}
	if err := a.Revoke("short"); !errors.Is(err, secure.ErrInvalidKey) {
		t.Fatalf("Revoke: %v", err)
	}
	for _, e := range []string{"10.0.0.0/33", "localhost", "", "1.2.3"} {
		if err := a.SetIPAllow("127.0.0.1", e); !errors.Is(err, secure.ErrInvalidAddress) {
			t.Errorf("SetIPAllow(%q): %v", e, err)
		}
		if err := a.SetIPDeny(e); !errors.Is(err, secure.ErrInvalidAddress) {
			t.Errorf("SetIPDeny(%q): %v", e, err)
		}
	}
	if _, err := secure.NewAuthenticator(zc); !errors.Is(err, secure.ErrHandlerExists) {
		t.Fatalf("second authenticator: %v", err)
	}
	if _, err := (secure.Limits{MaxMsgSize: -1}).Options(); !errors.Is(err, secure.ErrInvalidLimit) {
		t.Fatalf("negative limit: %v", err)
	}
	if _, err := (secure.Limits{HeartbeatTimeout: time.Second}).Options(); !errors.Is(err, secure.ErrInvalidLimit) {
		t.Fatalf("timeout without interval: %v", err)
	}
	_, err := zchan.Open(t.Context(), zchan.Router, zchan.WithContext(zc), secure.Server(secure.KeyPair{}))
	if !errors.Is(err, secure.ErrInvalidKey) || !errors.Is(err, zchan.ErrInvalidOption) {
		t.Fatalf("zero key pair: %v", err)
	}
	_, err = zchan.Open(t.Context(), zchan.Dealer, zchan.WithContext(zc), secure.Client(kp, "bad"))
	if !errors.Is(err, secure.ErrInvalidKey) {
		t.Fatalf("bad server key: %v", err)
	}
	// The lists were left as they were: nothing got in.
	if s := a.Stats(); s.Allowed != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// dial opens a monitored CURVE DEALER client in zc and returns it with
// its monitor; both are closed at cleanup.
func dial(t testing.TB, zc *zchan.Context, kp secure.KeyPair, serverPublic, ep string, opts ...zchan.Option) (*zchan.Socket[zchan.Msg], *monitor.Monitor) {
	t.Helper()
	opts = append([]zchan.Option{secure.Client(kp, serverPublic), zchan.WithConnect(ep), zchan.WithLinger(0)}, opts...)
	cli, mon, err := monitor.Open(context.Background(), zc, zchan.Dealer, zchan.Frames, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cli.Close()
		mon.Close()
	})
	return cli, mon
}

// TestAllowDenyRevoke: an allowed key talks, a random key is refused
// (seen on both sides as an authentication failure, nothing delivered),
// and a key revoked at run time is refused on its next handshake.
func TestAllowDenyRevoke(t *testing.T) {
	ctx := t.Context()
	zc := newContext(t)
	core, logs := observer.New(zapcore.DebugLevel)
	a := newAuth(t, zc, secure.WithLogger(zap.New(core)))
	skp, ckp := newKeyPair(t), newKeyPair(t)
	if err := a.Allow(ckp.Public()); err != nil {
		t.Fatal(err)
	}
	srv, smon := secureServer(t, a, skp, secure.DefaultLimits())
	ep := srv.Endpoints()[0]

	cli, _ := dial(t, zc, ckp, skp.Public(), ep)
	if err := cli.Send(ctx, zchan.NewMsg("hello")); err != nil {
		t.Fatal(err)
	}
	m := recv(t, srv, wait)
	if len(m) != 2 || string(m[1]) != "hello" {
		t.Fatalf("server got %q", m)
	}
	if err := srv.Send(ctx, zchan.Msg{m[0], []byte("world")}); err != nil {
		t.Fatal(err)
	}
	if r := recv(t, cli, wait); string(r[0]) != "world" {
		t.Fatalf("client got %q", r)
	}

	stranger := newKeyPair(t)
	bad, bmon := dial(t, zc, stranger, skp.Public(), ep)
	if err := bad.Send(ctx, zchan.NewMsg("let me in")); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, bmon, "client auth failure", authFailure); ev.Value != 400 {
		t.Fatalf("client saw %v", ev)
	}
	nextEvent(t, smon, "server auth failure", authFailure)
	bad.Close()

	if err := a.Revoke(ckp.Public()); err != nil {
		t.Fatal(err)
	}
	_, rmon := dial(t, zc, ckp, skp.Public(), ep)
	nextEvent(t, rmon, "revoked key refused", authFailure)

	// The first client, authenticated before the revocation, still talks.
	if err := cli.Send(ctx, zchan.NewMsg("still here")); err != nil {
		t.Fatal(err)
	}
	if m := recv(t, srv, wait); string(m[1]) != "still here" {
		t.Fatalf("server got %q", m)
	}
	select {
	case m := <-srv.In():
		t.Fatalf("a refused client's message was delivered: %q", m)
	default:
	}
	denied := logs.FilterMessage("secure: denied").FilterField(zap.String("key", stranger.Public()))
	if denied.Len() == 0 {
		t.Errorf("the refused key was not logged")
	}
	for _, e := range logs.All() {
		if strings.Contains(fmt.Sprint(e.ContextMap()), "secret") {
			t.Errorf("log entry mentions a secret: %v", e)
		}
	}
	t.Logf("authenticator: %+v", a.Stats())
}

// TestIPLists: the deny list beats an allowed key, and a non-empty allow
// list refuses addresses outside it.
func TestIPLists(t *testing.T) {
	zc := newContext(t)
	a := newAuth(t, zc)
	skp, ckp := newKeyPair(t), newKeyPair(t)
	if err := a.Allow(ckp.Public()); err != nil {
		t.Fatal(err)
	}
	srv, _ := secureServer(t, a, skp, secure.DefaultLimits())
	ep := srv.Endpoints()[0]
	cases := []struct {
		name        string
		allow, deny []string
		pass        bool
	}{
		{"denied network", nil, []string{"127.0.0.0/8"}, false},
		{"outside allow list", []string{"10.0.0.0/8"}, nil, false},
		{"inside allow list", []string{"10.0.0.0/8", "127.0.0.1"}, nil, true},
		{"deny beats allow", []string{"127.0.0.1"}, []string{"127.0.0.1"}, false},
		{"no lists", nil, nil, true},
	}
	for _, c := range cases {
		if err := a.SetIPAllow(c.allow...); err != nil {
			t.Fatal(err)
		}
		if err := a.SetIPDeny(c.deny...); err != nil {
			t.Fatal(err)
		}
		_, mon := dial(t, zc, ckp, skp.Public(), ep)
		ev := nextEvent(t, mon, "handshake outcome", func(ev monitor.Event) bool {
			return ev.Kind == monitor.HandshakeSucceeded || ev.Kind == monitor.HandshakeFailed
		})
		if got := ev.Kind == monitor.HandshakeSucceeded; got != c.pass {
			t.Errorf("%s: %v, want pass=%v", c.name, ev, c.pass)
		}
	}
}

// TestVerifyDetectsMissingHandler reproduces the hole of the issue: a
// CURVE server in a context without a ZAP handler lets a random key in.
// Verify must say so, and Listen must refuse to start.
func TestVerifyDetectsMissingHandler(t *testing.T) {
	zc, other := newContext(t), newContext(t)
	a := newAuth(t, zc)
	skp := newKeyPair(t)
	// A CURVE server in a context that has no handler.
	srv, err := zchan.Open(t.Context(), zchan.Router, zchan.WithContext(other), secure.Server(skp), zchan.WithBind("tcp://127.0.0.1:*"))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	err = a.Verify(t.Context(), zchan.Router, skp.Public(), srv.Endpoints()...)
	if !errors.Is(err, secure.ErrNotEnforced) {
		t.Fatalf("Verify of a server without handler: %v", err)
	}

	// Once the handler is closed, its own context is open to all: Listen
	// must refuse to start there. It knows without a probe (which, before
	// libzmq has reaped the closed handler's endpoint, would wait a
	// handshake interval for an answer that never comes).
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = secure.Listen(t.Context(), a, skp, zchan.Router, zchan.Frames, zchan.WithBind("tcp://127.0.0.1:*"))
	if !errors.Is(err, secure.ErrNotEnforced) || !errors.Is(err, secure.ErrAuthClosed) {
		t.Fatalf("Listen without a handler: %v", err)
	}
	if open := zc.Sockets(); len(open) != 0 {
		t.Fatalf("Listen left sockets open: %v", open)
	}
}

// TestListen opens a server the short way and talks to it.
func TestListen(t *testing.T) {
	ctx := t.Context()
	zc := newContext(t)
	a := newAuth(t, zc)
	skp, ckp := newKeyPair(t), newKeyPair(t)
	if err := a.Allow(ckp.Public()); err != nil {
		t.Fatal(err)
	}
	srv, err := secure.Listen(ctx, a, skp, zchan.Rep, zchan.String, zchan.WithBind("tcp://127.0.0.1:*"))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cli, err := zchan.OpenWith(ctx, zchan.Req, zchan.String, zchan.WithContext(zc),
		secure.Client(ckp, skp.Public()), zchan.WithConnect(srv.Endpoints()[0]))
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if err := cli.Send(ctx, "ping"); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, srv, wait); got != "ping" {
		t.Fatalf("server got %q", got)
	}
	if err := srv.Send(ctx, "pong"); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, cli, wait); got != "pong" {
		t.Fatalf("client got %q", got)
	}
	if s := a.Stats(); s.Allowed != 1 || s.Denied != 1 {
		t.Fatalf("stats %+v, want 1 allowed and 1 denied (the probe)", s)
	}
}

// TestNullMechanism: a NULL socket without a ZAP domain never asks the
// handler; with one, the handler lets NULL peers in subject to its IP
// lists (there are no credentials); PLAIN it refuses.
func TestNullMechanism(t *testing.T) {
	zc := newContext(t)
	a := newAuth(t, zc)
	domain := func(d string) zchan.Option {
		return zchan.WithSetup(func(s *zmq.Socket) error { return s.SetZapDomain(d) })
	}
	plainServer := zchan.WithSetup(func(s *zmq.Socket) error { return s.SetPlainServer(1) })
	plainClient := zchan.WithSetup(func(s *zmq.Socket) error {
		if err := s.SetPlainUsername("user"); err != nil {
			return err
		}
		return s.SetPlainPassword("password")
	})
	cases := []struct {
		name          string
		srv, cli      []zchan.Option
		deny          []string
		pass          bool
		asked, denied uint64
	}{
		{"NULL without domain", nil, nil, []string{"127.0.0.0/8"}, true, 0, 0},
		{"NULL with domain", []zchan.Option{domain("global")}, nil, nil, true, 1, 0},
		{"NULL with domain, address denied", []zchan.Option{domain("global")}, nil, []string{"127.0.0.0/8"}, false, 1, 1},
		{"NULL with DefaultLimits", nil, nil, nil, true, 1, 0},
		{"PLAIN", []zchan.Option{plainServer}, []zchan.Option{plainClient}, nil, false, 1, 1},
	}
	for _, c := range cases {
		if err := a.SetIPDeny(c.deny...); err != nil {
			t.Fatal(err)
		}
		opts := append([]zchan.Option{zchan.WithBind("tcp://127.0.0.1:*")}, c.srv...)
		if c.name == "NULL with DefaultLimits" {
			l, err := secure.DefaultLimits().Options()
			if err != nil {
				t.Fatal(err)
			}
			opts = append(opts, l...)
		}
		before := a.Stats()
		srv, mon, err := monitor.Open(context.Background(), zc, zchan.Router, zchan.Frames, opts...)
		if err != nil {
			t.Fatal(err)
		}
		cli, err := zchan.Open(context.Background(), zchan.Dealer, append([]zchan.Option{zchan.WithContext(zc),
			zchan.WithConnect(srv.Endpoints()[0]), zchan.WithLinger(0)}, c.cli...)...)
		if err != nil {
			t.Fatal(err)
		}
		ev := nextEvent(t, mon, "handshake outcome", func(ev monitor.Event) bool {
			return ev.Kind == monitor.HandshakeSucceeded || ev.Kind == monitor.HandshakeFailed
		})
		if passed := ev.Kind == monitor.HandshakeSucceeded; passed != c.pass {
			t.Errorf("%s: %v, want pass=%v", c.name, ev, c.pass)
		}
		after := a.Stats()
		asked := after.Allowed + after.Denied - before.Allowed - before.Denied
		if asked != c.asked || after.Denied-before.Denied != c.denied {
			t.Errorf("%s: stats %+v -> %+v, want %d verdicts, %d denied", c.name, before, after, c.asked, c.denied)
		}
		cli.Close()
		srv.Close()
		mon.Close()
	}
}

// TestAuthenticatorClosed: after Close, Done is closed, Err is
// ErrAuthClosed, every method that changes or checks the lists fails with
// ErrAuthClosed (Verify and Listen with ErrNotEnforced too), and nothing
// is logged at error level: Close is no failure.
func TestAuthenticatorClosed(t *testing.T) {
	zc := newContext(t)
	core, logs := observer.New(zapcore.ErrorLevel)
	a := newAuth(t, zc, secure.WithLogger(zap.New(core)))
	kp := newKeyPair(t)
	select {
	case <-a.Done():
		t.Fatal("Done closed while the handler runs")
	default:
	}
	if err := a.Err(); err != nil {
		t.Fatalf("Err while the handler runs: %v", err)
	}
	if err := a.Allow(kp.Public()); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	// Close waits for the handler's goroutine, so Done is closed already.
	select {
	case <-a.Done():
	default:
		t.Fatal("Done not closed when Close returned")
	}
	if err := a.Err(); err != secure.ErrAuthClosed {
		t.Fatalf("Err after Close: %v, want ErrAuthClosed", err)
	}
	calls := []struct {
		name        string
		call        func() error
		notEnforced bool
	}{
		{"Allow", func() error { return a.Allow(newKeyPair(t).Public()) }, false},
		{"Allow invalid key", func() error { return a.Allow("short") }, false},
		{"Revoke", func() error { return a.Revoke(kp.Public()) }, false},
		{"SetIPAllow", func() error { return a.SetIPAllow("127.0.0.1") }, false},
		{"SetIPAllow none", func() error { return a.SetIPAllow() }, false},
		{"SetIPDeny", func() error { return a.SetIPDeny("10.0.0.0/8") }, false},
		{"Verify", func() error { return a.Verify(t.Context(), zchan.Router, kp.Public(), "tcp://127.0.0.1:1") }, true},
		{"Listen", func() error {
			// Not even for a moment may Listen open a CURVE server that
			// nothing answers for: it would let any client in.
			opened := false
			s, err := secure.Listen(t.Context(), a, kp, zchan.Router, zchan.Frames, zchan.WithBind("tcp://127.0.0.1:*"),
				zchan.WithSetup(func(*zmq.Socket) error { opened = true; return nil }))
			if s != nil {
				s.Close()
			}
			if opened {
				t.Errorf("Listen after Close opened a server socket")
			}
			return err
		}, true},
	}
	for _, c := range calls {
		err := c.call()
		if !errors.Is(err, secure.ErrAuthClosed) {
			t.Errorf("%s after Close: %v, want ErrAuthClosed", c.name, err)
		}
		if c.notEnforced && !errors.Is(err, secure.ErrNotEnforced) {
			t.Errorf("%s after Close: %v, want ErrNotEnforced", c.name, err)
		}
	}
	if open := zc.Sockets(); len(open) != 0 {
		t.Errorf("sockets open after Close: %v", open)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := a.Err(); err != secure.ErrAuthClosed {
		t.Fatalf("Err after a second Close: %v", err)
	}
	if logs.Len() != 0 {
		t.Fatalf("Close logged at error level: %v", logs.All())
	}
}

// TestAuthenticatorEndsWithContext: terminating the zchan.Context ends
// the handler without Close. Done closes, Err wraps zchan.ErrTerminated,
// the end is logged at error level (nobody else is told that CURVE
// servers in the context would let every client in), the methods fail
// with ErrAuthClosed, and a later Close does not change Err.
func TestAuthenticatorEndsWithContext(t *testing.T) {
	zc, err := zchan.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zapcore.ErrorLevel)
	a, err := secure.NewAuthenticator(zc, secure.WithLogger(zap.New(core)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := zc.Term(ctx); err != nil {
		t.Fatal(err)
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-a.Done():
	case <-timer.C:
		t.Fatalf("Done not closed within %v of the context's termination", wait)
	}
	reason := a.Err()
	if !errors.Is(reason, zchan.ErrTerminated) || errors.Is(reason, secure.ErrAuthClosed) {
		t.Fatalf("Err after termination: %v, want zchan.ErrTerminated", reason)
	}
	err = a.Allow(newKeyPair(t).Public())
	if !errors.Is(err, secure.ErrAuthClosed) || !errors.Is(err, zchan.ErrTerminated) {
		t.Fatalf("Allow after termination: %v, want ErrAuthClosed and zchan.ErrTerminated", err)
	}
	if err := a.SetIPDeny("127.0.0.1"); !errors.Is(err, secure.ErrAuthClosed) {
		t.Fatalf("SetIPDeny after termination: %v, want ErrAuthClosed", err)
	}
	ended := logs.FilterMessageSnippet("ZAP handler ended").FilterLevelExact(zapcore.ErrorLevel)
	if ended.Len() != 1 {
		t.Fatalf("%d error-level logs of the handler's end, want 1; all: %v", ended.Len(), logs.All())
	}
	if err := a.Close(); err != nil {
		t.Fatalf("Close after termination: %v", err)
	}
	if err := a.Err(); err != reason {
		t.Fatalf("Err changed by Close: %v, was %v", err, reason)
	}
}
