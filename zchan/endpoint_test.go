package zchan_test

import (
	"encoding/binary"
	"errors"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/zchan"
)

// TestRuntimeEndpoints: Bind, Connect, Unbind and Disconnect on an open
// socket, through its owner, on every transport: Bind returns the endpoint
// as resolved (the port picked for tcp's "*"), Endpoints follows Bind and
// Unbind, messages flow over what Connect made, and an unbound tcp port is
// free again.
func TestRuntimeEndpoints(t *testing.T) {
	eachTransport(t, func(t *testing.T, zc *zchan.Context, tr testutil.Transport) {
		ctx := testContext(t, watchdog)
		pull := open(t, ctx, zchan.Pull, zchan.Frames, zchan.WithContext(zc))
		push := open(t, ctx, zchan.Push, zchan.Frames, zchan.WithContext(zc))
		if eps := pull.Endpoints(); len(eps) != 0 {
			t.Fatalf("Endpoints before any bind: %q", eps)
		}
		asked := tr.Bind(t)
		ep, err := pull.Bind(ctx, asked)
		if err != nil {
			t.Fatal(err)
		}
		if tr.Name == "tcp" && (strings.HasSuffix(ep, ":*") || !strings.HasPrefix(ep, "tcp://127.0.0.1:")) {
			t.Fatalf("Bind(%q) = %q, want the port picked", asked, ep)
		}
		if eps := pull.Endpoints(); len(eps) != 1 || eps[0] != ep {
			t.Fatalf("Endpoints after Bind: %q, want [%q]", eps, ep)
		}
		if err := push.Connect(ctx, ep); err != nil {
			t.Fatal(err)
		}
		if c := push.Connects(); len(c) != 1 || c[0] != ep {
			t.Fatalf("Connects after Connect: %q, want [%q]", c, ep)
		}
		if err := push.Send(ctx, zchan.NewMsg("one")); err != nil {
			t.Fatal(err)
		}
		if m := testutil.MustRecv(t, pull.In(), watchdog, "message over the run-time connection"); string(m[0]) != "one" {
			t.Fatalf("got %q", m)
		}
		if err := push.Disconnect(ctx, ep); err != nil {
			t.Fatal(err)
		}
		if c := push.Connects(); len(c) != 0 {
			t.Fatalf("Connects after Disconnect: %q, want none", c)
		}
		if err := push.Disconnect(ctx, ep); !errors.Is(err, zchan.ErrBadEndpoint) || !errors.Is(err, syscall.ENOENT) {
			t.Errorf("second Disconnect: %v, want ErrBadEndpoint wrapping ENOENT", err)
		}
		if err := pull.Unbind(ctx, ep); err != nil {
			t.Fatal(err)
		}
		if eps := pull.Endpoints(); len(eps) != 0 {
			t.Errorf("Endpoints after Unbind: %q", eps)
		}
		if err := pull.Unbind(ctx, ep); !errors.Is(err, zchan.ErrBadEndpoint) || !errors.Is(err, syscall.ENOENT) {
			t.Errorf("second Unbind: %v, want ErrBadEndpoint wrapping ENOENT", err)
		}
		// The endpoint is free again: another socket binds it, once libzmq's
		// I/O thread has closed the listener (Unbind does not wait for it).
		again := open(t, ctx, zchan.Pull, zchan.Frames, zchan.WithContext(zc))
		var bindErr error
		if !testutil.Eventually(watchdog, func() bool { _, bindErr = again.Bind(ctx, ep); return bindErr == nil }) {
			t.Errorf("bind %s after Unbind: %v", ep, bindErr)
		}
	})
}

// TestBindConcurrent: Endpoints may be read while Bind and Unbind run
// (under -race), and each Bind's endpoint is listed once.
func TestBindConcurrent(t *testing.T) {
	ctx := testContext(t, watchdog)
	zc := newContext(t)
	pull := open(t, ctx, zchan.Pull, zchan.Frames, zchan.WithContext(zc))
	const n = 8
	var wg sync.WaitGroup
	eps := make([]string, n)
	for i := range n {
		wg.Go(func() {
			ep, err := pull.Bind(ctx, "tcp://127.0.0.1:*")
			if err != nil {
				t.Error(err)
			}
			eps[i] = ep
			_ = pull.Endpoints()
		})
	}
	wg.Wait()
	if got := pull.Endpoints(); len(got) != n {
		t.Fatalf("Endpoints %q, want %d", got, n)
	}
	for _, ep := range eps {
		if err := pull.Unbind(ctx, ep); err != nil {
			t.Error(err)
		}
	}
	if got := pull.Endpoints(); len(got) != 0 {
		t.Errorf("Endpoints after Unbind of all: %q", got)
	}
}

// TestConnectUnresolvable documents what libzmq does with a host name it
// cannot resolve: zmq_connect checks only the syntax and resolves later,
// in its I/O thread, so Connect returns nil (see ErrBadEndpoint), and a
// monitor on the socket sees libzmq retry, never connect. Bind resolves at
// once and fails.
func TestConnectUnresolvable(t *testing.T) {
	const unresolvable = "tcp://no-such-host.invalid:5555"
	ctx := testContext(t, watchdog)
	zc := newContext(t)
	push := open(t, ctx, zchan.Push, zchan.Frames, zchan.WithContext(zc), zchan.WithReconnect(10*time.Millisecond, 0))
	if _, err := push.Bind(ctx, unresolvable); !errors.Is(err, zchan.ErrBadEndpoint) {
		t.Errorf("Bind to an unresolvable host: %v, want ErrBadEndpoint", err)
	}
	mon := testutil.Inproc(t)
	if err := push.Do(ctx, func(z *zmq.Socket) error {
		return z.Monitor(mon, zmq.EVENT_CONNECTED|zmq.EVENT_CONNECT_RETRIED)
	}); err != nil {
		t.Fatal(err)
	}
	events := open(t, ctx, zchan.Pair, zchan.Frames, zchan.WithContext(zc), zchan.WithConnect(mon))
	if err := push.Connect(ctx, unresolvable); err != nil {
		t.Errorf("Connect to an unresolvable host: %v; libzmq 4.3 reports nothing here (did it change? fix the doc of ErrBadEndpoint)", err)
	}
	for {
		m := testutil.MustRecv(t, events.In(), watchdog, "monitor event for the unresolvable host")
		ev := zmq.Event(binary.LittleEndian.Uint16(m[0]))
		if ev == zmq.EVENT_CONNECTED {
			t.Fatalf("monitor: connected to an unresolvable host (%q)", m[1])
		}
		if ev == zmq.EVENT_CONNECT_RETRIED && string(m[1]) == unresolvable {
			break
		}
	}
	// Stop the monitor before the sockets close.
	if err := push.Do(ctx, func(z *zmq.Socket) error { return z.Monitor("", 0) }); err != nil {
		t.Fatal(err)
	}
}

// TestInprocOtherContext: a connect to an inproc name bound in another
// Context fails at once and says so; once that socket is closed (or when
// this Context binds the name too), the name is free for a pending
// connect, as libzmq allows.
func TestInprocOtherContext(t *testing.T) {
	ctx := testContext(t, watchdog)
	zc, other := newContext(t), newContext(t)
	ep := testutil.Inproc(t)
	bound, err := zchan.Open(ctx, zchan.Pull, zchan.WithContext(other), zchan.WithBind(ep))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zchan.Open(ctx, zchan.Push, zchan.WithContext(zc), zchan.WithConnect(ep)); !errors.Is(err, zchan.ErrBadEndpoint) ||
		!strings.Contains(err.Error(), "another zchan.Context") {
		t.Errorf("connect across contexts: %v, want ErrBadEndpoint naming the cause", err)
	}
	here := open(t, ctx, zchan.Pull, zchan.Frames, zchan.WithContext(zc), zchan.WithBind(ep))
	push := open(t, ctx, zchan.Push, zchan.Frames, zchan.WithContext(zc), zchan.WithConnect(ep))
	if err := push.Send(ctx, zchan.NewMsg("x")); err != nil {
		t.Fatal(err)
	}
	testutil.MustRecv(t, here.In(), watchdog, "message within one context")
	if err := here.Unbind(ctx, ep); err != nil {
		t.Fatal(err)
	}
	if err := push.Connect(ctx, ep); !errors.Is(err, zchan.ErrBadEndpoint) {
		t.Errorf("connect with the name bound only in the other context again: %v", err)
	}
	if err := bound.Close(); err != nil {
		t.Fatal(err)
	}
	if err := push.Connect(ctx, ep); err != nil {
		t.Errorf("connect after the other context's socket closed: %v (a pending connect is allowed)", err)
	}
}

// TestEndpointMethodsAfterClose: the methods return the end reason.
func TestEndpointMethodsAfterClose(t *testing.T) {
	ctx := testContext(t, watchdog)
	s, err := zchan.Open(ctx, zchan.Pull, zchan.WithContext(newContext(t)))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := s.Bind(ctx, "tcp://127.0.0.1:*"); !errors.Is(err, zchan.ErrClosed) {
		t.Errorf("Bind after Close: %v", err)
	}
	if err := s.Connect(ctx, "tcp://127.0.0.1:1"); !errors.Is(err, zchan.ErrClosed) {
		t.Errorf("Connect after Close: %v", err)
	}
}
