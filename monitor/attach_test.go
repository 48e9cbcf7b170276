package monitor_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/monitor"
	"github.com/zmqchan/zmqchan/secure"
	"github.com/zmqchan/zmqchan/zchan"
)

const wait = 20 * time.Second // a hang detector, not a timing

func openSock(t *testing.T, typ zchan.Type, opts ...zchan.Option) *zchan.Socket[string] {
	t.Helper()
	s, err := zchan.OpenWith(t.Context(), typ, zchan.String, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func attach(t *testing.T, s *zchan.Socket[string]) *monitor.Monitor {
	t.Helper()
	m, err := monitor.Attach(t.Context(), s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	})
	return m
}

// TestAttachDefaultContext attaches to a socket already open and bound in
// zchan's default context, and follows its peer count through connects
// and a disconnect; closing the monitor leaves the socket working.
func TestAttachDefaultContext(t *testing.T) {
	ctx := t.Context()
	srv := openSock(t, zchan.Pull, zchan.WithBind("tcp://127.0.0.1:*"))
	ep := srv.Endpoints()[0]
	mon := attach(t, srv)
	if n := mon.Peers(); n != 0 {
		t.Fatalf("Peers() = %d before any connect", n)
	}
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if err := mon.WaitConnected(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitConnected with no peer: %v", err)
	}
	a := openSock(t, zchan.Push, zchan.WithConnect(ep))
	wctx, wcancel := context.WithTimeout(ctx, wait)
	defer wcancel()
	if err := mon.WaitConnected(wctx); err != nil {
		t.Fatalf("WaitConnected: %v", err)
	}
	b := openSock(t, zchan.Push, zchan.WithConnect(ep))
	if !testutil.Eventually(wait, func() bool { return mon.Peers() == 2 }) {
		t.Fatalf("Peers() = %d with two clients", mon.Peers())
	}
	a.Close()
	if !testutil.Eventually(wait, func() bool { return mon.Peers() == 1 }) {
		t.Fatalf("Peers() = %d after one client left", mon.Peers())
	}
	if err := mon.Close(); err != nil {
		t.Fatal(err)
	}
	if err := mon.WaitConnected(ctx); err != nil {
		t.Fatalf("WaitConnected on a closed monitor that had a peer: %v", err)
	}
	if err := b.Send(ctx, "still works"); err != nil {
		t.Fatal(err)
	}
	if got := testutil.MustRecv(t, srv.In(), wait, "a message after the monitor closed"); got != "still works" {
		t.Fatalf("got %q", got)
	}
	st := mon.Stats()
	if st.Handshakes != 2 || st.Disconnects != 1 || st.HandshakeFailures != 0 || st.Events == 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestPeersIgnoresFailedHandshakes: connections that are not ZMTP peers
// are never peers, and their disconnects take nothing from a real peer's
// count: an HTTP request, which a CURVE server drops with a disconnect and
// no handshake failure event (so totals of handshakes, failures and
// disconnects would not do), and a greeting cut short, which fails the
// handshake at the handshake interval.
func TestPeersIgnoresFailedHandshakes(t *testing.T) {
	ctx := t.Context()
	zc := newContext(t)
	auth, err := secure.NewAuthenticator(zc)
	if err != nil {
		t.Fatal(err)
	}
	defer auth.Close()
	skp, err := secure.NewKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	ckp, err := secure.NewKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	if err := auth.Allow(ckp.Public()); err != nil {
		t.Fatal(err)
	}
	srv := openSock(t, zchan.Pull, zchan.WithContext(zc), secure.Server(skp), zchan.WithBind("tcp://127.0.0.1:*"),
		zchan.WithSetup(func(s *zmq.Socket) error { return s.SetHandshakeIvl(200 * time.Millisecond) }))
	mon := attach(t, srv)
	ep := srv.Endpoints()[0]
	openSock(t, zchan.Push, zchan.WithContext(zc), secure.Client(ckp, skp.Public()), zchan.WithConnect(ep))
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if err := mon.WaitConnected(wctx); err != nil {
		t.Fatalf("WaitConnected: %v (stats %+v)", err, mon.Stats())
	}
	greeting := []byte{0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f}
	for _, send := range [][]byte{[]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), greeting} {
		conn, err := net.Dial("tcp", strings.TrimPrefix(ep, "tcp://"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Write(send); err != nil {
			t.Fatal(err)
		}
		next(t, mon, monitor.Disconnected, wait)
		conn.Close()
		if n := mon.Peers(); n != 1 {
			t.Fatalf("Peers() = %d after a non-ZMTP connection came and went, want 1 (stats %+v)", n, mon.Stats())
		}
	}
	if st := mon.Stats(); st.Disconnects != 2 || st.Handshakes != 1 || st.HandshakeFailures != 1 {
		t.Errorf("stats %+v, want 1 handshake, 1 failure, 2 disconnects", st)
	}
}

// TestUnresolvableHost: a tcp connect to a host that does not resolve,
// or to a port nobody listens on, succeeds (libzmq resolves and connects
// in its I/O thread), and the monitor is where it shows: retries, never a
// connection, and WaitConnected waits on.
func TestUnresolvableHost(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "tcp://" + l.Addr().String()
	l.Close()
	for _, ep := range []string{"tcp://no-such-host.invalid:5555", closed} {
		t.Run(ep, func(t *testing.T) {
			s, mon, err := monitor.Open(t.Context(), nil, zchan.Push, zchan.String,
				zchan.WithReconnect(10*time.Millisecond, 0), zchan.WithConnect(ep))
			if err != nil {
				t.Fatalf("connect to %s: %v", ep, err)
			}
			defer s.Close()
			defer mon.Close()
			timer := time.NewTimer(wait)
			defer timer.Stop()
			for retries := 0; retries < 3; {
				select {
				case ev := <-mon.Events():
					switch ev.Kind {
					case monitor.ConnectRetried:
						retries++
					case monitor.Connected, monitor.HandshakeSucceeded:
						t.Fatalf("%s: %v", ep, ev)
					}
				case <-timer.C:
					t.Fatalf("no retry event within %v (stats %+v)", wait, mon.Stats())
				}
			}
			short, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
			defer cancel()
			if err := mon.WaitConnected(short); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("WaitConnected to %s: %v", ep, err)
			}
		})
	}
}

// TestAttachReplaces: a second Attach to the same socket stops the first
// monitor, and closing the first does not detach the second.
func TestAttachReplaces(t *testing.T) {
	ctx := t.Context()
	srv := openSock(t, zchan.Pull, zchan.WithBind("tcp://127.0.0.1:*"))
	first := attach(t, srv)
	second := attach(t, srv)
	if !testutil.Done(first.Done(), wait) {
		t.Fatal("the first monitor did not stop when a second attached")
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	openSock(t, zchan.Push, zchan.WithConnect(srv.Endpoints()[0]))
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if err := second.WaitConnected(wctx); err != nil {
		t.Fatalf("second monitor after the first closed: %v", err)
	}
}

// TestAttachErrors: an ended socket, a nil socket and a cancelled ctx;
// nothing is left open (goleak checks the goroutines, the Context's
// registry the sockets).
func TestAttachErrors(t *testing.T) {
	zc := newContext(t)
	s, err := zchan.OpenWith(t.Context(), zchan.Pull, zchan.String, zchan.WithContext(zc))
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancelCause(t.Context())
	cause := errors.New("gave up")
	cancel(cause)
	if _, err := monitor.Attach(cctx, s); !errors.Is(err, cause) {
		t.Fatalf("cancelled Attach: %v", err)
	}
	s.Close()
	if _, err := monitor.Attach(t.Context(), s); !errors.Is(err, zchan.ErrClosed) {
		t.Fatalf("Attach to a closed socket: %v", err)
	}
	if _, err := monitor.Attach[string](t.Context(), nil); !errors.Is(err, zchan.ErrInvalidOption) {
		t.Fatalf("Attach(nil): %v", err)
	}
	if open := zc.Sockets(); len(open) != 0 {
		t.Fatalf("left open: %v", open)
	}
}

// TestWaitConnectedStopped: the socket closes with no peer: WaitConnected
// returns ErrStopped.
func TestWaitConnectedStopped(t *testing.T) {
	s := openSock(t, zchan.Pull, zchan.WithBind("tcp://127.0.0.1:*"))
	mon := attach(t, s)
	errc := make(chan error, 1)
	go func() { errc <- mon.WaitConnected(context.Background()) }()
	s.Close()
	if err := testutil.MustRecv(t, errc, wait, "WaitConnected to return"); !errors.Is(err, monitor.ErrStopped) {
		t.Fatalf("WaitConnected on a monitor whose socket closed: %v", err)
	}
}
