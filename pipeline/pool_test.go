package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/pipeline"
	"github.com/zmqchan/zmqchan/zchan"
)

// submitAll submits tasks 0..n-1 from a goroutine; the returned channel
// gets its outcome.
func submitAll(ctx context.Context, p *pipeline.Pool[int, Square], n int) <-chan error {
	errc := make(chan error, 1)
	go func() {
		for i := range n {
			if err := p.Submit(ctx, i); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	return errc
}

// collect reads results until every task 0..n-1 has one, failing on a
// wrong, duplicated or missing result. each is called after each result.
func collect(t *testing.T, ctx context.Context, p *pipeline.Pool[int, Square], n int, each func(got int)) {
	t.Helper()
	seen := make([]bool, n)
	for got := 0; got < n; {
		select {
		case r, ok := <-p.Results():
			if !ok {
				t.Fatalf("results closed after %d of %d: %v", got, n, p.Err())
			}
			if r.N < 0 || r.N >= n || r.Sq != r.N*r.N {
				t.Fatalf("bad result %+v", r)
			}
			if seen[r.N] {
				t.Fatalf("duplicate result for task %d", r.N)
			}
			seen[r.N] = true
			got++
			if each != nil {
				each(got)
			}
		case <-ctx.Done():
			t.Fatalf("timed out after %d of %d results: %+v", got, n, p.Stats())
		}
	}
}

// TestPoolInproc: 10 workers over inproc do every task, and all stop on
// KILL when the pool is shut down.
func TestPoolInproc(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	p, err := pipeline.NewPool(ctx, squareAfter(time.Millisecond), pipeline.WithWorkers(10), pipeline.WithWaitForWorkers(10))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const n = 2000
	start := time.Now()
	errc := submitAll(ctx, p, n)
	collect(t, ctx, p, n, nil)
	el := time.Since(start)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	if st.Killed != 10 || st.Forced != 0 || st.Results != n || st.Submitted != n || st.Undelivered != 0 {
		t.Fatalf("stats %+v", st)
	}
	select {
	case <-p.Done():
	default:
		t.Fatal("Done not closed after Shutdown")
	}
	if _, ok := <-p.Results(); ok {
		t.Fatal("results still open")
	}
	if err := p.Submit(ctx, 1); !errors.Is(err, pipeline.ErrClosed) {
		t.Fatalf("submit after shutdown: %v", err)
	}
	t.Logf("%d tasks of 1ms on 10 workers in %v", n, el.Round(time.Millisecond))
}

// TestPoolTCPProcesses: 10 workers in two child processes over tcp do
// every task; the pool waits for all of them before sending, and every
// one stops on KILL and says goodbye; the children exit cleanly.
func TestPoolTCPProcesses(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	tcp := "tcp://127.0.0.1:*"
	p, err := pipeline.NewPool(ctx, squareAfter(time.Millisecond),
		pipeline.WithWorkers(0), pipeline.WithWaitForWorkers(10),
		pipeline.WithEndpoints(pipeline.Endpoints{Tasks: tcp, Results: tcp, Control: tcp}))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	env := append(endpointsEnv(p.Endpoints()), "PIPELINE_DELAY=1ms")
	a := startChild(t, "worker", env...)
	b := startChild(t, "worker", env...)
	const n = 2000
	errc := submitAll(ctx, p, n)
	collect(t, ctx, p, n, nil)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.Joined != 10 || st.Left != 10 {
		t.Fatalf("stats %+v: want 10 joined and 10 left", st)
	}
	if err := waitChild(t, a, 30*time.Second); err != nil {
		t.Fatalf("child a: %v", err)
	}
	if err := waitChild(t, b, 30*time.Second); err != nil {
		t.Fatalf("child b: %v", err)
	}
}

// TestPoolShutdownDeadline: a local worker busy in a task that ignores
// KILL holds Shutdown until its ctx ends; then the pool closes at once,
// the worker's context is cancelled (Forced), and the task it held is
// counted undelivered.
func TestPoolShutdownDeadline(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	started := make(chan struct{}, 1)
	block := func(ctx context.Context, n int) (Square, error) {
		started <- struct{}{}
		<-ctx.Done() // only the cancellation stops it
		return Square{}, context.Cause(ctx)
	}
	p, err := pipeline.NewPool(ctx, block, pipeline.WithWorkers(2), pipeline.WithLinger(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Submit(ctx, 0); err != nil {
		t.Fatal(err)
	}
	testutil.MustRecv(t, started, 30*time.Second, "task 0 started")
	deadline := errors.New("deadline for the test")
	sctx, cancel := context.WithTimeoutCause(ctx, 200*time.Millisecond, deadline)
	defer cancel()
	if err := p.Shutdown(sctx); !errors.Is(err, deadline) {
		t.Fatalf("shutdown: %v, want the ctx's cause", err)
	}
	st := p.Stats()
	if st.Forced != 2 || st.Killed != 0 || st.Undelivered != 1 || st.Submitted != 1 {
		t.Fatalf("stats %+v: want 2 forced, the task undelivered", st)
	}
	if err := p.Submit(ctx, 1); !errors.Is(err, pipeline.ErrClosed) {
		t.Fatalf("submit after shutdown: %v", err)
	}
}

// TestPoolKillRepeat: KILL goes over PUB, which loses it for a worker that
// joins after it was published; Shutdown publishes it again while it waits
// for the workers, so a worker process that joins late still stops on
// KILL (Work returns nil only then). A fake remote worker (a PUSH saying
// hello on the results link) keeps Shutdown waiting until it says bye.
func TestPoolKillRepeat(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	tcp := "tcp://127.0.0.1:*"
	p, err := pipeline.NewPool(ctx, squareAfter(0), pipeline.WithWorkers(1),
		pipeline.WithEndpoints(pipeline.Endpoints{Tasks: tcp, Results: tcp, Control: tcp}))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	fake, err := zchan.Open(ctx, zchan.Push, zchan.WithConnect(p.Endpoints().Results), zchan.WithLinger(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	if err := fake.Send(ctx, zchan.Msg{{'h'}}); err != nil { // kHello
		t.Fatal(err)
	}
	if !testutil.Eventually(30*time.Second, func() bool { return p.Stats().Joined == 1 }) {
		t.Fatal("fake worker not joined")
	}
	// Watch the control link like a worker would, to know KILL is out.
	watch, err := zchan.Open(ctx, zchan.Sub, zchan.WithConnect(p.Endpoints().Control), zchan.WithSubscribe(""), zchan.WithLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close()
	shut := make(chan error, 1)
	go func() { shut <- p.Shutdown(ctx) }()
	testutil.MustRecv(t, watch.In(), 30*time.Second, "KILL published")
	watch.Close()
	late := startChild(t, "worker", append(endpointsEnv(p.Endpoints()), "PIPELINE_DELAY=1ms")...)
	if err := waitChild(t, late, 30*time.Second); err != nil {
		t.Fatalf("late worker: %v", err)
	}
	if err := fake.Send(ctx, zchan.Msg{{'b'}}); err != nil { // kBye
		t.Fatal(err)
	}
	if err := testutil.MustRecv(t, shut, 30*time.Second, "shutdown"); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	st := p.Stats()
	if st.Killed != 1 || st.Joined != 6 || st.Left != 6 {
		t.Fatalf("stats %+v: want the local worker killed, 6 joined and left", st)
	}
}

// TestPoolAtLeastOnce: a worker process is killed with SIGKILL in the
// middle of a batch; the tasks it held are sent again after the timeout
// and every task's result reaches Results exactly once.
func TestPoolAtLeastOnce(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	tcp := "tcp://127.0.0.1:*"
	p, err := pipeline.NewPool(ctx, squareAfter(time.Millisecond),
		pipeline.WithWorkers(0), pipeline.WithWaitForWorkers(10), pipeline.WithAtLeastOnce(time.Second),
		pipeline.WithEndpoints(pipeline.Endpoints{Tasks: tcp, Results: tcp, Control: tcp}))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	env := append(endpointsEnv(p.Endpoints()), "PIPELINE_DELAY=5ms")
	victim := startChild(t, "worker", env...)
	survivor := startChild(t, "worker", env...)
	const n = 1000
	errc := submitAll(ctx, p, n)
	var killed bool
	collect(t, ctx, p, n, func(got int) {
		if got == 100 {
			if err := victim.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	})
	if !killed {
		t.Fatal("victim not killed")
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	t.Logf("stats after the batch: %+v", st)
	if st.Resent == 0 {
		t.Fatal("nothing resent: the victim held no task when killed")
	}
	if st.InFlight != 0 {
		t.Fatalf("%d tasks still in flight", st.InFlight)
	}
	// The victim never says goodbye: Shutdown would wait for its ctx, so
	// close at once (the survivor gets KILL once and stops).
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	victim.Wait()
	if err := waitChild(t, survivor, 30*time.Second); err != nil {
		t.Fatalf("survivor: %v", err)
	}
}

// TestPoolFailure: a worker function's error or panic stops the pool;
// Err tells which, Results closes and Submit fails.
func TestPoolFailure(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    pipeline.Stage[int, Square]
		want error
	}{
		{"error", func(_ context.Context, n int) (Square, error) {
			if n == 7 {
				return Square{}, errStage
			}
			return Square{N: n, Sq: n * n}, nil
		}, errStage},
		{"panic", func(_ context.Context, n int) (Square, error) {
			if n == 7 {
				panic("boom")
			}
			return Square{N: n, Sq: n * n}, nil
		}, pipeline.ErrPanic},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t, time.Minute)
			p, err := pipeline.NewPool(ctx, tc.f, pipeline.WithWorkers(3))
			if err != nil {
				t.Fatal(err)
			}
			errc := submitAll(ctx, p, 1000)
			for range p.Results() {
			}
			<-p.Done()
			if err := p.Err(); !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			// The batch may all have been queued before the failure.
			if err := <-errc; err != nil && !errors.Is(err, tc.want) {
				t.Fatalf("submit: %v, want %v", err, tc.want)
			}
			if err := p.Submit(ctx, 1); !errors.Is(err, tc.want) {
				t.Fatalf("submit after the failure: %v, want %v", err, tc.want)
			}
			if err := p.Close(); !errors.Is(err, tc.want) {
				t.Fatalf("close: %v, want %v", err, tc.want)
			}
		})
	}
}

// TestPoolSkipAndCancel: ErrSkip answers a task without a result; a
// cancelled lifetime context stops the pool with its cause.
func TestPoolSkipAndCancel(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	even := func(_ context.Context, n int) (Square, error) {
		if n%2 == 1 {
			return Square{}, pipeline.ErrSkip
		}
		return Square{N: n, Sq: n * n}, nil
	}
	// One worker answers in task order: once the result of task 98 is in,
	// the skips of tasks 1 to 97 are too.
	p, err := pipeline.NewPool(ctx, even, pipeline.WithWorkers(1), pipeline.WithAtLeastOnce(time.Minute), pipeline.WithLifetime(cctx))
	if err != nil {
		t.Fatal(err)
	}
	errc := submitAll(ctx, p, 100)
	for want := 0; want < 100; want += 2 {
		if r := <-p.Results(); r.N != want {
			t.Fatalf("result %+v, want task %d", r, want)
		}
	}
	if st := p.Stats(); st.Skipped < 49 || st.InFlight > 1 {
		t.Fatalf("stats %+v: want the 49 skips before task 98 answered", st)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	cause := errors.New("caller gave up")
	cancel(cause)
	<-p.Done()
	if err := p.Err(); !errors.Is(err, cause) {
		t.Fatalf("err %v", err)
	}
	if err := p.Close(); !errors.Is(err, cause) {
		t.Fatalf("close: %v", err)
	}
}

// TestPoolInvalid: options NewPool and Work refuse.
func TestPoolInvalid(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	f := squareAfter(0)
	for _, tc := range []struct {
		name string
		opts []pipeline.Option
	}{
		{"negative workers", []pipeline.Option{pipeline.WithWorkers(-1)}},
		{"chain option", []pipeline.Option{pipeline.WithOutput("inproc://x")}},
		{"nil lifetime", []pipeline.Option{pipeline.WithLifetime(nil)}},
		{"zero timeout", []pipeline.Option{pipeline.WithAtLeastOnce(0)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if p, err := pipeline.NewPool(ctx, f, tc.opts...); !errors.Is(err, pipeline.ErrInvalidOption) {
				if p != nil {
					p.Close()
				}
				t.Fatalf("new pool: %v", err)
			}
		})
	}
	if err := pipeline.Work(ctx, f, pipeline.Endpoints{}); !errors.Is(err, pipeline.ErrInvalidOption) {
		t.Fatalf("work without endpoints: %v", err)
	}
	if err := pipeline.Work(ctx, f, pipeline.Endpoints{Tasks: "x", Results: "y", Control: "z"}, pipeline.WithLifetime(ctx)); !errors.Is(err, pipeline.ErrInvalidOption) {
		t.Fatalf("work with a pool option: %v", err)
	}
}

// TestPoolDuplicates: with a timeout shorter than a task takes, the task
// is sent again and run twice; the second result is dropped and counted,
// and the next task's result comes next.
func TestPoolDuplicates(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	var calls atomic.Int32
	slowOnce := func(ctx context.Context, n int) (Square, error) {
		if n == 1 && calls.Add(1) == 1 {
			wait := time.NewTimer(time.Second) // ten timeouts: resent meanwhile
			defer wait.Stop()
			select {
			case <-wait.C:
			case <-ctx.Done():
				return Square{}, context.Cause(ctx)
			}
		}
		return Square{N: n, Sq: n * n}, nil
	}
	p, err := pipeline.NewPool(ctx, slowOnce, pipeline.WithWorkers(1), pipeline.WithAtLeastOnce(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Submit(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if r := <-p.Results(); r.N != 1 {
		t.Fatalf("got %+v", r)
	}
	// One worker takes tasks in order: the copies of task 1 are run
	// before task 2, and their results are dropped.
	if err := p.Submit(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if r := <-p.Results(); r.N != 2 {
		t.Fatalf("got %+v after task 1, want task 2's result", r)
	}
	st := p.Stats()
	if st.Resent == 0 || st.Duplicates == 0 {
		t.Fatalf("stats %+v: want resends and duplicates", st)
	}
	t.Logf("stats %+v", st)
}

// TestPoolEndCountsSubmitUnderWay: a pool that ends (its lifetime's end,
// Close, a worker failing on that very task) while a Submit has had its
// task accepted by the ventilator but has not yet counted it waits for
// that Submit before it settles its accounting, so the task is counted in
// Submitted and in exactly one of Results, Skipped, Failed and
// Undelivered.
func TestPoolEndCountsSubmitUnderWay(t *testing.T) {
	over := errors.New("lifetime over")
	for _, tc := range []struct {
		name string
		end  func(p *pipeline.Pool[int, Square], lcancel context.CancelCauseFunc)
		fail bool // the worker fails on the task, which ends the pool
	}{
		{"lifetime", func(_ *pipeline.Pool[int, Square], lcancel context.CancelCauseFunc) { lcancel(over) }, false},
		{"close", func(p *pipeline.Pool[int, Square], _ context.CancelCauseFunc) { p.Close() }, false},
		{"failure", func(*pipeline.Pool[int, Square], context.CancelCauseFunc) {}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t, time.Minute)
			life, lcancel := context.WithCancelCause(ctx)
			defer lcancel(nil)
			f := func(_ context.Context, n int) (Square, error) {
				if tc.fail {
					return Square{}, errStage
				}
				return Square{N: n, Sq: n * n}, nil
			}
			p, err := pipeline.NewPool(ctx, f, pipeline.WithWorkers(1), pipeline.WithLifetime(life),
				pipeline.WithLinger(20*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			held, release := make(chan struct{}), make(chan struct{})
			pipeline.SetSubmitHook(p, func() { close(held); <-release }) // one Submit only
			submitted := make(chan error, 1)
			go func() { submitted <- p.Submit(ctx, 7) }()
			if endWhileHeld(t, held, release, p.Done(), func() { tc.end(p, lcancel) }) {
				t.Error("the pool was done with a Submit under way")
			}
			if err := testutil.MustRecv(t, submitted, 30*time.Second, "Submit"); err != nil {
				t.Fatalf("submit: %v, want nil: the ventilator accepted the task", err)
			}
			st := p.Stats()
			if st.Submitted != 1 || st.Submitted != st.Results+st.Skipped+st.Failed+st.Undelivered {
				t.Fatalf("stats %+v: want Submitted 1 == Results + Skipped + Failed + Undelivered", st)
			}
		})
	}
}

// TestPoolShutdownDeliversLastResult: a Shutdown whose last task has been
// answered, its result taken off the sink and waiting for Results to be
// read, waits for that read (also with WithAtLeastOnce, where the task is
// out of the in-flight table already) rather than closing and leaving the
// result undelivered.
func TestPoolShutdownDeliversLastResult(t *testing.T) {
	for _, alo := range []bool{false, true} {
		t.Run(fmt.Sprintf("alo=%v", alo), func(t *testing.T) {
			ctx := testCtx(t, time.Minute)
			opts := []pipeline.Option{pipeline.WithWorkers(1), pipeline.WithLinger(20 * time.Millisecond)}
			if alo {
				// Long enough that nothing is resent: a spare copy would be
				// undelivered for another reason.
				opts = append(opts, pipeline.WithAtLeastOnce(time.Minute))
			}
			p, err := pipeline.NewPool(ctx, squareAfter(0), opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if err := p.Submit(ctx, 3); err != nil {
				t.Fatal(err)
			}
			// The sink has taken the result off its socket once four moves
			// have been counted (submitted, taken and answered by the
			// worker, taken off the sink) and, with WithAtLeastOnce, the
			// task has left the in-flight table.
			if !testutil.Eventually(30*time.Second, func() bool {
				return p.Progress() >= 4 && p.Stats().InFlight == 0
			}) {
				t.Fatalf("the result did not reach the sink: %+v", p.Stats())
			}
			shut := make(chan error, 1)
			go func() { shut <- p.Shutdown(ctx) }()
			// Give a wrong Shutdown the time to close (a bound, not a
			// measurement), then read.
			if testutil.Done(p.Done(), endUnderWay) {
				t.Error("the pool was done before its last result was read")
			}
			if r := testutil.MustRecv(t, p.Results(), 30*time.Second, "last result"); r.Sq != 9 {
				t.Fatalf("result %+v", r)
			}
			if err := testutil.MustRecv(t, shut, 30*time.Second, "Shutdown"); err != nil {
				t.Fatalf("shutdown: %v", err)
			}
			if st := p.Stats(); st.Results != 1 || st.Undelivered != 0 {
				t.Fatalf("stats %+v: want the result delivered, nothing undelivered", st)
			}
		})
	}
}
