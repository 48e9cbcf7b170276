package secure_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/secure"
	"github.com/zmqchan/zmqchan/zchan"
)

// curveTypes are the 11 socket types that carry CURVE (all but STREAM),
// each with a client type it accepts as a peer, the direction of a first
// message, and whether that message needs repeating: a subscriber misses
// what was published before its subscription reached the publisher.
var curveTypes = []struct {
	srv, cli   zchan.Type
	srvSends   bool
	subscriber zchan.Type // the SUB or XSUB end, if any
}{
	{srv: zchan.Req, cli: zchan.Router, srvSends: true},
	{srv: zchan.Rep, cli: zchan.Req},
	{srv: zchan.Dealer, cli: zchan.Dealer},
	{srv: zchan.Router, cli: zchan.Dealer},
	{srv: zchan.Pull, cli: zchan.Push},
	{srv: zchan.Push, cli: zchan.Pull, srvSends: true},
	{srv: zchan.Pub, cli: zchan.Sub, srvSends: true, subscriber: zchan.Sub},
	{srv: zchan.XPub, cli: zchan.Sub, srvSends: true, subscriber: zchan.Sub},
	{srv: zchan.Sub, cli: zchan.Pub, subscriber: zchan.Sub},
	{srv: zchan.XSub, cli: zchan.Pub, subscriber: zchan.XSub},
	{srv: zchan.Pair, cli: zchan.Pair},
}

// TestListenEveryType: Listen opens a CURVE server of each of the 11
// types, over tcp and ipc, proven to refuse a random key (one denial per
// endpoint), and an allowed client of a matching type talks to it; and
// Verify of a server of each type in a context without a handler reports
// ErrNotEnforced, not an inconclusive probe: the probe reached the
// verdict whatever the server's type. libzmq 4.3.4 drops a peer of a
// type the server does not accept during the handshake, so a probe of
// the wrong type can prove neither.
func TestListenEveryType(t *testing.T) {
	ctx := t.Context()
	zc := newContext(t)
	a := newAuth(t, zc)
	skp, ckp := newKeyPair(t), newKeyPair(t)
	if err := a.Allow(ckp.Public()); err != nil {
		t.Fatal(err)
	}
	for _, c := range curveTypes {
		t.Run(c.srv.String(), func(t *testing.T) {
			before := a.Stats()
			srv, err := secure.Listen(ctx, a, skp, c.srv, zchan.Frames,
				zchan.WithBind("tcp://127.0.0.1:*", testutil.IPC(t)), zchan.WithLinger(0))
			if err != nil {
				t.Fatalf("Listen %v: %v", c.srv, err)
			}
			defer srv.Close()
			if got := a.Stats().Denied - before.Denied; got != 2 {
				t.Errorf("%d denials, want 2 (one probe per endpoint)", got)
			}
			cli, err := zchan.Open(ctx, c.cli, zchan.WithContext(zc), zchan.WithLinger(0),
				secure.Client(ckp, skp.Public()), zchan.WithConnect(srv.Endpoints()[0]))
			if err != nil {
				t.Fatal(err)
			}
			defer cli.Close()
			talk(t, c.srvSends, c.subscriber, srv, cli)
			if got := a.Stats().Allowed - before.Allowed; got != 1 {
				t.Errorf("%d allowed, want 1", got)
			}
		})
	}

	other := newContext(t)
	for _, c := range curveTypes {
		srv, err := zchan.Open(ctx, c.srv, zchan.WithContext(other), secure.Server(skp),
			zchan.WithBind("tcp://127.0.0.1:*"), zchan.WithLinger(0))
		if err != nil {
			t.Fatal(err)
		}
		err = a.Verify(ctx, c.srv, skp.Public(), srv.Endpoints()...)
		srv.Close()
		if !errors.Is(err, secure.ErrNotEnforced) {
			t.Errorf("Verify of a %v server without handler: %v, want ErrNotEnforced", c.srv, err)
		}
	}
}

// talk sends one message from one end to the other and checks it
// arrives. With a subscriber at either end it subscribes to everything
// and repeats the message until one arrives, bounded by wait.
func talk(t *testing.T, srvSends bool, subscriber zchan.Type, srv, cli *zchan.Socket[zchan.Msg]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	from, to := cli, srv
	if srvSends {
		from, to = srv, cli
	}
	switch subscriber {
	case zchan.Sub:
		if err := to.Subscribe(ctx, ""); err != nil {
			t.Fatal(err)
		}
	case zchan.XSub:
		if err := to.Send(ctx, zchan.Msg{{1}}); err != nil { // subscribe to everything
			t.Fatal(err)
		}
	}
	if from.Type() == zchan.XPub {
		// The subscription's arrival is the sign that the client is in.
		m := recv(t, from, wait)
		if len(m) != 1 || len(m[0]) != 1 || m[0][0] != 1 {
			t.Fatalf("XPUB got %q, want a subscription", m)
		}
	}
	msg := zchan.NewMsg("hello")
	repeat := subscriber != 0 && from.Type() != zchan.XPub
	for {
		if err := from.Send(ctx, msg); err != nil {
			t.Fatalf("%v send: %v", from.Type(), err)
		}
		d := wait
		if repeat {
			d = 50 * time.Millisecond // a slow joiner's miss, not a failure
		}
		m, ok, timedOut := testutil.Recv(to.In(), d)
		switch {
		case ok:
			if got := string(m[len(m)-1]); got != "hello" {
				t.Fatalf("%v got %q", to.Type(), m)
			}
			return
		case !timedOut:
			t.Fatalf("%v ended: %v", to.Type(), to.Err())
		case !repeat || ctx.Err() != nil:
			t.Fatalf("%v: nothing from %v within %v", to.Type(), from.Type(), wait)
		}
	}
}
