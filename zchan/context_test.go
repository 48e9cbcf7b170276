package zchan_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/zchan"
)

// TestContextOptions checks that NewContext applies its options before any
// socket exists, that the socket limit is a typed error, and that sockets in
// a configured context carry messages over tcp (which needs the I/O
// threads).
func TestContextOptions(t *testing.T) {
	zc, err := zchan.NewContext(zchan.WithIOThreads(2), zchan.WithMaxSockets(2))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := zc.Term(ctx); err != nil {
			t.Errorf("term: %v", err)
		}
	}()
	io, maxSockets, err := zchan.ContextSettings(zc)
	if err != nil {
		t.Fatal(err)
	}
	if io != 2 || maxSockets != 2 {
		t.Fatalf("IO_THREADS %d, MAX_SOCKETS %d; want 2 and 2", io, maxSockets)
	}
	ctx := testContext(t, watchdog)
	pull := open(t, ctx, zchan.Pull, zchan.String, zchan.WithContext(zc), zchan.WithBind("tcp://127.0.0.1:*"))
	push := open(t, ctx, zchan.Push, zchan.String, zchan.WithContext(zc), zchan.WithConnect(pull.Endpoints()[0]))
	if s, err := zchan.Open(ctx, zchan.Pair, zchan.WithContext(zc)); !errors.Is(err, zchan.ErrTooManySockets) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("third socket in a context of 2: %v, want ErrTooManySockets", err)
	}
	if err := push.Send(ctx, "over tcp"); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-pull.In():
		if m != "over tcp" {
			t.Fatalf("got %q", m)
		}
	case <-ctx.Done():
		t.Fatal("message never arrived")
	}
	for _, s := range []interface{ Close() error }{push, pull} {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestContextOptionsInvalid checks that out-of-range and nil options are
// refused with ErrInvalidOption before a context is made.
func TestContextOptionsInvalid(t *testing.T) {
	for name, opt := range map[string]zchan.ContextOption{
		"io threads 0":    zchan.WithIOThreads(0),
		"io threads 2000": zchan.WithIOThreads(2000),
		"max sockets 0":   zchan.WithMaxSockets(0),
		"max sockets -1":  zchan.WithMaxSockets(-1),
		"nil":             nil,
	} {
		zc, err := zchan.NewContext(opt)
		if !errors.Is(err, zchan.ErrInvalidOption) {
			t.Errorf("%s: %v, want ErrInvalidOption", name, err)
		}
		if zc != nil {
			t.Errorf("%s: a context came back with the error", name)
		}
	}
}
