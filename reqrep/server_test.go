package reqrep_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/reqrep"
	"github.com/zmqchan/zmqchan/shutdown"
	"github.com/zmqchan/zmqchan/zchan"
)

// load runs n DEALER clients connected to eps, each sending requests one
// after another (each with its own timeout) until stop is closed, and
// returns the replies they got in all and the errors by kind. Every reply
// must be the answer to its own request.
type load struct {
	replies, timeouts, others atomic.Uint64
	wg                        sync.WaitGroup
	stop                      chan struct{}
}

func startLoad(t *testing.T, zc *zchan.Context, eps []string, n int, timeout time.Duration) *load {
	l := &load{stop: make(chan struct{})}
	for i := range n {
		c := client(t, zc, zchan.Dealer, eps)
		l.wg.Go(func() {
			for j := 0; ; j++ {
				select {
				case <-l.stop:
					return
				default:
				}
				req := fmt.Sprintf("%d/%d", i, j)
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				start := time.Now()
				rep, err := c.Request(ctx, req)
				cancel()
				switch {
				case err == nil && rep == "reply to "+req:
					l.replies.Add(1)
				case err == nil:
					t.Errorf("client %d: reply %q to %q", i, rep, req)
				case errors.Is(err, reqrep.ErrTimeout):
					if late := time.Since(start) - timeout; late > 5*time.Second {
						t.Errorf("client %d: timed out %v after its deadline", i, late)
					}
					l.timeouts.Add(1)
				default:
					l.others.Add(1)
					t.Errorf("client %d: %v", i, err)
				}
			}
		})
	}
	return l
}

func (l *load) end() { close(l.stop); l.wg.Wait() }

// TestShutdownUnderLoad: 20 clients keep a server with 2 handlers (100ms
// of work each) busy; Shutdown with a deadline that lets the handlers
// finish, and one that does not. Every request the server received is
// accounted for, and every reply it sent reached a client (in process,
// inproc: nothing is lost in transit).
func TestShutdownUnderLoad(t *testing.T) {
	for _, tc := range []struct {
		name  string
		drain time.Duration
	}{{"drained", 10 * time.Second}, {"cut short", time.Millisecond}} {
		t.Run(tc.name, func(t *testing.T) {
			zc := newContext(t)
			srv := server(t, zc, testutil.Transports()[0], func(ctx context.Context, req string) (string, error) {
				if err := wait(ctx, 100*time.Millisecond); err != nil {
					return "", err
				}
				return "reply to " + req, nil
			}, reqrep.WithConcurrency(2))
			l := startLoad(t, zc, srv.Endpoints(), 20, 3*time.Second)
			if !testutil.Eventually(watchdog, func() bool { return srv.Stats().Answered >= 10 }) {
				t.Fatalf("server not answering: %+v", srv.Stats())
			}
			ctx, cancel := context.WithTimeout(context.Background(), tc.drain)
			err := srv.Shutdown(ctx)
			cancel()
			if tc.drain > time.Second && err != nil {
				t.Errorf("Shutdown: %v", err)
			}
			if tc.drain < time.Second && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Shutdown cut short: %v, want DeadlineExceeded", err)
			}
			st := srv.Stats()
			checkServer(t, st)
			l.end()
			if got := l.replies.Load(); got != st.Sent {
				t.Errorf("clients got %d replies, the server sent %d", got, st.Sent)
			}
			if tc.drain > time.Second && st.Abandoned != 0 {
				t.Errorf("drained shutdown abandoned %d", st.Abandoned)
			}
			if tc.drain < time.Second && st.Abandoned == 0 {
				t.Errorf("cut-short shutdown abandoned nothing: %+v", st)
			}
			if srv.Undelivered() != st.Abandoned+st.Unread+st.Unroutable+st.Lost {
				t.Errorf("Undelivered %d, stats %+v", srv.Undelivered(), st)
			}
			t.Logf("server %+v; clients: %d replies, %d timeouts", st, l.replies.Load(), l.timeouts.Load())
		})
	}
}

// TestShutdownGroupReport: a server in a shutdown.Group; the Report's
// undelivered count for it is the server's.
func TestShutdownGroupReport(t *testing.T) {
	g, err := shutdown.New(context.Background(), shutdown.WithDrainTimeout(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{}, 64)
	srv, err := reqrep.NewServer(testContext(t, watchdog), zchan.String, zchan.String,
		func(ctx context.Context, req string) (string, error) {
			started <- struct{}{}
			<-ctx.Done()
			return "", ctx.Err()
		}, reqrep.WithName("svc"), reqrep.WithBind(testutil.Inproc(t)), reqrep.WithSocketOptions(zchan.WithContext(g.ZMQ())), reqrep.WithConcurrency(2))
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Add(srv); err != nil {
		t.Fatal(err)
	}
	c, err := reqrep.NewClient(testContext(t, watchdog), zchan.String, zchan.String,
		reqrep.WithConnect(srv.Endpoints()...), reqrep.WithSocketOptions(zchan.WithContext(g.ZMQ())))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { c.Request(testContext(t, watchdog), "x") })
	}
	testutil.MustRecv(t, started, watchdog, "request 1")
	testutil.MustRecv(t, started, watchdog, "request 2")
	g.Shutdown()
	rep, _ := g.Wait()
	c.Close()
	wg.Wait()
	st := srv.Stats()
	checkServer(t, st)
	if st.Abandoned != 2 || rep.Undelivered()["svc"] != 2 {
		t.Errorf("server %+v; report %v, want 2 abandoned and reported", st, rep.Undelivered())
	}
}

// TestUnroutableReply: a client goes away before its reply; the ROUTER
// counts the reply as unroutable and goes on serving the others. libzmq's
// ROUTER learns that a peer has gone when it next processes its commands,
// which it may put off for up to about a millisecond after a send, so a
// reply sent in that window is taken (counted as sent) and dropped with
// the departing pipe: the test repeats until a reply is counted as
// unroutable, and checks that every reply was counted one way or the other.
func TestUnroutableReply(t *testing.T) {
	zc := newContext(t)
	ctx := testContext(t, watchdog)
	events, err := zchan.Open(ctx, zchan.Pair, zchan.WithContext(zc), zchan.WithConnect("inproc://reqrep-monitor"), zchan.WithLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	defer events.Close()
	got := make(chan struct{}, 1)
	release := make(chan struct{})
	srv := server(t, zc, testutil.Transports()[2], func(ctx context.Context, req string) (string, error) {
		if req == "hold" {
			got <- struct{}{}
			<-release
		}
		return "reply to " + req, nil
	}, reqrep.WithSocketOptions(zchan.WithSetup(func(s *zmq.Socket) error {
		return s.Monitor("inproc://reqrep-monitor", zmq.EVENT_DISCONNECTED)
	})))
	tries := 0
	for ; tries < 50 && srv.Stats().Unroutable == 0; tries++ {
		gone, err := reqrep.NewClient(ctx, zchan.String, zchan.String, reqrep.WithConnect(srv.Endpoints()...), reqrep.WithSocketOptions(zchan.WithContext(zc)))
		if err != nil {
			t.Fatal(err)
		}
		errc := make(chan error, 1)
		go func() { _, err := gone.Request(ctx, "hold"); errc <- err }()
		testutil.MustRecv(t, got, watchdog, "the held request")
		gone.Close()
		<-errc
		testutil.MustRecv(t, events.In(), watchdog, "the server's disconnect event")
		release <- struct{}{}
		want := uint64(tries + 1)
		if !testutil.Eventually(watchdog, func() bool { s := srv.Stats(); return s.Sent+s.Unroutable == want }) {
			t.Fatalf("reply %d neither sent nor unroutable: %+v", want, srv.Stats())
		}
	}
	if srv.Stats().Unroutable == 0 {
		t.Fatalf("no reply to a departed client counted as unroutable in %d tries: %+v", tries, srv.Stats())
	}
	t.Logf("the first unroutable reply after %d tries", tries)
	c := client(t, zc, zchan.Dealer, srv.Endpoints())
	if rep, err := c.Request(ctx, "next"); err != nil || rep != "reply to next" {
		t.Fatalf("after an unroutable reply: %q, %v", rep, err)
	}
	if srv.Err() != nil {
		t.Fatalf("server ended: %v", srv.Err())
	}
	srv.Shutdown(ctx)
	checkServer(t, srv.Stats())
}

// TestREPServer: a server over REP answers REQ and DEALER clients one
// request at a time.
func TestREPServer(t *testing.T) {
	zc := newContext(t)
	var busy, most atomic.Int64
	srv := server(t, zc, testutil.Transports()[1], func(ctx context.Context, req string) (string, error) {
		n := busy.Add(1)
		defer busy.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		return "reply to " + req, nil
	}, reqrep.WithType(zchan.Rep))
	ctx := testContext(t, watchdog)
	var wg sync.WaitGroup
	for _, typ := range []zchan.Type{zchan.Req, zchan.Dealer, zchan.Dealer} {
		c := client(t, zc, typ, srv.Endpoints())
		wg.Go(func() {
			for i := range 100 {
				req := fmt.Sprintf("%s-%d", typ, i)
				if rep, err := c.Request(ctx, req); err != nil || rep != "reply to "+req {
					t.Errorf("%s: %q, %v", req, rep, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if most.Load() != 1 {
		t.Errorf("REP server ran %d handlers at once", most.Load())
	}
	srv.Shutdown(ctx)
	st := srv.Stats()
	checkServer(t, st)
	if st.Answered != 300 {
		t.Errorf("answered %d, want 300", st.Answered)
	}
}

// TestBadRequest: a raw DEALER sends a request without a delimiter; it
// gets an error reply and the server goes on.
func TestBadRequest(t *testing.T) {
	zc := newContext(t)
	ctx := testContext(t, watchdog)
	srv := server(t, zc, testutil.Transports()[0], echo)
	d, err := zchan.Open(ctx, zchan.Dealer, zchan.WithContext(zc), zchan.WithConnect(srv.Endpoints()...))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Send(ctx, zchan.NewMsg("no delimiter")); err != nil {
		t.Fatal(err)
	}
	m := testutil.MustRecv(t, d.In(), watchdog, "error reply")
	if len(m) != 2 || string(m[0]) != "\x00reqrep:error" {
		t.Errorf("reply %q, want an error reply", m)
	}
	if err := d.Send(ctx, zchan.NewMsg("id", "", "ok")); err != nil {
		t.Fatal(err)
	}
	if m := testutil.MustRecv(t, d.In(), watchdog, "reply"); len(m) != 3 || string(m[2]) != "reply to ok" {
		t.Errorf("reply %q", m)
	}
	srv.Shutdown(ctx)
	if st := srv.Stats(); st.BadRequests != 1 || st.Answered != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestOptions: options that do not apply are refused.
func TestOptions(t *testing.T) {
	ctx := testContext(t, watchdog)
	if _, err := reqrep.NewClient(ctx, zchan.String, zchan.String, reqrep.WithConcurrency(2)); !errors.Is(err, reqrep.ErrInvalidOption) {
		t.Errorf("WithConcurrency on a client: %v", err)
	}
	if _, err := reqrep.NewServer(ctx, zchan.String, zchan.String, echo, reqrep.WithRetries(2, time.Second)); !errors.Is(err, reqrep.ErrInvalidOption) {
		t.Errorf("WithRetries on a server: %v", err)
	}
	if _, err := reqrep.NewClient(ctx, zchan.String, zchan.String, reqrep.WithType(zchan.Router)); !errors.Is(err, reqrep.ErrInvalidOption) {
		t.Errorf("ROUTER client: %v", err)
	}
	if _, err := reqrep.NewClient(ctx, zchan.String, zchan.String, reqrep.WithRetries(0, time.Second)); !errors.Is(err, reqrep.ErrInvalidOption) {
		t.Errorf("0 attempts: %v", err)
	}
}
