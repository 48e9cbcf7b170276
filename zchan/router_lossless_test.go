package zchan_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/zchan"
)

// TestRouterBackPressure: a default ROUTER sends 100,000 messages to one
// pyzmq DEALER at RCVHWM 10 (and the ROUTER's SNDHWM 10). While the DEALER
// does not read, Send blocks: the owner stalls at the HWM, and a Send with
// a short deadline fails with it. Once the DEALER reads, every message
// arrives, in order (the python peer checks each one and exits non-zero
// otherwise). Without ROUTER_MANDATORY libzmq dropped 85 to 95% of them.
func TestRouterBackPressure(t *testing.T) {
	const n = 100_000
	ctx := testContext(t, 2*time.Minute)
	router := open(t, ctx, zchan.Router, zchan.Frames, zchan.WithBind("tcp://127.0.0.1:*"), zchan.WithSendHWM(10),
		// Small kernel buffers, so that Send blocks after thousands of
		// messages, not hundreds of thousands.
		zchan.WithSetup(func(s *zmq.Socket) error { return s.SetSndbuf(4096) }))
	p := startPeer(t, "slowdealer", router.Endpoints()[0], n)
	hello := testutil.MustRecv(t, router.In(), watchdog, "hello from the DEALER")
	id := hello[0]
	msg := func(i int) zchan.Msg { return zchan.Msg{id, []byte(strconv.Itoa(i))} }

	// The DEALER is not reading: once the pipes and the (small) kernel
	// buffers are full, Send must block. Each Send has a short deadline
	// until one runs out; that message is sent again, so the stream stays
	// in order.
	i := 0
	for ; i < n; i++ {
		sctx, cancel := context.WithTimeout(ctx, time.Second)
		err := router.Send(sctx, msg(i))
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	st := router.Stats()
	t.Logf("Send blocked at message %d with the DEALER stopped: %+v", i, st)
	if i == n || st.SendStalls == 0 {
		t.Fatalf("Send never blocked with the DEALER stopped: %+v", st)
	}
	if _, err := p.stdin.Write([]byte("go\n")); err != nil {
		t.Fatal(err)
	}
	for ; i < n; i++ {
		if err := router.Send(ctx, msg(i)); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	p.wait(t)
	st = router.Stats()
	if st.MsgsOut != n || st.Dropped != 0 || st.Unroutable != 0 {
		t.Errorf("stats %+v: want %d sent, none dropped or unroutable", st, n)
	}
}

// TestRouterUnroutable: a client that hangs up before its reply. Replies
// to it are counted (as sent while libzmq still had its pipe, then as
// Unroutable), the ROUTER goes on serving another client, and the
// accounting adds up.
func TestRouterUnroutable(t *testing.T) {
	eachTransport(t, func(t *testing.T, zc *zchan.Context, tr testutil.Transport) {
		ctx := testContext(t, time.Minute)
		router := open(t, ctx, zchan.Router, zchan.Frames, zchan.WithContext(zc), zchan.WithBind(tr.Bind(t)))
		ep := router.Endpoints()[0]
		gone, err := zchan.Open(ctx, zchan.Dealer, zchan.WithContext(zc), zchan.WithConnect(ep), zchan.WithIdentity("gone"))
		if err != nil {
			t.Fatal(err)
		}
		stays := open(t, ctx, zchan.Dealer, zchan.Frames, zchan.WithContext(zc), zchan.WithConnect(ep), zchan.WithIdentity("stays"))
		if err := gone.Send(ctx, zchan.NewMsg("request")); err != nil {
			t.Fatal(err)
		}
		req := testutil.MustRecv(t, router.In(), watchdog, "request of the client that goes")
		if err := gone.Close(); err != nil {
			t.Fatal(err)
		}
		// The reply to the departed client: libzmq learns of the hang-up
		// asynchronously, so replies sent before it did are queued (and
		// lost with the pipe); once it has, each one is unroutable.
		if !testutil.Eventually(watchdog, func() bool {
			if err := router.Send(ctx, zchan.Msg{req[0], []byte("reply")}); err != nil {
				t.Fatalf("Send to a departed peer: %v", err)
			}
			return router.Stats().Unroutable > 0
		}) {
			t.Fatalf("replies to a departed peer never counted as unroutable: %+v", router.Stats())
		}
		for i := range 3 {
			if err := stays.Send(ctx, zchan.NewMsg(strconv.Itoa(i))); err != nil {
				t.Fatal(err)
			}
			m := testutil.MustRecv(t, router.In(), watchdog, "request of the client that stays")
			if err := router.Send(ctx, zchan.Msg{m[0], append([]byte("re "), m[1]...)}); err != nil {
				t.Fatal(err)
			}
			if r := testutil.MustRecv(t, stays.In(), watchdog, "reply"); string(r[0]) != "re "+strconv.Itoa(i) {
				t.Fatalf("reply %d: %q", i, r)
			}
		}
		if err := router.Err(); err != nil {
			t.Fatalf("ROUTER ended: %v", err)
		}
		if err := router.Close(); err != nil {
			t.Fatal(err)
		}
		st := router.Stats()
		t.Logf("stats %+v", st)
		checkAccounting(t, router.Name(), st)
	})
}

// TestStreamUnroutable: the same for a STREAM: a raw tcp client hangs up
// before its reply; the replies to it are counted as Unroutable once
// libzmq knows, and another client is still served.
func TestStreamUnroutable(t *testing.T) {
	ctx := testContext(t, time.Minute)
	s := open(t, ctx, zchan.Stream, zchan.Frames, zchan.WithBind("tcp://127.0.0.1:*"))
	addr := s.Endpoints()[0][len("tcp://"):]
	dial := func() (net.Conn, []byte) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		hello := testutil.MustRecv(t, s.In(), watchdog, "connect notification")
		return c, hello[0]
	}
	gone, goneID := dial()
	stays, staysID := dial()
	gone.Close()
	if !testutil.Eventually(watchdog, func() bool {
		if err := s.Send(ctx, zchan.Msg{goneID, []byte("reply")}); err != nil {
			t.Fatalf("Send to a departed peer: %v", err)
		}
		return s.Stats().Unroutable > 0
	}) {
		t.Fatalf("replies to a departed peer never counted as unroutable: %+v", s.Stats())
	}
	if _, err := stays.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	var m zchan.Msg
	for { // skip the disconnect notification [goneID, ""]
		m = testutil.MustRecv(t, s.In(), watchdog, "data from the client that stays")
		if string(m[0]) == string(staysID) {
			break
		}
	}
	if err := s.Send(ctx, zchan.Msg{staysID, append([]byte("re "), m[1]...)}); err != nil {
		t.Fatal(err)
	}
	stays.SetReadDeadline(time.Now().Add(watchdog))
	buf := make([]byte, 16)
	k, err := stays.Read(buf)
	if err != nil || string(buf[:k]) != "re ping" {
		t.Fatalf("reply: %q, %v", buf[:k], err)
	}
	if err := s.Err(); err != nil {
		t.Fatalf("STREAM ended: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkAccounting(t, s.Name(), s.Stats())
}

// TestRouterDropAtHWM: with WithDropAtHWM, a ROUTER's messages for a peer
// that does not read are dropped at the HWM instead of blocking Send, each
// one counted in Stats.Dropped, and the accounting adds up.
func TestRouterDropAtHWM(t *testing.T) {
	for _, typ := range []zchan.Type{zchan.Router} {
		t.Run(typ.String(), func(t *testing.T) {
			zc := newContext(t)
			ctx := testContext(t, time.Minute)
			ep := testutil.Inproc(t)
			router := open(t, ctx, typ, zchan.Frames, zchan.WithContext(zc), zchan.WithBind(ep),
				zchan.WithSendHWM(5), zchan.WithDropAtHWM(true))
			dealer := open(t, ctx, zchan.Dealer, zchan.Frames, zchan.WithContext(zc), zchan.WithConnect(ep),
				zchan.WithIdentity("slow"), zchan.WithRecvHWM(5), zchan.WithRecvBuffer(0))
			if err := dealer.Send(ctx, zchan.NewMsg("hi")); err != nil {
				t.Fatal(err)
			}
			testutil.MustRecv(t, router.In(), watchdog, "hello")
			const n = 1000
			if err := testutil.MustRecv(t, sendAll(ctx, router, func(i int) zchan.Msg {
				return zchan.Msg{[]byte("slow"), []byte(strconv.Itoa(i))}
			}, n), watchdog, "sender (blocked instead of dropping?)"); err != nil {
				t.Fatal(err)
			}
			if !testutil.Eventually(watchdog, func() bool { st := router.Stats(); return st.MsgsOut+st.Dropped == n }) {
				t.Fatalf("stats %+v: want %d sent or dropped", router.Stats(), n)
			}
			// The dealer gets the first ones, in order, and no more than were sent.
			if m := testutil.MustRecv(t, dealer.In(), watchdog, "first message"); string(m[0]) != "0" {
				t.Errorf("first message %q", m)
			}
			if err := router.Close(); err != nil {
				t.Fatal(err)
			}
			st := router.Stats()
			t.Logf("stats %+v", st)
			if st.Dropped == 0 || st.MsgsOut == 0 {
				t.Errorf("stats %+v: want some sent and some dropped", st)
			}
			checkAccounting(t, router.Name(), st)
		})
	}
}

// TestRouterLogsOncePerEpisode: unroutable messages are logged once per
// episode (a run of them between two messages that went), not once each.
func TestRouterLogsOncePerEpisode(t *testing.T) {
	zc := newContext(t)
	ctx := testContext(t, watchdog)
	core, logs := observer.New(zap.WarnLevel)
	router := open(t, ctx, zchan.Router, zchan.Frames, zchan.WithContext(zc), zchan.WithBind(testutil.Inproc(t)),
		zchan.WithLogger(zap.New(core)))
	peer := open(t, ctx, zchan.Dealer, zchan.Frames, zchan.WithContext(zc), zchan.WithConnect(router.Endpoints()[0]),
		zchan.WithIdentity("peer"))
	if err := peer.Send(ctx, zchan.NewMsg("hi")); err != nil {
		t.Fatal(err)
	}
	testutil.MustRecv(t, router.In(), watchdog, "hello")
	episode := func(k int) {
		for range k {
			if err := router.Send(ctx, zchan.NewMsg("nobody", "x")); err != nil {
				t.Fatal(err)
			}
		}
		if err := router.Send(ctx, zchan.NewMsg("peer", "y")); err != nil {
			t.Fatal(err)
		}
		testutil.MustRecv(t, peer.In(), watchdog, "message after the unroutable ones")
	}
	episode(5)
	episode(3)
	if !testutil.Eventually(watchdog, func() bool { return router.Stats().Unroutable == 8 }) {
		t.Fatalf("stats %+v, want 8 unroutable", router.Stats())
	}
	if n := logs.FilterMessageSnippet("unknown or departed peer").Len(); n != 2 {
		t.Errorf("%d warnings for 2 episodes of unroutable messages, want 2", n)
	}
}

// TestStreamDropAtHWM: the same opt-in on a STREAM, whose raw tcp peer
// does not read: big messages fill the pipe and the kernel buffers, and
// the rest are dropped and counted instead of blocking Send.
func TestStreamDropAtHWM(t *testing.T) {
	ctx := testContext(t, time.Minute)
	s := open(t, ctx, zchan.Stream, zchan.Frames, zchan.WithBind("tcp://127.0.0.1:*"),
		zchan.WithSendHWM(1), zchan.WithDropAtHWM(true), zchan.WithLinger(0))
	c, err := net.Dial("tcp", s.Endpoints()[0][len("tcp://"):])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.(*net.TCPConn).SetReadBuffer(4096)
	id := testutil.MustRecv(t, s.In(), watchdog, "connect notification")[0]
	big := make([]byte, 1<<20)
	const n = 200
	if err := testutil.MustRecv(t, sendAll(ctx, s, func(int) zchan.Msg { return zchan.Msg{id, big} }, n), watchdog,
		"sender (blocked instead of dropping?)"); err != nil {
		t.Fatal(err)
	}
	if !testutil.Eventually(watchdog, func() bool { st := s.Stats(); return st.MsgsOut+st.Dropped == n }) {
		t.Fatalf("stats %+v: want %d sent or dropped", s.Stats(), n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	t.Logf("stats %+v", st)
	if st.Dropped == 0 {
		t.Errorf("stats %+v: want some dropped", st)
	}
	checkAccounting(t, s.Name(), st)
}
