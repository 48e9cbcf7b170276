package zchan_test

import (
	"fmt"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/zchan"
)

// TestOptionsApplied opens a socket with every socket option this package
// has and reads each back from libzmq through Do, so an option that is
// accepted but never applied (or applied to the wrong setting) fails.
func TestOptionsApplied(t *testing.T) {
	ctx := testContext(t, watchdog)
	zc := newContext(t)
	s := open(t, ctx, zchan.Dealer, zchan.Frames, zchan.WithContext(zc), zchan.WithBind(testutil.Inproc(t)),
		zchan.WithSendHWM(7), zchan.WithRecvHWM(9), zchan.WithIdentity("me"),
		zchan.WithReconnect(50*time.Millisecond, 2*time.Second), zchan.WithHeartbeat(time.Second, 2*time.Second, 3*time.Second),
		zchan.WithMaxMsgSize(4096), zchan.WithImmediate(true), zchan.WithLinger(250*time.Millisecond),
		zchan.WithLockOSThread(true), zchan.WithBudget(8), zchan.WithName("opts"), zchan.WithLogger(nil))
	var got string
	err := s.Do(ctx, func(z *zmq.Socket) error {
		snd, err1 := z.GetSndhwm()
		rcv, err2 := z.GetRcvhwm()
		id, err3 := z.GetIdentity()
		ivl, err4 := z.GetReconnectIvl()
		ivlMax, err5 := z.GetReconnectIvlMax()
		maxSize, err6 := z.GetMaxmsgsize()
		imm, err7 := z.GetImmediate()
		linger, err8 := z.GetLinger()
		for _, err := range []error{err1, err2, err3, err4, err5, err6, err7, err8} {
			if err != nil {
				return err
			}
		}
		got = fmt.Sprint(snd, rcv, id, ivl, ivlMax, maxSize, imm, linger)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprint(7, 9, "me", 50*time.Millisecond, 2*time.Second, int64(4096), true, 250*time.Millisecond); got != want {
		t.Errorf("options read back as %q, want %q", got, want)
	}
	if s.Name() != "opts" {
		t.Errorf("Name() = %q", s.Name())
	}
}

// TestEndpointsAndConnects: Endpoints lists what the socket bound to, as
// resolved (the port a "*" picked), Connects what it connected to, each in
// order.
func TestEndpointsAndConnects(t *testing.T) {
	ctx := testContext(t, watchdog)
	zc := newContext(t)
	in := testutil.Inproc(t)
	b := open(t, ctx, zchan.Pull, zchan.Frames, zchan.WithContext(zc), zchan.WithBind(in, "tcp://127.0.0.1:*"))
	eps := b.Endpoints()
	if len(eps) != 2 || eps[0] != in || eps[1] == "tcp://127.0.0.1:*" {
		t.Fatalf("Endpoints() = %q", eps)
	}
	c := open(t, ctx, zchan.Push, zchan.Frames, zchan.WithContext(zc), zchan.WithConnect(eps[1]), zchan.WithConnect(in))
	if got := fmt.Sprint(c.Connects()); got != fmt.Sprint([]string{eps[1], in}) {
		t.Errorf("Connects() = %s, want [%s %s]", got, eps[1], in)
	}
	if len(b.Connects()) != 0 || len(c.Endpoints()) != 0 {
		t.Errorf("binder's Connects %q, connecter's Endpoints %q", b.Connects(), c.Endpoints())
	}
}

// TestMaxMsgSize checks that a peer sending a frame over WithMaxMsgSize is
// cut off (libzmq drops the connection) and its message never delivered,
// while a later connection's messages within the limit are.
func TestMaxMsgSize(t *testing.T) {
	ctx := testContext(t, watchdog)
	zc := newContext(t)
	pull := open(t, ctx, zchan.Pull, zchan.Bytes, zchan.WithContext(zc), zchan.WithBind(testutil.TCP(t)), zchan.WithMaxMsgSize(1024))
	big := open(t, ctx, zchan.Push, zchan.Bytes, zchan.WithContext(zc), zchan.WithConnect(pull.Endpoints()[0]))
	if err := big.Send(ctx, make([]byte, 2048)); err != nil {
		t.Fatal(err)
	}
	small := open(t, ctx, zchan.Push, zchan.Bytes, zchan.WithContext(zc), zchan.WithConnect(pull.Endpoints()[0]))
	if err := small.Send(ctx, []byte("fits")); err != nil {
		t.Fatal(err)
	}
	if v := testutil.MustRecv(t, pull.In(), watchdog, "message within the limit"); string(v) != "fits" {
		t.Fatalf("got %d bytes %.10q, want the small message", len(v), v)
	}
	if v, ok, _ := testutil.Recv(pull.In(), 200*time.Millisecond); ok {
		t.Fatalf("a message of %d bytes arrived over a 1024-byte limit", len(v))
	}
}
