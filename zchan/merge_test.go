package zchan_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/zchan"
)

// pushPull opens a PULL bound to a fresh inproc endpoint of zc and a PUSH
// connected to it, both closed when the test ends.
func pushPull(t *testing.T, ctx context.Context, zc *zchan.Context, name string) (push, pull *zchan.Socket[string]) {
	t.Helper()
	ep := testutil.Inproc(t)
	pull = open(t, ctx, zchan.Pull, zchan.String, zchan.WithContext(zc), zchan.WithBind(ep), zchan.WithName(name))
	push = open(t, ctx, zchan.Push, zchan.String, zchan.WithContext(zc), zchan.WithConnect(ep))
	return push, pull
}

// drainIn reads what is left in a removed socket's In without blocking.
func drainIn[T any](s *zchan.Socket[T]) (n uint64) {
	for {
		select {
		case _, ok := <-s.In():
			if !ok {
				return n
			}
			n++
		default:
			return n
		}
	}
}

// TestMergeChurn removes and re-adds sockets at random while producers
// send on all of them and one loop reads the merge: every message sent is
// received through the merge, read from In while its socket was out of the
// merge, or counted in the merge's Undelivered; none is lost and none is
// seen twice.
func TestMergeChurn(t *testing.T) {
	const sockets, perSocket = 6, 2000
	ctx := testContext(t, watchdog)
	zc := newContext(t)
	m := zchan.NewMerge[string]()
	defer m.Close()
	pushes := make([]*zchan.Socket[string], sockets)
	pulls := make([]*zchan.Socket[string], sockets)
	for i := range sockets {
		pushes[i], pulls[i] = pushPull(t, ctx, zc, fmt.Sprintf("pull%d", i))
		if err := m.Add(pulls[i]); err != nil {
			t.Fatal(err)
		}
	}
	var producers sync.WaitGroup
	for i, p := range pushes {
		producers.Go(func() {
			for j := range perSocket {
				if err := p.Send(ctx, fmt.Sprintf("%d/%d", i, j)); err != nil {
					t.Errorf("send: %v", err)
					return
				}
			}
		})
	}
	defer producers.Wait()

	seen := make(map[string]bool, sockets*perSocket)
	var viaMerge, direct uint64
	// churn removes one socket, reads what its In holds, and adds it back.
	// It runs on the loop's goroutine: Remove does not wait for the
	// consumer of Events.
	rng := rand.New(rand.NewPCG(1, 2))
	churn := func() {
		s := pulls[rng.IntN(sockets)]
		if err := m.Remove(s); err != nil {
			t.Fatalf("remove %s: %v", s.Name(), err)
		}
		for range rng.IntN(3) {
			select {
			case v := <-s.In():
				if seen[v] {
					t.Fatalf("%s seen twice", v)
				}
				seen[v] = true
				direct++
			default:
			}
		}
		if err := m.Add(s); err != nil {
			t.Fatalf("add %s again: %v", s.Name(), err)
		}
	}
	removals := 0
	for viaMerge+direct+m.Undelivered() < sockets*perSocket {
		select {
		case ev := <-m.Events():
			if ev.Ended {
				t.Fatalf("%s ended: %v", ev.Socket.Name(), ev.Err)
			}
			if seen[ev.Value] {
				t.Fatalf("%s seen twice", ev.Value)
			}
			seen[ev.Value] = true
			viaMerge++
			if viaMerge%50 == 0 {
				churn()
				removals++
			}
		case <-ctx.Done():
			t.Fatalf("after %d via the merge, %d direct, %d undelivered of %d: %v",
				viaMerge, direct, m.Undelivered(), sockets*perSocket, context.Cause(ctx))
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if got := viaMerge + direct + m.Undelivered(); got != sockets*perSocket || uint64(len(seen))+m.Undelivered() != got {
		t.Fatalf("via merge %d + direct %d + undelivered %d = %d, seen %d, want %d",
			viaMerge, direct, m.Undelivered(), got, len(seen), sockets*perSocket)
	}
	if m.Delivered() != viaMerge {
		t.Errorf("Delivered() = %d, the loop received %d", m.Delivered(), viaMerge)
	}
	// MsgsIn counts a hand-off to In a moment after the consumer may have
	// it: closed, each owner has ended and its counters are final.
	var taken uint64
	for _, p := range pulls {
		p.Close()
		taken += p.Stats().MsgsIn
	}
	if taken != sockets*perSocket {
		t.Errorf("the PULLs handed out %d, want %d", taken, sockets*perSocket)
	}
	t.Logf("%d via the merge, %d read directly, %d undelivered, %d removals", viaMerge, direct, m.Undelivered(), removals)
}

// TestMergeRemoveCountsHeld removes a socket while its forwarder holds a
// value nobody reads: the value is counted in Undelivered, the rest stays
// in In, and no event for the socket follows.
func TestMergeRemoveCountsHeld(t *testing.T) {
	for _, how := range []string{"remove", "close"} {
		t.Run(how, func(t *testing.T) {
			ctx := testContext(t, watchdog)
			zc := newContext(t)
			push, pull := pushPull(t, ctx, zc, "pull")
			for _, w := range []string{"a", "b", "c"} {
				if err := push.Send(ctx, w); err != nil {
					t.Fatal(err)
				}
			}
			// With nobody reading Events, the forwarder takes one value
			// and waits; the other two are in In.
			if !testutil.Eventually(watchdog, func() bool { return pull.Stats().MsgsIn == 3 }) {
				t.Fatalf("In holds %d", pull.Stats().MsgsIn)
			}
			m := zchan.NewMerge[string]()
			defer m.Close()
			if err := m.Add(pull); err != nil {
				t.Fatal(err)
			}
			if !testutil.Eventually(watchdog, func() bool { return len(pull.In()) == 2 }) {
				t.Fatalf("the forwarder did not take a value: In holds %d", len(pull.In()))
			}
			if how == "remove" {
				if err := m.Remove(pull); err != nil {
					t.Fatal(err)
				}
			} else {
				m.Close()
			}
			if got := m.Undelivered(); got != 1 {
				t.Fatalf("Undelivered() = %d, want 1", got)
			}
			if got := drainIn(pull); got != 2 {
				t.Fatalf("%d left in In, want 2", got)
			}
			if how == "remove" {
				select {
				case ev := <-m.Events():
					t.Fatalf("event after Remove: %+v", ev)
				default:
				}
			}
		})
	}
}

// TestMergeEndOnce ends sockets in different ways while they are in the
// merge: each end is delivered exactly once, after the socket's values,
// with the socket's error, and the merge drops the socket.
func TestMergeEndOnce(t *testing.T) {
	ctx := testContext(t, watchdog)
	zc := newContext(t)
	term := newContext(t)
	m := zchan.NewMerge[string]()
	defer m.Close()
	push1, pull1 := pushPull(t, ctx, zc, "closed")
	push2, pull2 := pushPull(t, ctx, zc, "shut down")
	push3, pull3 := pushPull(t, ctx, term, "terminated")
	for _, s := range []*zchan.Socket[string]{pull1, pull2, pull3} {
		if err := m.Add(s); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []*zchan.Socket[string]{push1, push2, push3} {
		if err := p.Send(ctx, "last words"); err != nil {
			t.Fatal(err)
		}
	}
	values := map[string]int{}
	ends := map[string]int{}
	wantErr := map[string]error{"closed": zchan.ErrClosed, "shut down": zchan.ErrClosed, "terminated": zchan.ErrTerminated}
	for len(values) < 3 {
		ev, err := m.Recv(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Ended {
			t.Fatalf("%s ended before its value", ev.Socket.Name())
		}
		values[ev.Socket.Name()]++
	}
	go pull1.Close()
	go pull2.Shutdown(ctx)
	push3.Close()
	go term.Term(ctx)
	for len(ends) < 3 {
		ev, err := m.Recv(ctx)
		if err != nil {
			t.Fatalf("ends %v: %v", ends, err)
		}
		name := ev.Socket.Name()
		if !ev.Ended {
			t.Fatalf("value %q from %s after its last", ev.Value, name)
		}
		ends[name]++
		if !errors.Is(ev.Err, wantErr[name]) {
			t.Errorf("%s ended with %v, want %v", name, ev.Err, wantErr[name])
		}
		if err := m.Remove(ev.Socket); !errors.Is(err, zchan.ErrNotAdded) {
			t.Errorf("Remove of ended %s: %v, want ErrNotAdded", name, err)
		}
	}
	for n, c := range ends {
		if c != 1 {
			t.Errorf("%s: %d ends", n, c)
		}
	}
	if m.Len() != 0 {
		t.Errorf("Len() = %d after every socket ended", m.Len())
	}
	// Nothing more: the merge is open and empty.
	select {
	case ev := <-m.Events():
		t.Fatalf("event after the ends: %+v", ev)
	default:
	}
	// A socket that has already ended reports its end when added.
	if err := m.Add(pull1); err != nil {
		t.Fatal(err)
	}
	if ev, err := m.Recv(ctx); err != nil || !ev.Ended || ev.Socket != pull1 {
		t.Fatalf("add of an ended socket: %+v, %v", ev, err)
	}
	checkAccounting(t, "closed", pull1.Stats())
	checkAccounting(t, "shut down", pull2.Stats())
}

// TestMergeRecvCancel cancels Recv: it returns the cause, and the event
// that arrives afterwards is kept for the next call.
func TestMergeRecvCancel(t *testing.T) {
	ctx := testContext(t, watchdog)
	zc := newContext(t)
	push, pull := pushPull(t, ctx, zc, "pull")
	m := zchan.NewMerge[string]()
	defer m.Close()
	if err := m.Add(pull); err != nil {
		t.Fatal(err)
	}
	cause := errors.New("user gave up")
	cctx, cancel := context.WithCancelCause(ctx)
	cancel(cause)
	if _, err := m.Recv(cctx); !errors.Is(err, cause) {
		t.Fatalf("cancelled Recv: %v, want the cause", err)
	}
	if err := push.Send(ctx, "kept"); err != nil {
		t.Fatal(err)
	}
	ev, err := m.Recv(ctx)
	if err != nil || ev.Value != "kept" || ev.Socket != pull {
		t.Fatalf("Recv after cancel: %+v, %v", ev, err)
	}
	m.Close()
	if _, err := m.Recv(ctx); !errors.Is(err, zchan.ErrClosed) {
		t.Fatalf("Recv after Close: %v, want ErrClosed", err)
	}
}

// TestMergeMisuse: Remove of a socket not added, Add twice, Add after
// Close; each with its typed error.
func TestMergeMisuse(t *testing.T) {
	ctx := testContext(t, watchdog)
	zc := newContext(t)
	_, pull := pushPull(t, ctx, zc, "pull")
	m := zchan.NewMerge[string]()
	if err := m.Remove(pull); !errors.Is(err, zchan.ErrNotAdded) {
		t.Fatalf("Remove of a socket not added: %v", err)
	} else if got, want := err.Error(), "zchan: merge: remove pull: socket not in the merge"; got != want {
		t.Errorf("error text %q, want %q", got, want)
	}
	if err := m.Remove(nil); !errors.Is(err, zchan.ErrNotAdded) {
		t.Fatalf("Remove(nil): %v", err)
	}
	if err := m.Add(nil); !errors.Is(err, zchan.ErrInvalidOption) {
		t.Fatalf("Add(nil): %v", err)
	}
	if err := m.Add(pull); err != nil {
		t.Fatal(err)
	}
	if err := m.Add(pull); !errors.Is(err, zchan.ErrInvalidOption) {
		t.Fatalf("second Add: %v", err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, ok := <-m.Events(); ok {
		t.Fatal("Events open after Close")
	}
	if err := m.Add(pull); !errors.Is(err, zchan.ErrClosed) {
		t.Fatalf("Add after Close: %v", err)
	}
	if err := m.Remove(pull); !errors.Is(err, zchan.ErrNotAdded) {
		t.Fatalf("Remove after Close: %v", err)
	}
}

// TestMergeRemoveRacingEnd removes sockets as they end, while a loop reads
// the merge: each Add is followed by exactly one of a Remove that returns
// nil and the socket's end on Events, never both.
func TestMergeRemoveRacingEnd(t *testing.T) {
	const rounds = 300
	ctx := testContext(t, watchdog)
	zc := newContext(t)
	m := zchan.NewMerge[string]()
	var mu sync.Mutex
	ends := map[*zchan.Socket[string]]int{}
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		for ev := range m.Events() {
			if ev.Ended {
				mu.Lock()
				ends[ev.Socket]++
				mu.Unlock()
			}
		}
	}()
	var removed []*zchan.Socket[string]
	for range rounds {
		s, err := zchan.OpenWith(ctx, zchan.Pull, zchan.String, zchan.WithContext(zc), zchan.WithBind(testutil.Inproc(t)))
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Add(s); err != nil {
			t.Fatal(err)
		}
		go s.Close()
		select {
		case <-s.Done():
		case <-ctx.Done():
			t.Fatal("socket never ended")
		}
		switch err := m.Remove(s); {
		case err == nil:
			removed = append(removed, s)
		case !errors.Is(err, zchan.ErrNotAdded):
			t.Fatal(err)
		}
	}
	m.Close()
	select {
	case <-consumed:
	case <-ctx.Done():
		t.Fatal("Events never closed")
	}
	both := 0
	for _, s := range removed {
		if ends[s] > 0 {
			both++
		}
	}
	t.Logf("%d of %d removed before the merge saw the end", len(removed), rounds)
	if both > 0 {
		t.Errorf("%d of %d sockets both removed (Remove returned nil) and reported ended", both, len(removed))
	}
}
