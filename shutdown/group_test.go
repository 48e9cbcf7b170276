package shutdown_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
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

// probe is a Component of the test's own: it records when it is shut
// down, and its Shutdown can be held until the test releases it.
type probe struct {
	name    string
	log     *[]string
	mu      *sync.Mutex
	hold    chan struct{} // Shutdown drains until it is closed or ctx ends, if not nil
	deaf    bool          // Shutdown ignores ctx and waits for hold alone (breaks the contract)
	err     error         // what Shutdown returns when it is not cut short
	once    sync.Once
	done    chan struct{}
	undeliv uint64 // written by Shutdown before it returns
	ctxOK   bool   // Shutdown's ctx had a deadline
	shutErr error
	// progress, if set, is what Progress returns.
	progress func() uint64
}

func newProbe(name string, log *[]string, mu *sync.Mutex) *probe {
	return &probe{name: name, log: log, mu: mu, done: make(chan struct{})}
}

func (p *probe) Name() string          { return p.name }
func (p *probe) Done() <-chan struct{} { return p.done }
func (p *probe) Undelivered() uint64   { return p.undeliv }
func (p *probe) Progress() uint64 {
	if p.progress != nil {
		return p.progress()
	}
	return 0
}
func (p *probe) Shutdown(ctx context.Context) error {
	p.once.Do(func() {
		p.mu.Lock()
		*p.log = append(*p.log, "shutdown "+p.name)
		p.mu.Unlock()
		_, p.ctxOK = ctx.Deadline()
		p.shutErr = p.err
		switch {
		case p.hold == nil:
		case p.deaf:
			<-p.hold
		default:
			select {
			case <-p.hold:
			case <-ctx.Done():
				p.undeliv++ // the message it was draining
				p.shutErr = context.Cause(ctx)
			}
		}
		close(p.done)
	})
	<-p.done
	return p.shutErr
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
// cause and carry New's values, that every Shutdown gets a deadline, that
// every step is reported in order and logged with its duration, and that
// undelivered counts reach the Report.
func TestOrder(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	type key struct{}
	g, err := shutdown.New(context.WithValue(context.Background(), key{}, "v"), shutdown.WithLogger(zap.New(core)))
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
			if v := ctx.Value(key{}); v != "v" {
				t.Errorf("%s: ctx does not carry New's values (%v)", name, v)
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
	want := "stop source,shutdown a,shutdown b,stop worker,shutdown c"
	if got := strings.Join(log, ","); got != want {
		t.Errorf("order %s, want %s", got, want)
	}
	// Every probe has Progress, so the group settles after each Shutdown
	// while a later stage has it too.
	wantSteps := "begin,stop source,shutdown a,settle a,shutdown b,settle b,stop worker,shutdown c,term"
	if got := strings.Join(actions(rep), ","); got != wantSteps {
		t.Errorf("steps %s, want %s", got, wantSteps)
	}
	if !errors.Is(rep.Cause, shutdown.ErrShutdown) {
		t.Errorf("cause %v", rep.Cause)
	}
	if n := rep.Undelivered()["b"]; n != 7 || rep.TotalUndelivered() != 7 {
		t.Errorf("undelivered %v", rep.Undelivered())
	}
	for _, p := range []*probe{a, b, c} {
		if !p.ctxOK {
			t.Errorf("%s: Shutdown's context has no deadline", p.name)
		}
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
// with its error as the cause, and Wait returns it, both wrapping
// ErrStage; Add and Go refuse nil (ErrNilComponent) and refuse to add
// after shutdown began (ErrShuttingDown).
func TestGoErrorBeginsShutdown(t *testing.T) {
	g, err := shutdown.New(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := g.Go("failing", func(context.Context) error { return boom }); err != nil {
		t.Fatal(err)
	}
	if err := g.Go("nil", nil); !errors.Is(err, shutdown.ErrNilComponent) {
		t.Errorf("Go(nil): %v", err)
	}
	if err := g.Add(nil); !errors.Is(err, shutdown.ErrNilComponent) {
		t.Errorf("Add(nil): %v", err)
	}
	rep, err := wait(t, g)
	if !errors.Is(err, boom) || !errors.Is(rep.Cause, boom) || !errors.Is(err, shutdown.ErrStage) || !errors.Is(rep.Cause, shutdown.ErrStage) {
		t.Fatalf("err %v, cause %v: want both to wrap boom and ErrStage", err, rep.Cause)
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

// TestInvalidOptions: every option New cannot use makes it fail with an
// error wrapping ErrInvalidOption (and zchan's, for zmq context options),
// and nothing is left running (goleak).
func TestInvalidOptions(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opt   shutdown.Option
		zchan bool // also wraps zchan.ErrInvalidOption
	}{
		{"drain", shutdown.WithDrainTimeout(0), false},
		{"term", shutdown.WithTermTimeout(-time.Second), false},
		{"settle", shutdown.WithSettle(-time.Second), false},
		{"nil", nil, false},
		{"io threads", shutdown.WithContextOptions(zchan.WithIOThreads(0)), true},
		{"max sockets", shutdown.WithContextOptions(zchan.WithMaxSockets(-1)), true},
	} {
		g, err := shutdown.New(context.Background(), tc.opt)
		if err == nil {
			g.Shutdown()
			g.Wait()
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if !errors.Is(err, shutdown.ErrInvalidOption) {
			t.Errorf("%s: %v, want shutdown.ErrInvalidOption", tc.name, err)
		}
		if tc.zchan != errors.Is(err, zchan.ErrInvalidOption) {
			t.Errorf("%s: %v: wraps zchan.ErrInvalidOption %v, want %v", tc.name, err, !tc.zchan, tc.zchan)
		}
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

// TestDrainDeadline: a component still draining at the drain deadline
// has its Shutdown's context end, with ErrDrainTimeout as the cause, and
// stops at once (counting what it abandoned); the next component is still
// shut down after it, at once; Wait's error wraps ErrDrainTimeout and
// names both, and nothing is left running: no ErrStillRunning, every
// component Done.
func TestDrainDeadline(t *testing.T) {
	const drain, term = 200 * time.Millisecond, 5 * time.Second
	g, err := shutdown.New(context.Background(), shutdown.WithDrainTimeout(drain), shutdown.WithTermTimeout(term))
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu  sync.Mutex
		log []string
	)
	slow, next := newProbe("slow", &log, &mu), newProbe("next", &log, &mu)
	slow.hold, next.hold = make(chan struct{}), make(chan struct{}) // never released
	defer close(slow.hold)
	defer close(next.hold)
	g.Add(slow)
	g.Add(next)
	g.Shutdown()
	rep, err := wait(t, g)
	if !errors.Is(err, shutdown.ErrDrainTimeout) || errors.Is(err, shutdown.ErrStillRunning) {
		t.Fatalf("err %v, want ErrDrainTimeout and not ErrStillRunning", err)
	}
	for _, name := range []string{"slow stopped at once", "next stopped at once (its turn came after the deadline)"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not say %q", err, name)
		}
	}
	if !errors.Is(slow.shutErr, shutdown.ErrDrainTimeout) {
		t.Errorf("slow's Shutdown ctx ended with cause %v, want ErrDrainTimeout", slow.shutErr)
	}
	if got := strings.Join(log, ","); got != "shutdown slow,shutdown next" {
		t.Errorf("order %s", got)
	}
	if got := strings.Join(actions(rep), ","); got != "begin,shutdown slow,shutdown next,term" {
		t.Errorf("steps %s", got)
	}
	if u := rep.Undelivered(); u["slow"] != 1 || u["next"] != 1 || rep.TotalUndelivered() != 2 {
		t.Errorf("undelivered %v", u)
	}
	for _, p := range []*probe{slow, next} {
		select {
		case <-p.Done():
		default:
			t.Errorf("%s not done when Wait returned", p.name)
		}
	}
	t.Logf("%v\n%s", err, rep)
}

// TestBrokenComponent: a component whose Shutdown ignores its context
// (breaking the contract) is given up on the term timeout past its
// deadline, named as still running after the termination
// (ErrStillRunning), and the stages after it are still shut down: Wait
// returns.
func TestBrokenComponent(t *testing.T) {
	const drain, term = 100 * time.Millisecond, 200 * time.Millisecond
	g, err := shutdown.New(context.Background(), shutdown.WithDrainTimeout(drain), shutdown.WithTermTimeout(term))
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu  sync.Mutex
		log []string
	)
	deaf, next := newProbe("deaf", &log, &mu), newProbe("next", &log, &mu)
	deaf.hold, deaf.deaf = make(chan struct{}), true
	g.Add(deaf)
	g.Add(next)
	g.Shutdown()
	rep, err := wait(t, g)
	if !errors.Is(err, shutdown.ErrDrainTimeout) || !errors.Is(err, shutdown.ErrStillRunning) || !strings.Contains(err.Error(), "still running after termination: deaf") {
		t.Errorf("err %v", err)
	}
	if strings.Contains(err.Error(), "running after termination: next") {
		t.Errorf("the stage after the broken one is named: %v", err)
	}
	if !testutil.Done(next.Done(), bound) {
		t.Error("the stage after the broken one was not shut down")
	}
	if got := strings.Join(actions(rep), ","); got != "begin,shutdown deaf,shutdown next,term,straggle deaf" {
		t.Errorf("steps %s", got)
	}
	close(deaf.hold)
	if !testutil.Done(deaf.Done(), bound) {
		t.Fatal("deaf probe did not end")
	}
}

// TestDeafFunction: a function stage that ignores its cancelled context is
// named at the drain deadline (ErrDrainTimeout) and again after the
// termination (ErrStillRunning), and shutdown completes without it.
func TestDeafFunction(t *testing.T) {
	const drain, term = 100 * time.Millisecond, 100 * time.Millisecond
	g, err := shutdown.New(context.Background(), shutdown.WithDrainTimeout(drain), shutdown.WithTermTimeout(term))
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	returned := make(chan struct{})
	g.Go("deaf", func(context.Context) error {
		defer close(returned)
		<-release
		return nil
	})
	g.Shutdown()
	rep, err := wait(t, g)
	if !errors.Is(err, shutdown.ErrDrainTimeout) || !errors.Is(err, shutdown.ErrStillRunning) || !strings.Contains(err.Error(), "deaf") {
		t.Errorf("err %v", err)
	}
	if got := strings.Join(actions(rep), ","); got != "begin,stop deaf,term,straggle deaf" {
		t.Errorf("steps %s", got)
	}
	close(release)
	if !testutil.Done(returned, bound) {
		t.Fatal("the deaf function did not return once released")
	}
}

// TestComponentError: a Shutdown that fails with an error of its own is
// reported wrapping ErrStage and that error; the next stage still goes.
func TestComponentError(t *testing.T) {
	g, err := shutdown.New(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu  sync.Mutex
		log []string
	)
	boom := errors.New("boom")
	bad, next := newProbe("bad", &log, &mu), newProbe("next", &log, &mu)
	bad.err = boom
	g.Add(bad)
	g.Add(next)
	g.Shutdown()
	_, err = wait(t, g)
	if !errors.Is(err, shutdown.ErrStage) || !errors.Is(err, boom) || !strings.Contains(err.Error(), "bad") {
		t.Errorf("err %v", err)
	}
	if got := strings.Join(log, ","); got != "shutdown bad,shutdown next" {
		t.Errorf("order %s", got)
	}
}

// TestShutdownPanic: a panic in a component's Shutdown is recovered into
// an error wrapping ErrStage and zchan.ErrPanic that names the component,
// and the stages after it are still shut down.
func TestShutdownPanic(t *testing.T) {
	g, err := shutdown.New(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu  sync.Mutex
		log []string
	)
	next := newProbe("next", &log, &mu)
	g.Add(panicky{})
	g.Add(next)
	g.Shutdown()
	rep, err := wait(t, g)
	if !errors.Is(err, zchan.ErrPanic) || !errors.Is(err, shutdown.ErrStage) || !strings.Contains(err.Error(), "panic in Shutdown of panicky: kaboom") {
		t.Errorf("err %v", err)
	}
	if got := strings.Join(log, ","); got != "shutdown next" {
		t.Errorf("log %s", got)
	}
	t.Logf("%s", rep)
}

// panicky is a Component whose Shutdown panics.
type panicky struct{}

func (panicky) Name() string                   { return "panicky" }
func (panicky) Shutdown(context.Context) error { panic("kaboom") }
func (panicky) Done() <-chan struct{}          { return nil }

// TestGoPanic: a panic in a function started with Go is recovered into an
// error wrapping ErrStage and zchan.ErrPanic, with the panic value and the
// stack; it begins the shutdown, which goes in order; a second function
// that panics once cancelled is recovered too, and the process lives on.
func TestGoPanic(t *testing.T) {
	g, err := shutdown.New(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu  sync.Mutex
		log []string
	)
	a, b := newProbe("a", &log, &mu), newProbe("b", &log, &mu)
	start := make(chan struct{})
	g.Go("late-panicker", func(ctx context.Context) error {
		<-ctx.Done()
		panic("on the way out")
	})
	g.Add(a)
	g.Go("panicker", func(context.Context) error {
		<-start
		var m map[string]int
		m["x"] = 1 // a runtime panic: assignment to a nil map
		return nil
	})
	g.Add(b)
	close(start)
	rep, err := wait(t, g)
	if !errors.Is(rep.Cause, zchan.ErrPanic) || !errors.Is(rep.Cause, shutdown.ErrStage) {
		t.Fatalf("cause %v, want ErrPanic and ErrStage", rep.Cause)
	}
	for _, want := range []string{"panic in function stage panicker", "assignment to entry in nil map", "group_test.go"} {
		if !strings.Contains(rep.Cause.Error(), want) {
			t.Errorf("cause does not say %q: %v", want, rep.Cause)
		}
	}
	if !errors.Is(err, zchan.ErrPanic) || !strings.Contains(err.Error(), "on the way out") {
		t.Errorf("err %v, want both panics", err)
	}
	if got := strings.Join(log, ","); got != "shutdown a,shutdown b" {
		t.Errorf("order %s", got)
	}
	if got := strings.Join(actions(rep), ","); got != "begin,stop late-panicker,shutdown a,settle a,stop panicker,shutdown b,term" {
		t.Errorf("steps %s", got)
	}
}

// TestSettleWatchesProgress: after a Shutdown returns, the group waits
// until the Progress of the components not yet shut down has stopped
// moving before the next turn, whatever kind of component reports it (here
// one of the test's own, as a pipeline component would be).
func TestSettleWatchesProgress(t *testing.T) {
	const moves = 5
	g, err := shutdown.New(context.Background(), shutdown.WithSettle(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		log   []string
		calls int
	)
	up, down := newProbe("up", &log, &mu), newProbe("down", &log, &mu)
	atShutdown := -1
	down.progress = func() uint64 {
		mu.Lock()
		defer mu.Unlock()
		calls++
		return uint64(min(calls, moves))
	}
	g.Add(up)
	g.Add(down)
	g.Go("watch", func(ctx context.Context) error {
		<-ctx.Done()
		return nil
	})
	g.Shutdown()
	rep, err := wait(t, g)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	for i, l := range log {
		if l == "shutdown down" {
			atShutdown = i
		}
	}
	n := calls
	mu.Unlock()
	if atShutdown < 0 {
		t.Fatal("down not shut down")
	}
	// The settle read Progress once to start, then once per settle period
	// until two reads agreed: it must have seen it move to moves and stay.
	if n < moves+1 {
		t.Errorf("Progress read %d times before the next turn, want at least %d (it moved %d times)", n, moves+1, moves)
	}
	if got := strings.Join(actions(rep), ","); got != "begin,shutdown up,settle up,shutdown down,stop watch,term" {
		t.Errorf("steps %s", got)
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
// with messages queued to it and one more held by its owner, can never
// drain: its Shutdown is cut short by the drain deadline (ErrDrainTimeout)
// and it stops within its linger, counting what it held and what Send had
// queued as undelivered, in the Report. What it handed to libzmq (MsgsOut)
// is libzmq's, dropped at the linger unseen. The bound asserted is only
// the watchdog; the time is logged.
func TestUnreachablePeer(t *testing.T) {
	const linger, drain = 300 * time.Millisecond, 300 * time.Millisecond
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "tcp://" + l.Addr().String()
	l.Close()
	g, err := shutdown.New(context.Background(), shutdown.WithDrainTimeout(drain))
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
	if !errors.Is(err, shutdown.ErrDrainTimeout) || errors.Is(err, shutdown.ErrStillRunning) || !strings.Contains(err.Error(), "to-nowhere stopped at once") {
		t.Fatalf("err %v, want ErrDrainTimeout naming to-nowhere", err)
	}
	if !testutil.Done(g.ZMQ().Done(), bound) {
		t.Error("context not terminated")
	}
	if err := <-sendErr; !errors.Is(err, shutdown.ErrShutdown) {
		t.Errorf("sender ended with %v", err)
	}
	st := push.Stats()
	if st.Undelivered == 0 || rep.Undelivered()["to-nowhere"] != st.Undelivered {
		t.Errorf("Report %v, Stats.Undelivered %d", rep.Undelivered(), st.Undelivered)
	}
	if st.Accepted != st.MsgsOut+st.Undelivered {
		t.Errorf("Accepted %d != MsgsOut %d + Undelivered %d", st.Accepted, st.MsgsOut, st.Undelivered)
	}
	t.Logf("%d handed to libzmq for an unreachable peer, linger %v, drain %v: shutdown took %v, undelivered counted %d\n%s",
		queued, linger, drain, el, rep.TotalUndelivered(), rep)
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

// plain is a Component without Undelivered or Progress.
type plain struct{ p *probe }

func (c plain) Name() string                       { return c.p.Name() }
func (c plain) Shutdown(ctx context.Context) error { return c.p.Shutdown(ctx) }
func (c plain) Done() <-chan struct{}              { return c.p.Done() }

// TestPlainComponent: a component without Progress is not waited for to
// go still (no settle before its turn or after its Shutdown), and one
// without Undelivered has no count in the Report.
func TestPlainComponent(t *testing.T) {
	g, err := shutdown.New(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu  sync.Mutex
		log []string
	)
	a, b := newProbe("a", &log, &mu), plain{newProbe("b", &log, &mu)}
	g.Add(a)
	g.Add(b)
	g.Shutdown()
	rep, err := wait(t, g)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(actions(rep), ","); got != "begin,shutdown a,shutdown b,term" {
		t.Errorf("steps %s", got)
	}
	for _, st := range rep.Steps {
		if st.Name == "b" && st.HasCount {
			t.Errorf("b has a count: %v", st)
		}
		if st.Name == "a" && !st.HasCount {
			t.Errorf("a has no count: %v", st)
		}
	}
	if _, ok := rep.Undelivered()["b"]; ok {
		t.Errorf("Report.Undelivered has b: %v", rep.Undelivered())
	}
}

// TestSettleBounded: a settle whose components never go still ends at
// zchan.DefaultLinger: with a drain deadline a minute away, the watchdog
// (15s) would catch a settle that waited for it, and the next stage gets
// its turn before the deadline (its Shutdown is not cut short).
func TestSettleBounded(t *testing.T) {
	g, err := shutdown.New(context.Background(), shutdown.WithDrainTimeout(time.Minute), shutdown.WithSettle(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu  sync.Mutex
		log []string
		n   atomic.Uint64
	)
	up, busy := newProbe("up", &log, &mu), newProbe("busy", &log, &mu)
	busy.progress = func() uint64 { return n.Add(1) } // moves at every look
	busy.hold = make(chan struct{})
	close(busy.hold) // drains at once when its turn comes
	g.Add(up)
	g.Add(busy)
	g.Shutdown()
	rep, err := wait(t, g)
	if err != nil {
		t.Fatalf("err %v", err)
	}
	if got := strings.Join(actions(rep), ","); got != "begin,shutdown up,settle up,shutdown busy,term" {
		t.Errorf("steps %s", got)
	}
	t.Logf("settle against a component that never goes still (cap %v):\n%s", zchan.DefaultLinger, rep)
}

// TestComponents: Components lists what Add took, in order, without the
// function stages; each call is a snapshot, and it still answers after
// shutdown.
func TestComponents(t *testing.T) {
	g, err := shutdown.New(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu  sync.Mutex
		log []string
	)
	if got := g.Components(); len(got) != 0 {
		t.Fatalf("empty group: %v", got)
	}
	a, b := newProbe("a", &log, &mu), newProbe("b", &log, &mu)
	if err := g.Add(a); err != nil {
		t.Fatal(err)
	}
	if err := g.Go("fn", func(ctx context.Context) error { <-ctx.Done(); return nil }); err != nil {
		t.Fatal(err)
	}
	snap := g.Components()
	if err := g.Add(b); err != nil {
		t.Fatal(err)
	}
	names := func(cs []shutdown.Component) string {
		var s []string
		for _, c := range cs {
			s = append(s, c.Name())
		}
		return strings.Join(s, ",")
	}
	if got := names(snap); got != "a" {
		t.Errorf("snapshot before b: %s", got)
	}
	got := g.Components()
	if names(got) != "a,b" {
		t.Errorf("Components: %s, want a,b", names(got))
	}
	got[0] = nil // the caller's copy
	g.Shutdown()
	if _, err := wait(t, g); err != nil {
		t.Fatal(err)
	}
	if got := names(g.Components()); got != "a,b" {
		t.Errorf("after shutdown: %s, want a,b", got)
	}
}
