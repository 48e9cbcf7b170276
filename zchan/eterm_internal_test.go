package zchan

import (
	"context"
	"errors"
	"sync"
	"syscall"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"
)

// TestETERMBetweenFrames terminates the zmq context while the owner is
// between two frames of a multipart message (a hook in recvFrames starts
// Term and waits until libzmq reports ETERM on the socket), and checks
// that the socket ends with ErrTerminated, not a bare errno, and that the
// half-read message is counted (received, undelivered).
func TestETERMBetweenFrames(t *testing.T) {
	zc, err := NewContext()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	pull, err := Open(ctx, Pull, WithContext(zc), WithBind("inproc://eterm-between-frames"))
	if err != nil {
		t.Fatal(err)
	}
	push, err := Open(ctx, Push, WithContext(zc), WithConnect("inproc://eterm-between-frames"))
	if err != nil {
		t.Fatal(err)
	}
	termErr := make(chan error, 1)
	var once sync.Once
	hooked := make(chan struct{})
	hook := func(sock *zmq.Socket) {
		once.Do(func() {
			defer close(hooked)
			go func() { termErr <- zc.Term(ctx) }()
			// Term tells every socket to stop; ZMQ_EVENTS processes that
			// command and fails with ETERM from then on.
			for ctx.Err() == nil {
				if _, err := sock.GetEvents(); isETERM(errnoErr(err)) {
					return
				}
				time.Sleep(time.Millisecond)
			}
		})
	}
	testHookBetweenFrames.Store(&hook)
	defer testHookBetweenFrames.Store(nil)

	if err := push.Send(ctx, NewMsg("one", "two", "three")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-hooked:
	case <-ctx.Done():
		t.Fatal("the owner never read a first frame")
	}
	select {
	case <-pull.Done():
	case <-ctx.Done():
		t.Fatal("PULL still open after ETERM between two frames")
	}
	if err := pull.Err(); !errors.Is(err, ErrTerminated) {
		t.Fatalf("Err() = %v, want ErrTerminated", err)
	}
	st := pull.Stats()
	if st.Received != 1 || st.Undelivered != 1 || st.MsgsIn != 0 {
		t.Errorf("stats %+v: want the half-read message received and undelivered", st)
	}
	select {
	case err := <-termErr:
		if err != nil {
			t.Errorf("Term: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("Term did not finish")
	}
	<-push.Done()
}

// TestErrnoClassification checks that the classification of libzmq's
// errnos looks through wrapping (pebbe's AsErrno does not), and that an
// errno matches as both a zmq4.Errno and a syscall.Errno.
func TestErrnoClassification(t *testing.T) {
	wrapped := newErr(ErrFatal, zmq.ETERM, "receive")
	if !isETERM(wrapped) || !isETERM(errors.Join(errors.New("x"), wrapped)) {
		t.Error("ETERM not found through wrapping")
	}
	if !errors.Is(wrapped, zmq.ETERM) || !errors.Is(wrapped, ErrFatal) {
		t.Errorf("%v: errors.Is misses ETERM or ErrFatal", wrapped)
	}
	if got := libzmqError(wrapped, "receive"); !errors.Is(got, ErrTerminated) {
		t.Errorf("libzmqError(%v) = %v, want ErrTerminated", wrapped, got)
	}
	inUse := endpointError("bind", "tcp://x:1", zmq.EADDRINUSE)
	if !errors.Is(inUse, ErrAddrInUse) || !errors.Is(inUse, zmq.EADDRINUSE) || !errors.Is(inUse, syscall.EADDRINUSE) {
		t.Errorf("%v: want ErrAddrInUse and EADDRINUSE", inUse)
	}
	if got, want := inUse.Error(), `zchan: bind "tcp://x:1": address in use`; got != want {
		t.Errorf("text %q, want %q (the package prefix once, the errno not repeating the sentinel)", got, want)
	}
}
