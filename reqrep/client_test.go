package reqrep_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/reqrep"
	"github.com/zmqchan/zmqchan/zchan"
)

// TestTimeoutThenNextRequest: the server answers request 1 after 2s and
// request 2 at once; the client gives request 1 100ms, then sends request
// 2 and must get reply 2, and never reply 1, over every transport, with
// DEALER and REQ. A DEALER counts reply 1 as stale when it arrives; a REQ
// closed the socket it would arrive on, and the server counts it as
// unroutable.
func TestTimeoutThenNextRequest(t *testing.T) {
	for _, typ := range []zchan.Type{zchan.Dealer, zchan.Req} {
		for _, tr := range testutil.Transports() {
			t.Run(typ.String()+"/"+tr.Name, func(t *testing.T) {
				zc := newContext(t)
				slow := make(chan struct{})
				srv := server(t, zc, tr, func(ctx context.Context, req string) (string, error) {
					if req == "1" {
						close(slow)
						if err := wait(ctx, 2*time.Second); err != nil {
							return "", err
						}
					}
					return "reply to " + req, nil
				}, reqrep.WithConcurrency(4))
				c := client(t, zc, typ, srv.Endpoints())

				ctx1, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
				defer cancel()
				rep, err := c.Request(ctx1, "1")
				var ae *reqrep.AttemptsError
				if !errors.Is(err, reqrep.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &ae) {
					t.Fatalf("request 1: %q, %v; want ErrTimeout and DeadlineExceeded", rep, err)
				}
				if !testutil.Done(slow, watchdog) {
					t.Fatal("the server never got request 1")
				}
				if ae.Attempts != 1 {
					t.Errorf("request 1: %d attempts, want 1", ae.Attempts)
				}
				ctx := testContext(t, watchdog)
				for _, req := range []string{"2", "3"} {
					if rep, err := c.Request(ctx, req); err != nil || rep != "reply to "+req {
						t.Fatalf("request %s: %q, %v", req, rep, err)
					}
				}
				// Reply 1 is sent 2s after request 1 arrived. Requests made
				// after that must still get their own replies.
				if !testutil.Eventually(watchdog, func() bool { return srv.Stats().Answered == 3 }) {
					t.Fatalf("server never answered request 1: %+v", srv.Stats())
				}
				// A DEALER reads the stale reply while it waits for another:
				// keep asking until it has.
				i := 4
				if !testutil.Eventually(watchdog, func() bool {
					req := strconv.Itoa(i)
					i++
					if rep, err := c.Request(ctx, req); err != nil || rep != "reply to "+req {
						t.Fatalf("request %s: %q, %v", req, rep, err)
					}
					return typ == zchan.Req || c.Stats().StaleReplies == 1
				}) {
					t.Fatalf("stale reply 1 never counted: %+v", c.Stats())
				}
				st := c.Stats()
				checkClient(t, st)
				if st.Answered != uint64(i-2) || st.TimedOut != 1 {
					t.Errorf("client stats %+v, want %d answered, 1 timed out", st, i-2)
				}
				if typ == zchan.Req && st.Reopens != 1 {
					t.Errorf("REQ reopened %d times, want 1", st.Reopens)
				}
				if typ == zchan.Dealer && st.StaleReplies != 1 {
					t.Errorf("DEALER counted %d stale replies, want 1", st.StaleReplies)
				}
				if err := c.Close(); err != nil {
					t.Error(err)
				}
				if err := srv.Shutdown(testContext(t, watchdog)); err != nil {
					t.Error(err)
				}
				s := srv.Stats()
				checkServer(t, s)
				t.Logf("server: %+v", s)
			})
		}
	}
}

// TestEchoingServers checks the wire format against plain zchan servers:
// a REP, which libzmq makes echo the envelope, and a ROUTER that echoes
// every frame up to the delimiter. A DEALER client's requests carry their
// id frame through both.
func TestEchoingServers(t *testing.T) {
	for _, typ := range []zchan.Type{zchan.Rep, zchan.Router} {
		t.Run(typ.String(), func(t *testing.T) {
			zc := newContext(t)
			ctx := testContext(t, watchdog)
			srv, err := zchan.Open(ctx, typ, zchan.WithContext(zc), zchan.WithBind(testutil.TCP(t)))
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			errc := make(chan error, 1)
			go func() {
				for m := range srv.In() {
					i := 0
					if typ == zchan.Router {
						if len(m) != 4 || len(m[1]) != 8 || len(m[2]) != 0 {
							errc <- fmt.Errorf("ROUTER got %q, want [peer, 8-byte id, \"\", body]", m)
							return
						}
						i = 3
					}
					reply := append(append(zchan.Msg{}, m[:i]...), []byte("re:"+string(m[i])))
					if err := srv.Send(ctx, reply); err != nil {
						errc <- err
						return
					}
				}
				errc <- nil
			}()
			c := client(t, zc, zchan.Dealer, srv.Endpoints())
			var wg sync.WaitGroup
			for g := range 4 {
				wg.Go(func() {
					for i := range 50 {
						req := fmt.Sprintf("%d-%d", g, i)
						if rep, err := c.Request(ctx, req); err != nil || rep != "re:"+req {
							t.Errorf("request %s: %q, %v", req, rep, err)
							return
						}
					}
				})
			}
			wg.Wait()
			c.Close()
			srv.Close()
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			if st := c.Stats(); st.Answered != 200 || st.StaleReplies != 0 || st.BadReplies != 0 {
				t.Errorf("client stats %+v", st)
			}
		})
	}
}

// TestConcurrentCallers: 16 goroutines share one DEALER client connected
// to 3 servers; each caller must get exactly its own replies. 10,000
// requests each is the count (about 7s under -race on the 2-core
// machine this was written on); REQREP_CALLS sets another.
func TestConcurrentCallers(t *testing.T) {
	calls := 10000
	if n, err := strconv.Atoi(os.Getenv("REQREP_CALLS")); err == nil && n > 0 {
		calls = n
	}
	zc := newContext(t)
	var eps []string
	var srvs []*reqrep.Server[string, string]
	for i := range 3 {
		name := fmt.Sprintf("s%d", i)
		s := server(t, zc, testutil.Transports()[2], func(_ context.Context, req string) (string, error) {
			return name + ":" + req, nil
		}, reqrep.WithConcurrency(4))
		srvs = append(srvs, s)
		eps = append(eps, s.Endpoints()...)
	}
	c := client(t, zc, zchan.Dealer, eps)
	ctx := testContext(t, 5*time.Minute)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range calls {
				req := fmt.Sprintf("%d/%d", g, i)
				rep, err := c.Request(ctx, req)
				if err != nil {
					t.Errorf("caller %d request %d: %v", g, i, err)
					return
				}
				if len(rep) < 3 || rep[2:] != ":"+req {
					t.Errorf("caller %d request %d: reply %q, not its own", g, i, rep)
					return
				}
			}
		})
	}
	wg.Wait()
	st := c.Stats()
	checkClient(t, st)
	if want := uint64(16 * calls); st.Answered != want || st.StaleReplies != 0 {
		t.Errorf("client stats %+v, want %d answered and none stale", st, want)
	}
	for i, s := range srvs {
		if n := s.Stats().Answered; n == 0 {
			t.Errorf("server %d answered nothing: the DEALER did not spread the requests", i)
		}
	}
}

// TestRetriesToAnotherServer: of two servers, one never answers; with
// retries, a DEALER client's resend goes to the other, and every request
// is answered; the unanswered attempts' replies never come, and the
// error of a client whose only server is silent says how many attempts.
func TestRetriesToAnotherServer(t *testing.T) {
	zc := newContext(t)
	tcp := testutil.Transports()[2]
	release := make(chan struct{})
	defer close(release)
	silent := server(t, zc, tcp, func(ctx context.Context, req string) (string, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return "", errors.New("too late")
	}, reqrep.WithConcurrency(64))
	good := server(t, zc, tcp, echo)
	c := client(t, zc, zchan.Dealer, append(silent.Endpoints(), good.Endpoints()...), reqrep.WithRetries(3, 200*time.Millisecond))
	ctx := testContext(t, watchdog)
	// Wait until both connections are up, so round-robin alternates.
	if !testutil.Eventually(watchdog, func() bool {
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		c.Request(rctx, "probe")
		return silent.Stats().Received > 0 && good.Stats().Answered > 0
	}) {
		t.Fatal("both servers never got a request")
	}
	for i := range 10 {
		req := strconv.Itoa(i)
		if rep, err := c.Request(ctx, req); err != nil || rep != "reply to "+req {
			t.Fatalf("request %s: %q, %v", req, rep, err)
		}
	}
	if st := c.Stats(); st.Retries == 0 {
		t.Errorf("no retries counted: %+v", st)
	}

	lone := client(t, zc, zchan.Dealer, silent.Endpoints(), reqrep.WithRetries(3, 50*time.Millisecond))
	_, err := lone.Request(ctx, "x")
	var ae *reqrep.AttemptsError
	if !errors.As(err, &ae) || !errors.Is(err, reqrep.ErrTimeout) || ae.Attempts != 3 || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("request to a silent server: %v, want ErrTimeout after 3 attempts (the caller's ctx still live)", err)
	}
	if st := lone.Stats(); st.Sent != 3 || st.Retries != 2 || st.TimedOut != 1 {
		t.Errorf("lone client stats %+v", st)
	}
}

// TestREQRetriesReopen: a REQ client with retries against a server that
// ignores the first two sends of each request: each timed-out attempt
// closes the socket and reopens it, and the third attempt is answered.
func TestREQRetriesReopen(t *testing.T) {
	zc := newContext(t)
	var mu sync.Mutex
	seen := map[string]int{}
	srv := server(t, zc, testutil.Transports()[2], func(ctx context.Context, req string) (string, error) {
		mu.Lock()
		seen[req]++
		n := seen[req]
		mu.Unlock()
		if n < 3 {
			<-ctx.Done() // never answered until the server closes
			return "", ctx.Err()
		}
		return "reply to " + req, nil
	}, reqrep.WithConcurrency(16))
	c := client(t, zc, zchan.Req, srv.Endpoints(), reqrep.WithRetries(3, 100*time.Millisecond))
	ctx := testContext(t, watchdog)
	for i := range 3 {
		req := strconv.Itoa(i)
		if rep, err := c.Request(ctx, req); err != nil || rep != "reply to "+req {
			t.Fatalf("request %s: %q, %v", req, rep, err)
		}
	}
	if st := c.Stats(); st.Reopens != 6 || st.Retries != 6 || st.Answered != 3 {
		t.Errorf("client stats %+v, want 6 reopens and retries, 3 answered", st)
	}
}

// TestRemoteErrors: a handler error, a panic and an undecodable request
// are answered with error replies that the client returns as ErrRemote;
// the server counts each and goes on.
func TestRemoteErrors(t *testing.T) {
	zc := newContext(t)
	srv, err := reqrep.NewServer(testContext(t, watchdog), zchan.JSON[int](), zchan.String,
		func(_ context.Context, n int) (string, error) {
			switch n {
			case 1:
				return "", errors.New("one is refused")
			case 2:
				panic("two")
			}
			return strconv.Itoa(n), nil
		}, reqrep.WithBind(testutil.TCP(t)), reqrep.WithSocketOptions(zchan.WithContext(zc)))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c, err := reqrep.NewClient(testContext(t, watchdog), zchan.JSON[int](), zchan.String,
		reqrep.WithConnect(srv.Endpoints()...), reqrep.WithSocketOptions(zchan.WithContext(zc)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	raw, err := reqrep.NewClient(testContext(t, watchdog), zchan.String, zchan.String,
		reqrep.WithConnect(srv.Endpoints()...), reqrep.WithSocketOptions(zchan.WithContext(zc)))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	ctx := testContext(t, watchdog)
	if _, err := c.Request(ctx, 1); !errors.Is(err, reqrep.ErrRemote) {
		t.Errorf("handler error: %v, want ErrRemote", err)
	}
	if _, err := c.Request(ctx, 2); !errors.Is(err, reqrep.ErrRemote) {
		t.Errorf("handler panic: %v, want ErrRemote", err)
	}
	if _, err := raw.Request(ctx, "not json"); !errors.Is(err, reqrep.ErrRemote) {
		t.Errorf("undecodable request: %v, want ErrRemote", err)
	}
	if rep, err := c.Request(ctx, 3); err != nil || rep != "3" {
		t.Errorf("request 3: %q, %v", rep, err)
	}
	srv.Shutdown(ctx)
	st := srv.Stats()
	checkServer(t, st)
	if st.Failed != 3 || st.Panics != 1 || st.BadRequests != 1 || st.Answered != 1 {
		t.Errorf("server stats %+v, want 3 failed (1 panic, 1 bad request), 1 answered", st)
	}
}

// TestClosedClient: Close ends the requests under way with ErrClosed,
// counted as abandoned, and later requests fail at once.
func TestClosedClient(t *testing.T) {
	for _, typ := range []zchan.Type{zchan.Dealer, zchan.Req} {
		t.Run(typ.String(), func(t *testing.T) {
			zc := newContext(t)
			got := make(chan struct{}, 1)
			srv := server(t, zc, testutil.Transports()[0], func(ctx context.Context, req string) (string, error) {
				got <- struct{}{}
				<-ctx.Done()
				return "", ctx.Err()
			})
			c := client(t, zc, typ, srv.Endpoints())
			errc := make(chan error, 1)
			go func() {
				_, err := c.Request(testContext(t, watchdog), "x")
				errc <- err
			}()
			testutil.MustRecv(t, got, watchdog, "request at the server")
			c.Close()
			if err := testutil.MustRecv(t, errc, watchdog, "request cut short"); !errors.Is(err, reqrep.ErrClosed) {
				t.Errorf("request under Close: %v, want ErrClosed", err)
			}
			if _, err := c.Request(context.Background(), "y"); !errors.Is(err, reqrep.ErrClosed) {
				t.Errorf("request after Close: %v, want ErrClosed", err)
			}
			if st := c.Stats(); st.Abandoned != 1 || c.Undelivered() != 1 {
				t.Errorf("client stats %+v, want 1 abandoned", st)
			}
			if !testutil.Done(c.Done(), 0) {
				t.Error("Done not closed after Close")
			}
		})
	}
}

// TestDuplicateReplies: a ROUTER that answers every request twice (as a
// server does when a retried request reached it twice: both replies carry
// the same id) to callers sharing one DEALER client: 8 (as many as the
// client's fixed table of waiters holds) and 24 (the rest wait in its
// map). Every caller must get its own reply, never a duplicate of an
// earlier one: the second reply, whether read by its own caller, routed to
// it by another, or found after it returned, is stale and counted. This is
// what keeps the client's reused wait channels clean.
func TestDuplicateReplies(t *testing.T) {
	for _, callers := range []int{8, 24} {
		t.Run(strconv.Itoa(callers), func(t *testing.T) { duplicateReplies(t, callers) })
	}
}

func duplicateReplies(t *testing.T, callers int) {
	const calls = 300
	zc := newContext(t)
	ctx := testContext(t, watchdog)
	srv, err := zchan.Open(ctx, zchan.Router, zchan.WithContext(zc), zchan.WithBind(testutil.Inproc(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	errc := make(chan error, 1)
	go func() {
		for m := range srv.In() {
			for range 2 {
				if err := srv.Send(ctx, m); err != nil {
					errc <- err
					return
				}
			}
		}
		errc <- nil
	}()
	c := client(t, zc, zchan.Dealer, srv.Endpoints())
	var wg sync.WaitGroup
	for g := range callers {
		wg.Go(func() {
			for i := range calls {
				req := fmt.Sprintf("%d-%d", g, i)
				if rep, err := c.Request(ctx, req); err != nil || rep != req {
					t.Errorf("request %s: reply %q, %v", req, rep, err)
					return
				}
			}
		})
	}
	wg.Wait()
	// The duplicates come in order on the one connection: a last request's
	// reply follows every earlier one's, so they have all been read.
	if rep, err := c.Request(ctx, "last"); err != nil || rep != "last" {
		t.Fatalf("last request: %q, %v", rep, err)
	}
	c.Close()
	srv.Close()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	st := c.Stats()
	checkClient(t, st)
	n := uint64(callers*calls + 1)
	if st.Answered != n || st.StaleReplies < n-1 || st.StaleReplies > n || st.BadReplies != 0 {
		t.Errorf("client stats %+v: want %d answered and %d or %d stale", st, n, n-1, n)
	}
}

// TestClientShutdown: Shutdown refuses new requests at once, waits for
// the one under way to get its reply, then closes; with a context that
// ends first, it cuts the request short (Abandoned) and returns the
// context's cause. DEALER and REQ.
func TestClientShutdown(t *testing.T) {
	for _, typ := range []zchan.Type{zchan.Dealer, zchan.Req} {
		for _, graceful := range []bool{true, false} {
			t.Run(fmt.Sprintf("%v/graceful=%v", typ, graceful), func(t *testing.T) {
				zc := newContext(t)
				got, release := make(chan struct{}, 1), make(chan struct{})
				srv := server(t, zc, testutil.Transports()[0], func(ctx context.Context, req string) (string, error) {
					if req != "x" {
						return "reply to " + req, nil
					}
					got <- struct{}{}
					select {
					case <-release:
					case <-ctx.Done():
					}
					return "reply to " + req, nil
				})
				c := client(t, zc, typ, srv.Endpoints())
				type result struct {
					rep string
					err error
				}
				reqc := make(chan result, 1)
				go func() {
					rep, err := c.Request(testContext(t, watchdog), "x")
					reqc <- result{rep, err}
				}()
				testutil.MustRecv(t, got, watchdog, "request at the server")
				sctx, cancel := context.WithCancelCause(testContext(t, watchdog))
				defer cancel(nil)
				shut := make(chan error, 1)
				go func() { shut <- c.Shutdown(sctx) }()
				// Once a new request is refused, Shutdown has begun; the one
				// under way holds it until the server answers. A probe made
				// before that fails at once (its context is done: a timeout),
				// or, if a DEALER sent it, its reply comes back stale.
				done, stopProbe := context.WithCancel(context.Background())
				stopProbe()
				if !testutil.Eventually(watchdog, func() bool {
					_, err := c.Request(done, "y")
					return errors.Is(err, reqrep.ErrClosed)
				}) {
					t.Fatal("requests still taken after Shutdown began")
				}
				select {
				case err := <-shut:
					t.Fatalf("Shutdown returned %v with a request under way", err)
				default:
				}
				stop := errors.New("drain deadline")
				if graceful {
					close(release)
				} else {
					cancel(stop)
				}
				r := testutil.MustRecv(t, reqc, watchdog, "request's end")
				err := testutil.MustRecv(t, shut, watchdog, "Shutdown's return")
				st := c.Stats()
				if graceful {
					if r.err != nil || r.rep != "reply to x" || err != nil || st.Abandoned != 0 {
						t.Errorf("request %q, %v; Shutdown %v; stats %+v", r.rep, r.err, err, st)
					}
				} else {
					if !errors.Is(r.err, reqrep.ErrClosed) || !errors.Is(err, stop) || st.Abandoned != 1 {
						t.Errorf("request %q, %v; Shutdown %v; stats %+v", r.rep, r.err, err, st)
					}
				}
				checkClient(t, st)
				if !testutil.Done(c.Done(), watchdog) {
					t.Error("Done not closed after Shutdown")
				}
			})
		}
	}
}
