package reqrep_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/zmqchan/zmqchan/internal/childproc"
	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/reqrep"
	"github.com/zmqchan/zmqchan/shutdown"
	"github.com/zmqchan/zmqchan/zchan"
)

// TestMain runs a child role when the test binary is re-executed as one
// (process_test.go), and otherwise the tests, failing the package if any
// goroutine outlives them.
func TestMain(m *testing.M) {
	childproc.Main(map[string]func() int{"server": serverMain})
	goleak.VerifyTestMain(m)
}

// watchdog bounds every wait in this package's tests. It is a hang
// detector, not a timing threshold.
const watchdog = 30 * time.Second

func testContext(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// newContext returns a zmq context terminated (with a bound) when the test
// ends.
func newContext(t testing.TB) *zchan.Context {
	t.Helper()
	zc, err := zchan.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), watchdog)
		defer cancel()
		if err := zc.Term(ctx); err != nil {
			t.Errorf("Term: %v", err)
		}
	})
	return zc
}

// server starts a string server with h, bound to a fresh endpoint of tr,
// closed when the test ends.
func server(t testing.TB, zc *zchan.Context, tr testutil.Transport, h reqrep.Handler[string, string], opts ...reqrep.Option) *reqrep.Server[string, string] {
	t.Helper()
	opts = append([]reqrep.Option{reqrep.WithBind(tr.Bind(t)), reqrep.WithSocketOptions(zchan.WithContext(zc))}, opts...)
	s, err := reqrep.NewServer(testContext(t, watchdog), zchan.String, zchan.String, h, opts...)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// client opens a string client connected to eps, closed when the test ends.
func client(t testing.TB, zc *zchan.Context, typ zchan.Type, eps []string, opts ...reqrep.Option) *reqrep.Client[string, string] {
	t.Helper()
	opts = append([]reqrep.Option{reqrep.WithType(typ), reqrep.WithConnect(eps...), reqrep.WithSocketOptions(zchan.WithContext(zc))}, opts...)
	c, err := reqrep.NewClient(testContext(t, watchdog), zchan.String, zchan.String, opts...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// echo answers "reply to " + req.
func echo(_ context.Context, req string) (string, error) { return "reply to " + req, nil }

// wait waits d or until ctx ends, and returns ctx's cause then.
func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// checkServer checks the two identities of a server that has ended.
func checkServer(t testing.TB, s reqrep.ServerStats) {
	t.Helper()
	if s.InFlight != 0 || s.Received != s.Answered+s.Failed+s.Abandoned+s.Unread {
		t.Errorf("received %d != answered %d + failed %d + abandoned %d + unread %d (in flight %d)",
			s.Received, s.Answered, s.Failed, s.Abandoned, s.Unread, s.InFlight)
	}
	if s.Answered+s.Failed != s.Sent+s.Unroutable+s.Lost {
		t.Errorf("answered %d + failed %d != sent %d + unroutable %d + lost %d",
			s.Answered, s.Failed, s.Sent, s.Unroutable, s.Lost)
	}
}

// checkClient checks a client's identity once no request is under way.
func checkClient(t testing.TB, s reqrep.ClientStats) {
	t.Helper()
	if s.Requests != s.Answered+s.TimedOut+s.Failed {
		t.Errorf("client: requests %d != answered %d + timed out %d + failed %d", s.Requests, s.Answered, s.TimedOut, s.Failed)
	}
}

// statsLine formats server stats for a child to print and a parent to
// parse.
func statsLine(s reqrep.ServerStats) string {
	return fmt.Sprintf("stats received=%d answered=%d failed=%d abandoned=%d unread=%d inflight=%d sent=%d unroutable=%d lost=%d",
		s.Received, s.Answered, s.Failed, s.Abandoned, s.Unread, s.InFlight, s.Sent, s.Unroutable, s.Lost)
}

func parseStats(line string) (reqrep.ServerStats, error) {
	var s reqrep.ServerStats
	fields := map[string]*uint64{"received": &s.Received, "answered": &s.Answered, "failed": &s.Failed,
		"abandoned": &s.Abandoned, "unread": &s.Unread, "inflight": &s.InFlight, "sent": &s.Sent,
		"unroutable": &s.Unroutable, "lost": &s.Lost}
	for _, f := range strings.Fields(strings.TrimPrefix(line, "stats ")) {
		k, v, ok := strings.Cut(f, "=")
		p, known := fields[k]
		if !ok || !known {
			return s, fmt.Errorf("bad stats field %q", f)
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return s, err
		}
		*p = n
	}
	return s, nil
}

// serverMain is the child "server": a ROUTER (or REP, REQREP_TYPE=REP)
// server bound to $REQREP_BIND whose handler answers "reply to " + the
// request after $REQREP_WORK of work, in a shutdown.Group; SIGTERM shuts
// it down with a drain deadline of $REQREP_DRAIN. It prints "ready" once
// bound and a stats line once shut down.
func serverMain() int {
	ctx, stop := shutdown.NotifyContext(context.Background())
	defer stop()
	work, _ := time.ParseDuration(os.Getenv("REQREP_WORK"))
	drain, err := time.ParseDuration(os.Getenv("REQREP_DRAIN"))
	if err != nil {
		drain = shutdown.DefaultDrainTimeout
	}
	conc, _ := strconv.Atoi(os.Getenv("REQREP_CONCURRENCY"))
	if conc < 1 {
		conc = 2
	}
	g, err := shutdown.New(ctx, shutdown.WithDrainTimeout(drain))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	opts := []reqrep.Option{reqrep.WithBind(os.Getenv("REQREP_BIND")), reqrep.WithSocketOptions(zchan.WithContext(g.ZMQ()))}
	if os.Getenv("REQREP_TYPE") == "REP" {
		opts = append(opts, reqrep.WithType(zchan.Rep))
	} else {
		opts = append(opts, reqrep.WithConcurrency(conc))
	}
	srv, err := reqrep.NewServer(ctx, zchan.String, zchan.String, func(ctx context.Context, req string) (string, error) {
		if err := wait(ctx, work); err != nil {
			return "", err
		}
		return "reply to " + req, nil
	}, opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		g.Shutdown()
		g.Wait()
		return 1
	}
	if err := g.Add(srv); err != nil {
		srv.Close()
	}
	fmt.Println("ready")
	rep, err := g.Wait()
	fmt.Println(statsLine(srv.Stats()))
	fmt.Printf("report undelivered=%d\n", rep.TotalUndelivered())
	if err != nil && !errors.Is(err, shutdown.ErrDrainTimeout) {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// Client and Server are shutdown.Components.
var (
	_ shutdown.Component = (*reqrep.Client[string, string])(nil)
	_ shutdown.Component = (*reqrep.Server[string, string])(nil)
)
