package zchan_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/zchan"
)

// The tests in this file hold the owner to the one case where ZMQ_EVENTS'
// POLLOUT does not apply to the held message (see the loop's comment in
// owner.go): each reproduced a hang of the first version of the rewritten
// owner, found in review.

// TestCloseXPubNodrop: Close of an XPUB_NODROP (POLLOUT always set, EAGAIN
// at a subscriber's HWM) returns within about its linger, instead of
// spinning in the flush, and counts what it could not send.
func TestCloseXPubNodrop(t *testing.T) {
	zc := newContext(t)
	ctx := testContext(t, time.Minute)
	ep := testutil.Inproc(t)
	xpub, err := zchan.Open(ctx, zchan.XPub, zchan.WithContext(zc), zchan.WithBind(ep),
		zchan.WithSendHWM(1), zchan.WithLinger(100*time.Millisecond),
		zchan.WithSetup(func(s *zmq.Socket) error { return s.SetXpubNodrop(true) }))
	if err != nil {
		t.Fatal(err)
	}
	sub := open(t, ctx, zchan.Sub, zchan.Frames, zchan.WithContext(zc), zchan.WithConnect(ep),
		zchan.WithSubscribe(""), zchan.WithRecvHWM(1), zchan.WithRecvBuffer(0))
	// wait for the subscription
	select {
	case <-xpub.In():
	case <-time.After(5 * time.Second):
		t.Fatal("no subscription")
	}
	_ = sub
	sctx, cancel := context.WithCancel(ctx)
	go func() {
		for i := 0; ; i++ {
			if xpub.Send(sctx, zchan.Msg{[]byte(strconv.Itoa(i))}) != nil {
				return
			}
		}
	}()
	if !testutil.Eventually(5*time.Second, func() bool { return xpub.Stats().SendStalls > 0 }) {
		t.Fatal("never stalled")
	}
	done := make(chan error, 1)
	go func() { done <- xpub.Close() }()
	select {
	case err := <-done:
		t.Logf("Close returned %v; stats %+v", err, xpub.Stats())
		cancel()
		<-xpub.Done()
		checkAccounting(t, xpub.Name(), xpub.Stats())
	case <-time.After(5 * time.Second):
		cancel()
		t.Fatalf("Close did not return within 5s (linger 100ms); stats %+v", xpub.Stats())
	}
	cancel()
}

// TestRouterMandatoryTwoPeers: ROUTER_MANDATORY with two peers: POLLOUT
// is set (peer B has room) while the held message for A gets EAGAIN, and
// a turn's receive attempt may consume A's "room again" signal; every
// message must still reach A.
func TestRouterMandatoryTwoPeers(t *testing.T) {
	for _, tr := range testutil.Transports() {
		t.Run(tr.Name, func(t *testing.T) {
			zc := newContext(t)
			ctx := testContext(t, time.Minute)
			router := open(t, ctx, zchan.Router, zchan.Frames, zchan.WithContext(zc), zchan.WithBind(tr.Bind(t)),
				zchan.WithSendHWM(2), zchan.WithRecvHWM(2),
				zchan.WithSetup(func(s *zmq.Socket) error { return s.SetRouterMandatory(1) }))
			ep := router.Endpoints()[0]
			a := open(t, ctx, zchan.Dealer, zchan.Frames, zchan.WithContext(zc), zchan.WithConnect(ep),
				zchan.WithIdentity("A"), zchan.WithRecvHWM(2), zchan.WithRecvBuffer(0))
			b := open(t, ctx, zchan.Dealer, zchan.Frames, zchan.WithContext(zc), zchan.WithConnect(ep),
				zchan.WithIdentity("B"))
			// Both peers say hello so the router knows them.
			for _, p := range []*zchan.Socket[zchan.Msg]{a, b} {
				if err := p.Send(ctx, zchan.Msg{[]byte("hi")}); err != nil {
					t.Fatal(err)
				}
				<-router.In()
			}
			const n = 20000
			sent := make(chan int, 1)
			go func() {
				for i := range n {
					if err := router.Send(ctx, zchan.Msg{[]byte("A"), []byte(strconv.Itoa(i))}); err != nil {
						sent <- i
						return
					}
				}
				sent <- n
			}()
			for i := range n {
				select {
				case m := <-a.In():
					if string(m[0]) != strconv.Itoa(i) {
						t.Fatalf("got %q want %d", m, i)
					}
				case <-time.After(3 * time.Second):
					rs := router.Stats()
					t.Fatalf("A stalled at %d of %d; router stats %+v; router ZMQ_EVENTS %v; after the Do woke it: %v",
						i, n, rs, events(router), func() bool {
							select {
							case <-a.In():
								return true
							case <-time.After(time.Second):
								return false
							}
						}())
				}
			}
			<-sent
		})
	}
}

// TestRouterMandatoryInputWhileStuck: the router holds a message for A (A
// never reads) while B's messages come in one at a time: input must not
// wait behind the stuck output.
func TestRouterMandatoryInputWhileStuck(t *testing.T) {
	for _, tr := range testutil.Transports() {
		t.Run(tr.Name, func(t *testing.T) {
			zc := newContext(t)
			ctx := testContext(t, time.Minute)
			router := open(t, ctx, zchan.Router, zchan.Frames, zchan.WithContext(zc), zchan.WithBind(tr.Bind(t)),
				zchan.WithSendHWM(1), zchan.WithRecvBuffer(0),
				zchan.WithSetup(func(s *zmq.Socket) error { return s.SetRouterMandatory(1) }))
			ep := router.Endpoints()[0]
			a := open(t, ctx, zchan.Dealer, zchan.Frames, zchan.WithContext(zc), zchan.WithConnect(ep),
				zchan.WithIdentity("A"), zchan.WithRecvHWM(1), zchan.WithRecvBuffer(0))
			b := open(t, ctx, zchan.Dealer, zchan.Frames, zchan.WithContext(zc), zchan.WithConnect(ep),
				zchan.WithIdentity("B"))
			for _, p := range []*zchan.Socket[zchan.Msg]{a, b} {
				if err := p.Send(ctx, zchan.Msg{[]byte("hi")}); err != nil {
					t.Fatal(err)
				}
				<-router.In()
			}
			sctx, cancel := context.WithCancel(ctx)
			defer cancel()
			go func() {
				for i := 0; ; i++ {
					if router.Send(sctx, zchan.Msg{[]byte("A"), []byte(strconv.Itoa(i))}) != nil {
						return
					}
				}
			}()
			if !testutil.Eventually(5*time.Second, func() bool { return router.Stats().SendStalls > 0 }) {
				t.Fatal("never stalled")
			}
			const n = 5000
			for i := range n {
				if err := b.Send(ctx, zchan.Msg{[]byte(strconv.Itoa(i))}); err != nil {
					t.Fatal(err)
				}
				select {
				case m := <-router.In():
					if string(m[1]) != strconv.Itoa(i) {
						t.Fatalf("got %q want %d", m, i)
					}
				case <-time.After(3 * time.Second):
					t.Fatalf("B's message %d not received in 3s; router stats %+v; ZMQ_EVENTS %v", i, router.Stats(), events(router))
				}
			}
			cancel()
		})
	}
}

// TestRouterMandatoryUnroutable: a message for a peer that is not (or no
// longer) connected is refused by libzmq with EHOSTUNREACH; it is counted
// as Unroutable and the socket goes on serving its other peers.
func TestRouterMandatoryUnroutable(t *testing.T) {
	zc := newContext(t)
	ctx := testContext(t, time.Minute)
	router := open(t, ctx, zchan.Router, zchan.Frames, zchan.WithContext(zc), zchan.WithBind(testutil.Inproc(t)),
		zchan.WithSetup(func(s *zmq.Socket) error { return s.SetRouterMandatory(1) }))
	peer := open(t, ctx, zchan.Dealer, zchan.Frames, zchan.WithContext(zc), zchan.WithConnect(router.Endpoints()[0]),
		zchan.WithIdentity("peer"))
	if err := peer.Send(ctx, zchan.NewMsg("hi")); err != nil {
		t.Fatal(err)
	}
	testutil.MustRecv(t, router.In(), watchdog, "hello")
	if err := router.Send(ctx, zchan.NewMsg("nobody", "x")); err != nil {
		t.Fatal(err)
	}
	if err := router.Send(ctx, zchan.NewMsg("peer", "y")); err != nil {
		t.Fatal(err)
	}
	if m := testutil.MustRecv(t, peer.In(), watchdog, "message after an unroutable one"); string(m[0]) != "y" {
		t.Fatalf("got %q", m)
	}
	if err := router.Err(); err != nil {
		t.Fatalf("router ended: %v", err)
	}
	// MsgsOut is counted once libzmq took the message: it may trail the receipt.
	if !testutil.Eventually(watchdog, func() bool { st := router.Stats(); return st.Unroutable == 1 && st.MsgsOut == 1 }) {
		t.Errorf("stats %+v: want 1 unroutable, 1 sent", router.Stats())
	}
	if err := router.Close(); err != nil {
		t.Fatal(err)
	}
	checkAccounting(t, router.Name(), router.Stats())
}

// TestLifetimeErrors: after the WithLifetime context ends, the socket's
// end reason wraps ErrClosed and the context's cause.
func TestLifetimeErrors(t *testing.T) {
	zc := newContext(t)
	ctx := testContext(t, time.Minute)
	life, cancel := context.WithCancel(context.Background())
	s, err := zchan.Open(ctx, zchan.Push, zchan.WithContext(zc), zchan.WithBind(testutil.Inproc(t)), zchan.WithLifetime(life))
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	<-s.Done()
	err = s.Send(ctx, zchan.Msg{[]byte("x")})
	derr := s.Do(ctx, func(*zmq.Socket) error { return nil })
	t.Logf("Send: %v; Do: %v; Err: %v", err, derr, s.Err())
	for _, e := range []error{err, derr, s.Err()} {
		if !errors.Is(e, zchan.ErrClosed) || !errors.Is(e, context.Canceled) {
			t.Errorf("after the lifetime ended: %v, want ErrClosed and context.Canceled", e)
		}
	}
}

// TestStreamFaults: a STREAM's POLLOUT is always set and a full peer gives
// EAGAIN, so Close must not spin in its flush; an unknown peer id gives
// EHOSTUNREACH, which is counted and does not end the socket.
func TestStreamFaults(t *testing.T) {
	ctx := testContext(t, time.Minute)
	zc := newContext(t)
	t.Run("unknown-id", func(t *testing.T) {
		s := open(t, ctx, zchan.Stream, zchan.Frames, zchan.WithContext(zc), zchan.WithBind("tcp://127.0.0.1:*"))
		if err := s.Send(ctx, zchan.Msg{[]byte("\x00nobody"), []byte("x")}); err != nil {
			t.Fatal(err)
		}
		if !testutil.Eventually(watchdog, func() bool { return s.Stats().Unroutable == 1 }) {
			t.Fatalf("stats %+v, want the message counted as unroutable", s.Stats())
		}
		if err := s.Err(); err != nil {
			t.Errorf("STREAM ended: %v", err)
		}
	})
	t.Run("close-full-peer", func(t *testing.T) {
		s, err := zchan.Open(ctx, zchan.Stream, zchan.WithContext(zc), zchan.WithBind("tcp://127.0.0.1:*"),
			zchan.WithSendHWM(1), zchan.WithLinger(100*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		addr := s.Endpoints()[0][len("tcp://"):]
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.(*net.TCPConn).SetReadBuffer(4096)
		hello := <-s.In() // connect notification: [id, ""]
		id := hello[0]
		big := make([]byte, 1<<20)
		sctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			for s.Send(sctx, zchan.Msg{id, big}) == nil {
			}
		}()
		if !testutil.Eventually(10*time.Second, func() bool { return s.Stats().SendStalls > 0 }) {
			t.Fatal("never stalled")
		}
		done := make(chan error, 1)
		go func() { done <- s.Close() }()
		select {
		case err := <-done:
			t.Logf("Close: %v, %+v", err, s.Stats())
		case <-time.After(5 * time.Second):
			t.Fatalf("STREAM Close did not return in 5s (linger 100ms): %+v", s.Stats())
		}
	})
}
