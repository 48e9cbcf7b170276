package zchan_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/zchan"
)

// TestTermEndsWaitingOwners terminates a context while its owners wait in
// every state an owner can wait in: idle on ZMQ_FD, holding a message it
// cannot send (no peer, HWM), holding a message its consumer does not take,
// a REQ waiting for a reply, a consumer blocked on In. Term must return,
// every owner must end, every In must close, and Err must wrap
// ErrTerminated. The context then refuses new sockets with ErrTerminated.
func TestTermEndsWaitingOwners(t *testing.T) {
	ctx := testContext(t, time.Minute)
	zc, err := zchan.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	var socks, idle []*zchan.Socket[zchan.Msg]
	add := func(s *zchan.Socket[zchan.Msg]) *zchan.Socket[zchan.Msg] {
		socks = append(socks, s)
		t.Cleanup(func() { s.Close() })
		return s
	}
	mustOpen := func(typ zchan.Type, opts ...zchan.Option) *zchan.Socket[zchan.Msg] {
		t.Helper()
		s, err := zchan.Open(ctx, typ, append([]zchan.Option{zchan.WithContext(zc)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		return add(s)
	}
	for _, tr := range testutil.Transports() {
		// Idle pairs.
		pull := mustOpen(zchan.Pull, zchan.WithBind(tr.Bind(t)))
		push := mustOpen(zchan.Push, zchan.WithConnect(pull.Endpoints()[0]), zchan.WithSendHWM(1))
		// The PULL's consumer reads nothing: the PULL holds one message, the
		// PUSH fills the pipe and then holds one it cannot send. Large
		// messages fill the kernel's buffers of ipc and tcp quickly.
		big := zchan.Msg{make([]byte, 64<<10)}
		for {
			sctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			err := push.Send(sctx, big)
			cancel()
			if err != nil {
				break
			}
		}
		rep := mustOpen(zchan.Rep, zchan.WithBind(tr.Bind(t)))
		req := mustOpen(zchan.Req, zchan.WithConnect(rep.Endpoints()[0]))
		if err := req.Send(ctx, zchan.NewMsg("request nobody answers")); err != nil {
			t.Fatal(err)
		}
		testutil.MustRecv(t, rep.In(), watchdog, "request")
		router := mustOpen(zchan.Router, zchan.WithBind(tr.Bind(t)))
		idle = append(idle, router)
		mustOpen(zchan.Dealer, zchan.WithConnect(router.Endpoints()[0]))
		pub := mustOpen(zchan.Pub, zchan.WithBind(tr.Bind(t)))
		mustOpen(zchan.Sub, zchan.WithConnect(pub.Endpoints()[0]), zchan.WithSubscribe(""))
	}
	// A PUSH with no peer at all, holding a message.
	lone := mustOpen(zchan.Push, zchan.WithConnect("tcp://127.0.0.1:1"))
	go lone.Send(ctx, zchan.NewMsg("never sent")) // ends with ErrTerminated; checked below
	// Consumers blocked on the In of sockets nobody sends to.
	consumerDone := make(chan bool, len(idle))
	for _, s := range idle {
		go func() {
			_, ok := <-s.In()
			consumerDone <- ok
		}()
	}

	start := time.Now()
	tctx, cancel := context.WithTimeout(ctx, watchdog)
	defer cancel()
	if err := zc.Term(tctx); err != nil {
		t.Fatalf("Term: %v (open: %v)", err, zc.Sockets())
	}
	// libzmq waits up to the linger (1s by default) for the messages
	// queued to the PULL peers that read nothing.
	t.Logf("Term ended %d waiting sockets in %v", len(socks), time.Since(start))
	if !testutil.Done(zc.Done(), 0) {
		t.Error("Done not closed after Term returned")
	}
	for _, s := range socks {
		if !testutil.Done(s.Done(), watchdog) {
			t.Errorf("%s: owner still running after Term", s.Name())
			continue
		}
		if !testutil.Closed(s.In(), 0) {
			t.Errorf("%s: In not closed after Term", s.Name())
		}
		if !errors.Is(s.Err(), zchan.ErrTerminated) {
			t.Errorf("%s: Err() = %v, want ErrTerminated", s.Name(), s.Err())
		}
		if err := s.Close(); err != nil {
			t.Errorf("%s: Close after Term: %v", s.Name(), err)
		}
	}
	for range idle {
		if ok := testutil.MustRecv(t, consumerDone, watchdog, "consumer blocked on In"); ok {
			t.Error("consumer blocked on In got a message, want In closed")
		}
	}
	if err := lone.Send(ctx, zchan.NewMsg("after")); !errors.Is(err, zchan.ErrTerminated) {
		t.Errorf("Send after Term = %v, want ErrTerminated", err)
	}
	if names := zc.Sockets(); len(names) != 0 {
		t.Errorf("Sockets() after Term = %v, want none", names)
	}
	if _, err := zchan.Open(ctx, zchan.Pull, zchan.WithContext(zc)); !errors.Is(err, zchan.ErrTerminated) {
		t.Errorf("Open after Term = %v, want ErrTerminated", err)
	}
	if err := zc.Term(tctx); err != nil {
		t.Errorf("second Term: %v", err)
	}
}
