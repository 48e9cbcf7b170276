package shutdown_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/shutdown"
	"github.com/zmqchan/zmqchan/zchan"
)

// bound is the watchdog of in-process waits: far above what any of them
// should take, it only catches a hang.
const bound = 15 * time.Second

// probe is a Component of the test's own: it records when it is closed,
// and its Close can be held until the test releases it.
type probe struct {
	name    string
	log     *[]string
	mu      *sync.Mutex
	hold    chan struct{} // Close waits for it to be closed, if not nil
	once    sync.Once
	done    chan struct{}
	undeliv uint64
}

func newProbe(name string, log *[]string, mu *sync.Mutex) *probe {
	return &probe{name: name, log: log, mu: mu, done: make(chan struct{})}
}

func (p *probe) Name() string          { return p.name }
func (p *probe) Done() <-chan struct{} { return p.done }
func (p *probe) Undelivered() uint64   { return p.undeliv }
func (p *probe) Close() error {
	p.once.Do(func() {
		p.mu.Lock()
		*p.log = append(*p.log, "close "+p.name)
		p.mu.Unlock()
		if p.hold != nil {
			<-p.hold
		}
		close(p.done)
	})
	<-p.done
	return nil
}

func wait(t *testing.T, g *shutdown.Group) (*shutdown.Report, error) {
	t.Helper()
	if !testutil.Done(g.Done(), bound) {
		t.Fatalf("shutdown did not complete within %v", bound)
	}
	return g.Wait()
}

func actions(r *shutdown.Report) []string {
	var s []string
	for _, st := range r.Steps {
		a := string(st.Action)
		if st.Name != "" {
			a += " " + st.Name
		}
		s = append(s, a)
	}
	return s
}

// TestOrder checks that stages are shut down in the order they were
// added, that function contexts are cancelled at their turn with the
// cause, that every step is reported in order and logged with its
// duration, and that undelivered counts reach the Report.
func TestOrder(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	g, err := shutdown.New(context.Background(), shutdown.WithLogger(zap.New(core)))
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu  sync.Mutex
		log []string
	)
	fn := func(name string) func(context.Context) error {
		return func(ctx context.Context) error {
			<-ctx.Done()
			mu.Lock()
			log = append(log, "stop "+name)
			mu.Unlock()
			if !errors.Is(context.Cause(ctx), shutdown.ErrShutdown) {
				t.Errorf("%s: cause %v", name, context.Cause(ctx))
			}
			return ctx.Err()
		}
	}
	a, b, c := newProbe("a", &log, &mu), newProbe("b", &log, &mu), newProbe("c", &log, &mu)
	b.undeliv = 7
	for _, err := range []error{
		g.Go("source", fn("source")), g.Add(a), g.Add(b), g.Go("worker", fn("worker")), g.Add(c),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	g.Shutdown()
	rep, err := wait(t, g)
	if err != nil {
		t.Fatal(err)
	}
	want := "stop source,close a,close b,stop worker,close c"
	if got := strings.Join(log, ","); got != want {
		t.Errorf("order %s, want %s", got, want)
	}
	// a and b have counters (Undelivered), so the group settles after
	// closing each while a later stage has counters too.
	wantSteps := "begin,stop source,close a,settle a,close b,settle b,stop worker,close c,term"
	if got := strings.Join(actions(rep), ","); got != wantSteps {
		t.Errorf("steps %s, want %s", got, wantSteps)
	}
	if !errors.Is(rep.Cause, shutdown.ErrShutdown) {
		t.Errorf("cause %v", rep.Cause)
	}
	if n := rep.Undelivered()["b"]; n != 7 || rep.TotalUndelivered() != 7 {
		t.Errorf("undelivered %v", rep.Undelivered())
	}
	if n := logs.FilterMessageSnippet("shutdown:").Len(); n != len(rep.Steps)+1 {
		t.Errorf("%d log entries for %d steps", n, len(rep.Steps))
	}
	for _, e := range logs.All() {
		if _, ok := e.ContextMap()["took"]; !ok {
			t.Errorf("log %q has no duration", e.Message)
		}
	}
	t.Logf("report:\n%s", rep)
}

// TestGoErrorBeginsShutdown: a function stage that fails begins shutdown
// with its error as the cause, and Wait returns it.
func TestGoErrorBeginsShutdown(t *testing.T) {
	g, err := shutdown.New(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := g.Go("failing", func(context.Context) error { return boom }); err != nil {
		t.Fatal(err)
	}
	rep, err := wait(t, g)
	if !errors.Is(err, boom) || !errors.Is(rep.Cause, boom) {
		t.Fatalf("err %v, cause %v", err, rep.Cause)
	}
	if err := g.Add(newProbe("late", new([]string), new(sync.Mutex))); !errors.Is(err, shutdown.ErrShuttingDown) {
		t.Errorf("Add after shutdown: %v", err)
	}
	if err := g.Go("late", func(context.Context) error { return nil }); !errors.Is(err, shutdown.ErrShuttingDown) {
		t.Errorf("Go after shutdown: %v", err)
	}
}

// TestParentCancel: the parent context's cause becomes the shutdown's.
func TestParentCancel(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	g, err := shutdown.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	why := errors.New("why")
	cancel(why)
	rep, err := wait(t, g)
	if err != nil || !errors.Is(rep.Cause, why) {
		t.Fatalf("err %v, cause %v", err, rep.Cause)
	}
	if _, err := shutdown.New(ctx); !errors.Is(err, why) {
		t.Errorf("New on a done context: %v", err)
	}
}

func TestInvalidOptions(t *testing.T) {
	for name, opt := range map[string]shutdown.Option{
		"drain":  shutdown.WithDrainTimeout(0),
		"term":   shutdown.WithTermTimeout(-time.Second),
		"settle": shutdown.WithSettle(-time.Second),
		"nil":    nil,
		"zmq":    shutdown.WithContextOptions(zchan.WithIOThreads(0)),
	} {
		if g, err := shutdown.New(context.Background(), opt); err == nil {
			g.Shutdown()
			g.Wait()
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := shutdown.New(context.Background(), shutdown.WithContextOptions(zchan.WithMaxSockets(-1))); !errors.Is(err, zchan.ErrInvalidOption) {
		t.Errorf("invalid context option: %v, want zchan.ErrInvalidOption", err)
	}
}

// TestContextOptions: the group's zmq context gets the options given to
// New (here its socket limit, which a third socket runs into).
func TestContextOptions(t *testing.T) {
	g, err := shutdown.New(context.Background(), shutdown.WithContextOptions(zchan.WithIOThreads(2), zchan.WithMaxSockets(2)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var socks []*zchan.Socket[zchan.Msg]
	for i := range 3 {
		s, err := zchan.Open(ctx, zchan.Pair, zchan.WithContext(g.ZMQ()))
		if i < 2 {
			if err != nil {
				t.Fatalf("socket %d: %v", i, err)
			}
			socks = append(socks, s)
			continue
		}
		if !errors.Is(err, zchan.ErrTooManySockets) {
			if s != nil {
				socks = append(socks, s)
			}
			t.Errorf("third socket: %v, want zchan.ErrTooManySockets", err)
		}
	}
	for _, s := range socks {
		if err := g.Add(s); err != nil {
			t.Fatal(err)
		}
	}
	g.Shutdown()
	if _, err := wait(t, g); err != nil {
		t.Fatalf("wait: %v", err)
	}
}

// TestDrainTimeout: a Close that does not return is named when the drain
// deadline passes, later stages are still closed, and Wait returns within
// the drain plus term timeouts with ErrDrainTimeout and ErrStillRunning.
func TestDrainTimeout(t *testing.T) {
	const drain, term = 200 * time.Millisecond, 200 * time.Millisecond
	g, err := shutdown.New(context.Background(), shutdown.WithDrainTimeout(drain), shutdown.WithTermTimeout(term))
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu  sync.Mutex
		log []string
	)
	stuck, next := newProbe("stuck", &log, &mu), newProbe("next", &log, &mu)
	stuck.hold = make(chan struct{})
	g.Add(stuck)
	g.Add(next)
	start := time.Now()
	g.Shutdown()
	rep, err := wait(t, g)
	el := time.Since(start)
	if !errors.Is(err, shutdown.ErrDrainTimeout) || !errors.Is(err, shutdown.ErrStillRunning) || !strings.Contains(err.Error(), "stuck") {
		t.Errorf("err %v", err)
	}
	if strings.Contains(err.Error(), "next") {
		t.Errorf("the stage after the stuck one is named: %v", err)
	}
	if !testutil.Done(next.Done(), bound) {
		t.Error("the stage after the stuck one was not closed")
	}
	t.Logf("Wait returned after %v (drain %v + term %v): %v\n%s", el, drain, term, err, rep)
	close(stuck.hold)
	if !testutil.Done(stuck.Done(), bound) {
		t.Fatal("stuck probe did not end")
	}
}

// TestForgottenSocket: a zchan socket opened in the group's context and
// never added is named in Wait's error (ErrLeftOpen), ended by the
// termination (its In closes, Err is ErrTerminated), and shutdown ends.
func TestForgottenSocket(t *testing.T) {
	g, err := shutdown.New(context.Background(), shutdown.WithTermTimeout(bound))
	if err != nil {
		t.Fatal(err)
	}
	s, err := zchan.Open(context.Background(), zchan.Pull, zchan.WithContext(g.ZMQ()),
		zchan.WithName("forgotten-pull"), zchan.WithBind(testutil.Inproc(t)))
	if err != nil {
		t.Fatal(err)
	}
	g.Shutdown()
	rep, err := wait(t, g)
	if !errors.Is(err, shutdown.ErrLeftOpen) || !strings.Contains(err.Error(), "forgotten-pull") {
		t.Fatalf("err %v", err)
	}
	if !testutil.Closed(s.In(), bound) {
		t.Fatal("In of the forgotten socket not closed")
	}
	if !errors.Is(s.Err(), zchan.ErrTerminated) {
		t.Errorf("forgotten socket ended with %v", s.Err())
	}
	if got := strings.Join(actions(rep), ","); got != "begin,left-open,term" {
		t.Errorf("steps %s", got)
	}
}

// TestUnreachablePeer: a PUSH connected to a tcp port nobody listens on,
// with messages queued to it and one more held by its owner, does not hold
// shutdown past its linger by more than the owner's own flush (see the
// log). The bound asserted is only the watchdog.
func TestUnreachablePeer(t *testing.T) {
	const linger = 300 * time.Millisecond
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "tcp://" + l.Addr().String()
	l.Close()
	g, err := shutdown.New(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	push, err := zchan.Open(context.Background(), zchan.Push, zchan.WithContext(g.ZMQ()), zchan.WithName("to-nowhere"),
		zchan.WithConnect(dead), zchan.WithSendHWM(10), zchan.WithLinger(linger))
	if err != nil {
		t.Fatal(err)
	}
	sendErr := make(chan error, 1)
	g.Go("sender", func(ctx context.Context) error {
		for {
			if err := push.Send(ctx, zchan.NewMsg("x")); err != nil {
				sendErr <- err
				return nil
			}
		}
	})
	g.Add(push)
	if !testutil.Eventually(bound, func() bool { return push.Stats().SendStalls > 0 }) {
		t.Fatal("sends never stalled")
	}
	queued := push.Stats().MsgsOut
	start := time.Now()
	g.Shutdown()
	rep, err := wait(t, g)
	el := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if !testutil.Done(g.ZMQ().Done(), bound) {
		t.Error("context not terminated")
	}
	if err := <-sendErr; !errors.Is(err, shutdown.ErrShutdown) {
		t.Errorf("sender ended with %v", err)
	}
	t.Logf("%d queued to an unreachable peer, linger %v: shutdown took %v (%.2f×linger), undelivered counted %d\n%s",
		queued, linger, el, float64(el)/float64(linger), rep.TotalUndelivered(), rep)
}

// TestTermWhileOwnersWait terminates the group's context from outside
// while owners wait in every way (a receive with no sender, a send with
// no peer, a REQ waiting for its reply, functions ranging over In): every
// owner ends with ErrTerminated, every In channel closes, the blocked
// functions return, and the group shuts down with the termination as its
// cause.
func TestTermWhileOwnersWait(t *testing.T) {
	g, err := shutdown.New(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	bg := context.Background()
	zc := g.ZMQ()
	pull, err := zchan.Open(bg, zchan.Pull, zchan.WithContext(zc), zchan.WithName("idle-pull"), zchan.WithBind(testutil.Inproc(t)))
	if err != nil {
		t.Fatal(err)
	}
	push, err := zchan.Open(bg, zchan.Push, zchan.WithContext(zc), zchan.WithName("peerless-push"), zchan.WithBind(testutil.Inproc(t)))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := zchan.Open(bg, zchan.Rep, zchan.WithContext(zc), zchan.WithName("silent-rep"), zchan.WithBind(testutil.Inproc(t)))
	if err != nil {
		t.Fatal(err)
	}
	req, err := zchan.Open(bg, zchan.Req, zchan.WithContext(zc), zchan.WithName("waiting-req"), zchan.WithConnect(rep.Endpoints()[0]))
	if err != nil {
		t.Fatal(err)
	}
	socks := []*zchan.Socket[zchan.Msg]{pull, push, rep, req}
	for _, s := range socks {
		g.Add(s)
	}
	sendErr := make(chan error, 1)
	g.Go("blocked-sender", func(ctx context.Context) error {
		// The owner takes the first message and holds it (no peer); the
		// second Send blocks until the socket ends.
		for {
			if err := push.Send(bg, zchan.NewMsg("never")); err != nil {
				sendErr <- err
				return nil
			}
		}
	})
	for _, s := range []*zchan.Socket[zchan.Msg]{pull, req} {
		g.Go("reader-"+s.Name(), func(context.Context) error {
			for range s.In() {
			}
			return nil
		})
	}
	if err := req.Send(bg, zchan.NewMsg("ping")); err != nil {
		t.Fatal(err)
	}
	testutil.MustRecv(t, rep.In(), bound, "request") // never answered
	termCtx, cancel := context.WithTimeout(bg, bound)
	defer cancel()
	if err := zc.Term(termCtx); err != nil {
		t.Fatal(err)
	}
	for _, s := range socks {
		if !testutil.Closed(s.In(), bound) {
			t.Errorf("%s: In not closed", s.Name())
		}
		if !errors.Is(s.Err(), zchan.ErrTerminated) {
			t.Errorf("%s ended with %v", s.Name(), s.Err())
		}
	}
	if err := <-sendErr; !errors.Is(err, zchan.ErrTerminated) {
		t.Errorf("blocked send returned %v", err)
	}
	r, err := wait(t, g)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(r.Cause, zchan.ErrTerminated) {
		t.Errorf("cause %v", r.Cause)
	}
	t.Logf("report:\n%s", r)
}

// TestRetryAfterEINTR: the group's context keeps pebbe's retry after
// EINTR on (see the package doc for why).
func TestRetryAfterEINTR(t *testing.T) {
	g, err := shutdown.New(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { g.Shutdown(); wait(t, g) }()
	var retry bool
	s, err := zchan.Open(context.Background(), zchan.Pair, zchan.WithContext(g.ZMQ()), zchan.WithSetup(func(s *zmq.Socket) error {
		c, err := s.Context()
		if err == nil {
			retry = c.GetRetryAfterEINTR()
		}
		return err
	}))
	if err != nil {
		t.Fatal(err)
	}
	g.Add(s)
	if !retry {
		t.Fatal("retry after EINTR is off")
	}
}
