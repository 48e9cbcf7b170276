package zchan_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/zchan"
)

// TestOpenRejects checks that every kind of bad input to Open is refused
// with its typed error, never a panic, and that a refused Open leaves
// nothing behind: no goroutine, no descriptor, no socket registered in the
// context.
func TestOpenRejects(t *testing.T) {
	ctx := testContext(t, watchdog)
	zc := newContext(t)
	taken := open(t, ctx, zchan.Pull, zchan.Frames, zchan.WithContext(zc),
		zchan.WithBind("tcp://127.0.0.1:*", testutil.Inproc(t)))
	tcpTaken, inprocTaken := taken.Endpoints()[0], taken.Endpoints()[1]
	badSetup := errors.New("test: setup refused")
	cases := []struct {
		name string
		typ  zchan.Type
		opts []zchan.Option
		want error
	}{
		{"unknown transport", zchan.Pull, []zchan.Option{zchan.WithBind("foo://bar")}, zchan.ErrBadEndpoint},
		{"no transport", zchan.Pull, []zchan.Option{zchan.WithBind("127.0.0.1:5555")}, zchan.ErrBadEndpoint},
		{"bad tcp address", zchan.Pull, []zchan.Option{zchan.WithBind("tcp://300.1.2.3:5555")}, zchan.ErrBadEndpoint},
		{"bad tcp port", zchan.Pull, []zchan.Option{zchan.WithBind("tcp://127.0.0.1:port")}, zchan.ErrBadEndpoint},
		{"tcp port over 65535 (libzmq wraps it)", zchan.Pull, []zchan.Option{zchan.WithBind("tcp://127.0.0.1:99999")}, zchan.ErrBadEndpoint},
		{"connect to a port over 65535", zchan.Push, []zchan.Option{zchan.WithConnect("tcp://127.0.0.1:70000")}, zchan.ErrBadEndpoint},
		{"empty endpoint", zchan.Push, []zchan.Option{zchan.WithConnect("")}, zchan.ErrBadEndpoint},
		{"connect without port", zchan.Push, []zchan.Option{zchan.WithConnect("tcp://127.0.0.1")}, zchan.ErrBadEndpoint},
		{"tcp address in use", zchan.Pull, []zchan.Option{zchan.WithBind(tcpTaken)}, zchan.ErrAddrInUse},
		{"inproc name in use", zchan.Pull, []zchan.Option{zchan.WithBind(inprocTaken)}, zchan.ErrAddrInUse},
		{"second bind in use", zchan.Pull, []zchan.Option{zchan.WithBind("tcp://127.0.0.1:*", tcpTaken)}, zchan.ErrAddrInUse},
		{"negative port", zchan.Pull, []zchan.Option{zchan.WithBind("tcp://127.0.0.1:-1")}, zchan.ErrBadEndpoint},
		{"port with a letter", zchan.Pull, []zchan.Option{zchan.WithBind("tcp://127.0.0.1:5999x")}, zchan.ErrBadEndpoint},
		{"port with a space", zchan.Push, []zchan.Option{zchan.WithConnect("tcp://127.0.0.1: 5")}, zchan.ErrBadEndpoint},
		{"empty port", zchan.Push, []zchan.Option{zchan.WithConnect("tcp://127.0.0.1:")}, zchan.ErrBadEndpoint},
		{"type zero", zchan.Type(0), nil, zchan.ErrUnknownType},
		{"type 999", zchan.Type(999), nil, zchan.ErrUnknownType},
		{"type -1", zchan.Type(-1), nil, zchan.ErrUnknownType},
		{"type 13 (past STREAM)", zchan.Type(13), nil, zchan.ErrUnknownType},
		{"type 100 (a draft type's old number)", zchan.Type(100), nil, zchan.ErrUnknownType},
		{"empty reply on PULL", zchan.Pull, []zchan.Option{zchan.WithEmptyReplyOnCodecError(true)}, zchan.ErrInvalidOption},
		{"nil lifetime", zchan.Pull, []zchan.Option{zchan.WithLifetime(nil)}, zchan.ErrInvalidOption},
		{"nil option", zchan.Pull, []zchan.Option{nil}, zchan.ErrInvalidOption},
		{"nil context", zchan.Pull, []zchan.Option{zchan.WithContext(nil)}, zchan.ErrInvalidOption},
		{"negative linger", zchan.Pull, []zchan.Option{zchan.WithLinger(-1)}, zchan.ErrInvalidOption},
		{"negative send HWM", zchan.Push, []zchan.Option{zchan.WithSendHWM(-1)}, zchan.ErrInvalidOption},
		{"negative receive HWM", zchan.Pull, []zchan.Option{zchan.WithRecvHWM(-5)}, zchan.ErrInvalidOption},
		{"empty identity", zchan.Dealer, []zchan.Option{zchan.WithIdentity("")}, zchan.ErrInvalidOption},
		{"identity with zero byte first", zchan.Dealer, []zchan.Option{zchan.WithIdentity("\x00id")}, zchan.ErrInvalidOption},
		{"identity of 256 bytes", zchan.Dealer, []zchan.Option{zchan.WithIdentity(strings.Repeat("i", 256))}, zchan.ErrInvalidOption},
		{"negative reconnect", zchan.Dealer, []zchan.Option{zchan.WithReconnect(-time.Second, 0)}, zchan.ErrInvalidOption},
		{"zero heartbeat", zchan.Dealer, []zchan.Option{zchan.WithHeartbeat(0, time.Second, 0)}, zchan.ErrInvalidOption},
		{"zero max message size", zchan.Pull, []zchan.Option{zchan.WithMaxMsgSize(0)}, zchan.ErrInvalidOption},
		{"negative max frames", zchan.Pull, []zchan.Option{zchan.WithMaxFrames(-1)}, zchan.ErrInvalidOption},
		{"negative receive buffer", zchan.Pull, []zchan.Option{zchan.WithRecvBuffer(-1)}, zchan.ErrInvalidOption},
		{"zero budget", zchan.Pull, []zchan.Option{zchan.WithBudget(0)}, zchan.ErrInvalidOption},
		{"subscribe on PUSH", zchan.Push, []zchan.Option{zchan.WithSubscribe("")}, zchan.ErrInvalidOption},
		{"nil setup", zchan.Pull, []zchan.Option{zchan.WithSetup(nil)}, zchan.ErrInvalidOption},
		{"setup error", zchan.Pull, []zchan.Option{zchan.WithSetup(func(*zmq.Socket) error { return badSetup })}, badSetup},
		{"setup error is an option error", zchan.Pull, []zchan.Option{zchan.WithSetup(func(*zmq.Socket) error { return badSetup })}, zchan.ErrInvalidOption},
		{"option libzmq refuses", zchan.Pull, []zchan.Option{zchan.WithSetup(func(s *zmq.Socket) error { return s.SetRouterMandatory(1) })}, zchan.ErrInvalidOption},
	}
	run := func() {
		for _, c := range cases {
			opts := append([]zchan.Option{zchan.WithContext(zc)}, c.opts...)
			s, err := zchan.Open(ctx, c.typ, opts...)
			if !errors.Is(err, c.want) {
				t.Errorf("%s: Open = %v, want %v", c.name, err, c.want)
			}
			if s != nil {
				t.Errorf("%s: Open returned a socket with its error", c.name)
				s.Close()
			}
		}
	}
	run() // once to warm up whatever the runtime allocates once
	before := testutil.Snapshot()
	for range 20 {
		run()
	}
	var after testutil.Resources
	if !testutil.Eventually(watchdog, func() bool {
		after = testutil.Snapshot()
		return after.Goroutines <= before.Goroutines && after.FDs <= before.FDs
	}) {
		t.Errorf("refused Opens leaked: before %+v, after %+v", before, after)
	}
	if names := zc.Sockets(); len(names) != 1 {
		t.Errorf("sockets registered after refused Opens: %v, want only %s", names, taken.Name())
	}
	t.Logf("%d refused Opens: before %+v, after %+v", 21*len(cases), before, after)

	// A nil codec, and a context cancelled before Open.
	if _, err := zchan.OpenWith[string](ctx, zchan.Pull, nil); !errors.Is(err, zchan.ErrInvalidOption) {
		t.Errorf("nil codec: %v, want ErrInvalidOption", err)
	}
	cause := errors.New("test: gone")
	cctx, cancel := context.WithCancelCause(ctx)
	cancel(cause)
	if _, err := zchan.Open(cctx, zchan.Pull, zchan.WithContext(zc)); !errors.Is(err, cause) {
		t.Errorf("cancelled context: %v, want its cause", err)
	}
}

// TestSendRejects checks the errors Send and the commands return without
// touching the socket: a message with no frames, one over the frame cap,
// one the codec cannot encode, a send on a receive-only type, Subscribe on
// a non-SUB socket. The socket stays usable after each.
func TestSendRejects(t *testing.T) {
	ctx := testContext(t, watchdog)
	zc := newContext(t)
	tr := testutil.Transports()[0]
	pull, push := pair(t, ctx, zc, tr, zchan.Pull, zchan.Push, zchan.Frames, nil, []zchan.Option{zchan.WithMaxFrames(2)})
	if err := push.Send(ctx, zchan.Msg{}); !errors.Is(err, zchan.ErrEmptyMessage) {
		t.Errorf("empty message: %v, want ErrEmptyMessage", err)
	}
	if err := push.Send(ctx, zchan.NewMsg("a", "b", "c")); !errors.Is(err, zchan.ErrTooManyFrames) {
		t.Errorf("3 frames, cap 2: %v, want ErrTooManyFrames", err)
	}
	if err := pull.Send(ctx, zchan.NewMsg("a")); !errors.Is(err, zchan.ErrUnsupported) {
		t.Errorf("send on PULL: %v, want ErrUnsupported", err)
	}
	if err := push.Subscribe(ctx, ""); !errors.Is(err, zchan.ErrUnsupported) {
		t.Errorf("Subscribe on PUSH: %v, want ErrUnsupported", err)
	}
	if err := push.Unsubscribe(ctx, ""); !errors.Is(err, zchan.ErrUnsupported) {
		t.Errorf("Unsubscribe on PUSH: %v, want ErrUnsupported", err)
	}
	doErr := errors.New("test: do")
	if err := push.Do(ctx, func(*zmq.Socket) error { return doErr }); !errors.Is(err, doErr) {
		t.Errorf("Do: %v, want fn's error", err)
	}
	// Still usable.
	if err := push.Send(ctx, zchan.NewMsg("a", "b")); err != nil {
		t.Fatal(err)
	}
	if m := testutil.MustRecv(t, pull.In(), watchdog, "message after the refusals"); len(m) != 2 {
		t.Errorf("got %q", m)
	}

	js, err := zchan.OpenWith(ctx, zchan.Push, zchan.JSON[any](), zchan.WithContext(zc), zchan.WithConnect(testutil.Inproc(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer js.Close()
	if err := js.Send(ctx, make(chan int)); !errors.Is(err, zchan.ErrCodec) {
		t.Errorf("unencodable value: %v, want ErrCodec", err)
	}
	sub, err := zchan.Open(ctx, zchan.Sub, zchan.WithContext(zc))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if err := sub.Send(ctx, zchan.NewMsg("x")); !errors.Is(err, zchan.ErrUnsupported) {
		t.Errorf("send on SUB: %v, want ErrUnsupported", err)
	}
}

// TestInboundTooManyFrames sends messages over the receiver's frame cap:
// each is read to its end, discarded and counted in Stats.TooManyFrames,
// and the good messages around them are delivered whole, in order.
func TestInboundTooManyFrames(t *testing.T) {
	eachTransport(t, func(t *testing.T, zc *zchan.Context, tr testutil.Transport) {
		ctx := testContext(t, watchdog)
		pull, push := pair(t, ctx, zc, tr, zchan.Pull, zchan.Push, zchan.Frames, []zchan.Option{zchan.WithMaxFrames(3)}, nil)
		msgs := []zchan.Msg{
			zchan.NewMsg("good", "1"),
			zchan.NewMsg("bad", "2", "3", "4"),
			zchan.NewMsg("good", "3", "x"),
			zchan.NewMsg("bad", "a", "b", "c", "d", "e", "f", "g", "h"),
			zchan.NewMsg("good", "5"),
		}
		if err := testutil.MustRecv(t, sendAll(ctx, push, func(i int) zchan.Msg { return msgs[i] }, len(msgs)), watchdog, "sender"); err != nil {
			t.Fatal(err)
		}
		for _, want := range []zchan.Msg{msgs[0], msgs[2], msgs[4]} {
			if m := testutil.MustRecv(t, pull.In(), watchdog, "good message"); !equalMsg(m, want) {
				t.Fatalf("got %q, want %q", m, want)
			}
		}
		if !testutil.Eventually(watchdog, func() bool { st := pull.Stats(); return st.TooManyFrames == 2 && st.MsgsIn == 3 }) {
			t.Errorf("stats %+v, want TooManyFrames 2, MsgsIn 3", pull.Stats())
		}
	})
}

// TestUndecodable sends frames the receiver's codec cannot decode between
// good messages: each bad one is counted in Stats.DecodeErrors and never
// delivered, and the next good one is.
func TestUndecodable(t *testing.T) {
	eachTransport(t, func(t *testing.T, zc *zchan.Context, tr testutil.Transport) {
		ctx := testContext(t, watchdog)
		pull := open(t, ctx, zchan.Pull, zchan.JSON[int](), zchan.WithContext(zc), zchan.WithBind(tr.Bind(t)))
		push := open(t, ctx, zchan.Push, zchan.Frames, zchan.WithContext(zc), zchan.WithConnect(pull.Endpoints()[0]))
		msgs := []zchan.Msg{
			zchan.NewMsg("1"),
			zchan.NewMsg("not json"),
			zchan.NewMsg("2"),
			zchan.NewMsg(`"a string"`),
			zchan.NewMsg("3", "4"), // two frames: JSON wants one
			{{}},
			zchan.NewMsg("4"),
		}
		if err := testutil.MustRecv(t, sendAll(ctx, push, func(i int) zchan.Msg { return msgs[i] }, len(msgs)), watchdog, "sender"); err != nil {
			t.Fatal(err)
		}
		for _, want := range []int{1, 2, 4} {
			if v := testutil.MustRecv(t, pull.In(), watchdog, fmt.Sprintf("good message %d", want)); v != want {
				t.Fatalf("got %d, want %d", v, want)
			}
		}
		if !testutil.Eventually(watchdog, func() bool { st := pull.Stats(); return st.DecodeErrors == 4 && st.MsgsIn == 3 }) {
			t.Errorf("stats %+v, want DecodeErrors 4, MsgsIn 3", pull.Stats())
		}
	})
}
