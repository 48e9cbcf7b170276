package zchan_test

import (
	"errors"
	"strings"
	"testing"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/zchan"
)

// panicky is a codec whose Encode or Decode panics on the message "boom".
type panicky struct{}

func (panicky) Encode(v string) ([][]byte, error) {
	if v == "boom" {
		panic("encode boom")
	}
	return [][]byte{[]byte(v)}, nil
}

func (panicky) Decode(f [][]byte) (string, error) {
	if string(f[0]) == "boom" {
		panic("decode boom")
	}
	return string(f[0]), nil
}

// TestPanicInUserFunctions checks the one panic policy: a panic in each
// kind of user function that runs on the owner (Decode, Do, WithSetup)
// or inside Send (Encode) is recovered into an error wrapping ErrPanic
// with the stack; on the owner it ends the socket in order (its Stats add
// up, In closes), and the process goes on.
func TestPanicInUserFunctions(t *testing.T) {
	ctx := testContext(t, watchdog)
	zc := newContext(t)

	t.Run("Decode", func(t *testing.T) {
		pull := open(t, ctx, zchan.Pull, zchan.Codec[string](panicky{}), zchan.WithContext(zc), zchan.WithBind(testutil.Inproc(t)))
		push := open(t, ctx, zchan.Push, zchan.Frames, zchan.WithContext(zc), zchan.WithConnect(pull.Endpoints()[0]))
		for _, m := range []string{"fine", "boom", "after"} {
			if err := push.Send(ctx, zchan.NewMsg(m)); err != nil {
				t.Fatal(err)
			}
		}
		if v := testutil.MustRecv(t, pull.In(), watchdog, "first message"); v != "fine" {
			t.Fatalf("got %q", v)
		}
		if !testutil.Closed(pull.In(), watchdog) {
			t.Fatal("In not closed after a panic in Decode")
		}
		err := pull.Err()
		if !errors.Is(err, zchan.ErrPanic) || !strings.Contains(err.Error(), "decode boom") || !strings.Contains(err.Error(), "goroutine") {
			t.Fatalf("Err() = %v, want ErrPanic with the value and the stack", err)
		}
		st := pull.Stats()
		if st.DecodeErrors != 1 || st.MsgsIn != 1 {
			t.Errorf("stats %+v: want the panicking message counted as a decode error", st)
		}
		checkAccounting(t, pull.Name(), st)
	})

	t.Run("Encode", func(t *testing.T) {
		pull := open(t, ctx, zchan.Pull, zchan.Codec[string](panicky{}), zchan.WithContext(zc), zchan.WithBind(testutil.Inproc(t)))
		push := open(t, ctx, zchan.Push, zchan.Codec[string](panicky{}), zchan.WithContext(zc), zchan.WithConnect(pull.Endpoints()[0]))
		if err := push.Send(ctx, "boom"); !errors.Is(err, zchan.ErrPanic) || !strings.Contains(err.Error(), "encode boom") {
			t.Fatalf("Send = %v, want ErrPanic", err)
		}
		// Encode runs on the caller's goroutine: the socket is untouched.
		if err := push.Send(ctx, "next"); err != nil {
			t.Fatal(err)
		}
		if v := testutil.MustRecv(t, pull.In(), watchdog, "message after the panic"); v != "next" {
			t.Fatalf("got %q", v)
		}
		if st := push.Stats(); st.Accepted != 1 {
			t.Errorf("Accepted = %d, want 1 (the panicking value was refused)", st.Accepted)
		}
	})

	t.Run("Do", func(t *testing.T) {
		s := open(t, ctx, zchan.Dealer, zchan.Frames, zchan.WithContext(zc), zchan.WithBind(testutil.Inproc(t)))
		err := s.Do(ctx, func(*zmq.Socket) error { panic("do boom") })
		if !errors.Is(err, zchan.ErrPanic) || !strings.Contains(err.Error(), "do boom") {
			t.Fatalf("Do = %v, want ErrPanic", err)
		}
		if !testutil.Done(s.Done(), watchdog) {
			t.Fatal("socket still open after a panic in Do")
		}
		if !errors.Is(s.Err(), zchan.ErrPanic) {
			t.Errorf("Err() = %v, want ErrPanic", s.Err())
		}
		if err := s.Send(ctx, zchan.NewMsg("x")); !errors.Is(err, zchan.ErrPanic) {
			t.Errorf("Send after the panic = %v, want the end reason", err)
		}
	})

	t.Run("WithSetup", func(t *testing.T) {
		_, err := zchan.Open(ctx, zchan.Pull, zchan.WithContext(zc), zchan.WithName("setup-panics"),
			zchan.WithSetup(func(*zmq.Socket) error { panic("setup boom") }))
		if !errors.Is(err, zchan.ErrPanic) || !strings.Contains(err.Error(), "setup boom") {
			t.Fatalf("Open = %v, want ErrPanic", err)
		}
		for _, n := range zc.Sockets() {
			if n == "setup-panics" {
				t.Error("socket left open after a panic in WithSetup")
			}
		}
	})
}

// TestCloseInsideDo checks the misuse the doc of Do forbids: a function
// that closes the socket. The owner notices, ends the socket with an
// error wrapping ErrClosed, and never touches the freed libzmq socket
// again (on the direct path that would be a use after free: -race and
// libzmq's own asserts would catch it). Also for WithSetup.
func TestCloseInsideDo(t *testing.T) {
	ctx := testContext(t, watchdog)
	zc := newContext(t)
	for _, pebbe := range []bool{false, true} {
		opts := []zchan.Option{zchan.WithContext(zc), zchan.WithBind(testutil.Inproc(t))}
		if pebbe {
			opts = append(opts, zchan.WithPebbeOnly())
		}
		s := open(t, ctx, zchan.Pull, zchan.Frames, opts...)
		err := s.Do(ctx, func(z *zmq.Socket) error { return z.Close() })
		if !errors.Is(err, zchan.ErrClosed) {
			t.Fatalf("pebbe only %v: Do closing the socket = %v, want ErrClosed", pebbe, err)
		}
		if !testutil.Done(s.Done(), watchdog) {
			t.Fatal("socket still running after Do closed it")
		}
		if !errors.Is(s.Err(), zchan.ErrClosed) {
			t.Errorf("Err() = %v, want ErrClosed", s.Err())
		}
	}
	_, err := zchan.Open(ctx, zchan.Pull, zchan.WithContext(zc),
		zchan.WithSetup(func(z *zmq.Socket) error { return z.Close() }))
	if !errors.Is(err, zchan.ErrClosed) {
		t.Fatalf("Open with a setup that closes the socket = %v, want ErrClosed", err)
	}
}

// TestDirectPathReported checks that Stats says which receive path a
// socket uses: the direct one by default (when pebbe's layout is the one
// direct.go reads), pebbe's when asked.
func TestDirectPathReported(t *testing.T) {
	ctx := testContext(t, watchdog)
	zc := newContext(t)
	direct := open(t, ctx, zchan.Pull, zchan.Frames, zchan.WithContext(zc))
	viaPebbe := open(t, ctx, zchan.Pull, zchan.Frames, zchan.WithContext(zc), zchan.WithPebbeOnly())
	if got := direct.Stats().DirectPath; got != zchan.DirectOK {
		t.Errorf("default socket: DirectPath %v, want %v", got, zchan.DirectOK)
	}
	if viaPebbe.Stats().DirectPath {
		t.Error("WithPebbeOnly socket reports the direct path")
	}
}
