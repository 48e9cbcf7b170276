package reqrep_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/internal/childproc"
	"github.com/zmqchan/zmqchan/reqrep"
	"github.com/zmqchan/zmqchan/zchan"
)

// freeTCP returns a tcp endpoint on a port that was free a moment ago,
// for a server that must come back on the same address after a restart.
func freeTCP(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return "tcp://" + l.Addr().String()
}

// startServer starts the child "server" bound to ep and waits for it to
// be ready.
func startServer(t *testing.T, ep string, env ...string) *childproc.Child {
	t.Helper()
	c := childproc.Start(t, "server", append([]string{"REQREP_BIND=" + ep}, env...)...)
	if _, err := c.Expect("ready", watchdog); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestLazyPirateKill: a client sends 1,000 requests, with retries, to a
// server process that is killed with SIGKILL twice and restarted on the
// same endpoint after a second; every request is either answered with its own reply or
// fails with ErrTimeout after its attempts, never answered wrongly.
func TestLazyPirateKill(t *testing.T) {
	for _, typ := range []zchan.Type{zchan.Req, zchan.Dealer} {
		t.Run(typ.String(), func(t *testing.T) {
			ep := freeTCP(t)
			child := startServer(t, ep)
			zc := newContext(t)
			const attempts = 3
			c := client(t, zc, typ, []string{ep}, reqrep.WithRetries(attempts, 250*time.Millisecond))
			var answered, failed atomic.Int64
			killed := make(chan error, 1)
			go func() { // kills at 300 and 600 answered, restarting each time
				for _, at := range []int64{300, 600} {
					for answered.Load() < at {
						if !waitAnswered(&answered, at, watchdog) {
							killed <- fmt.Errorf("stuck before %d answers", at)
							return
						}
					}
					child.Signal(syscall.SIGKILL)
					if _, err := child.Wait(watchdog); err != nil {
						killed <- err
						return
					}
					// Down for longer than a request's three attempts, so
					// that some requests fail after all of them.
					wait(context.Background(), time.Second)
					child = childproc.Start(t, "server", "REQREP_BIND="+ep)
					if _, err := child.Expect("ready", watchdog); err != nil {
						killed <- err
						return
					}
				}
				killed <- nil
			}()
			ctx := testContext(t, 5*time.Minute)
			for i := range 1000 {
				req := strconv.Itoa(i)
				rep, err := c.Request(ctx, req)
				var ae *reqrep.AttemptsError
				switch {
				case err == nil && rep == "reply to "+req:
					answered.Add(1)
				case err == nil:
					t.Fatalf("request %s answered wrongly: %q", req, rep)
				case errors.As(err, &ae) && errors.Is(err, reqrep.ErrTimeout) && ae.Attempts <= attempts && ctx.Err() == nil:
					if failed.Add(1) > 100 { // two downtimes of a second fail a few
						t.Fatalf("%d requests failed; the last: %v", failed.Load(), err)
					}
				default:
					t.Fatalf("request %s: %v", req, err)
				}
			}
			if err := <-killed; err != nil {
				t.Fatal(err)
			}
			st := c.Stats()
			checkClient(t, st)
			t.Logf("%d answered, %d failed after retries; client %+v", answered.Load(), failed.Load(), st)
			if answered.Load() < 600 || failed.Load() == 0 {
				t.Errorf("%d answered, %d failed: want most answered and some failed during the downtime", answered.Load(), failed.Load())
			}
		})
	}
}

// waitAnswered waits until n reaches at, or d passes.
func waitAnswered(n *atomic.Int64, at int64, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for n.Load() < at {
		if time.Now().After(deadline) {
			return false
		}
		wait(context.Background(), time.Millisecond)
	}
	return true
}

// TestSIGTERMUnderLoad: 20 clients keep a server process with 2 handlers
// (100ms of work each) busy; SIGTERM shuts it down through a
// shutdown.Group, with a drain deadline that lets the handlers finish and
// one that does not. Every request it received is accounted for, its
// Report's count is the server's, every reply it sent reached a client,
// and the clients' requests that were not answered end with ErrTimeout by
// their deadline.
func TestSIGTERMUnderLoad(t *testing.T) {
	for _, drain := range []string{"5s", "1ms"} {
		t.Run("drain="+drain, func(t *testing.T) {
			ep := freeTCP(t)
			child := startServer(t, ep, "REQREP_WORK=100ms", "REQREP_CONCURRENCY=2", "REQREP_DRAIN="+drain)
			zc := newContext(t)
			l := startLoad(t, zc, []string{ep}, 20, 2*time.Second)
			if !waitLoad(l, 20, watchdog) {
				t.Fatal("server not answering")
			}
			child.Signal(syscall.SIGTERM)
			line, err := child.Expect("stats ", watchdog)
			if err != nil {
				t.Fatal(err)
			}
			report, err := child.Expect("report ", watchdog)
			if err != nil {
				t.Fatal(err)
			}
			if st, err := child.Wait(watchdog); err != nil || st.ExitCode() != 0 {
				t.Fatalf("server exit %v, %v: %s", st, err, child.Stderr())
			}
			st, err := parseStats(line)
			if err != nil {
				t.Fatal(err)
			}
			l.end()
			checkServer(t, st)
			if want := fmt.Sprintf("report undelivered=%d", st.Abandoned+st.Unread+st.Unroutable+st.Lost); report != want {
				t.Errorf("%s, want %s", report, want)
			}
			if got := l.replies.Load(); got != st.Sent {
				t.Errorf("clients got %d replies, the server sent %d", got, st.Sent)
			}
			if drain == "5s" && st.Abandoned != 0 {
				t.Errorf("drained shutdown abandoned %d", st.Abandoned)
			}
			t.Logf("server %s; clients: %d replies, %d timeouts", strings.TrimPrefix(line, "stats "), l.replies.Load(), l.timeouts.Load())
		})
	}
}

// waitLoad waits until the load's clients have had n replies.
func waitLoad(l *load, n uint64, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for l.replies.Load() < n {
		if time.Now().After(deadline) {
			return false
		}
		wait(context.Background(), time.Millisecond)
	}
	return true
}
