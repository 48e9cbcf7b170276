package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

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

// checkIdentity fails unless the pool's accounting adds up: live, or
// final once the pool is done.
func checkIdentity(t *testing.T, st pipeline.PoolStats, done bool) {
	t.Helper()
	if done && st.Submitted != st.Results+st.Skipped+st.Failed+st.Undelivered {
		t.Fatalf("stats %+v: Submitted != Results + Skipped + Failed + Undelivered", st)
	}
	if !done && st.Submitted != st.Results+st.Skipped+st.Failed+st.Lost+uint64(st.InFlight)+uint64(st.Queued) {
		t.Fatalf("stats %+v: Submitted != Results + Skipped + Failed + Lost + InFlight + Queued", st)
	}
}

// TestPoolInproc: 10 workers over inproc do every task, and all stop on
// KILL and say goodbye when the pool is shut down.
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
	if st.Joined != 10 || st.Left != 10 || st.Dead != 0 || st.Results != n || st.Submitted != n || st.Undelivered != 0 {
		t.Fatalf("stats %+v", st)
	}
	checkIdentity(t, st, true)
	if !testutil.Done(p.Done(), time.Second) {
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

// TestPoolCredit: a worker holds at most its credit: with one worker of
// credit 2 whose function blocks, 2 tasks are in flight and the rest wait
// in the pool's queue; once the queue is full too, Submit blocks. Close
// abandons them all, counted in Undelivered. The credit is 2, the least
// window, because the pool refills a window only once half of it is free
// (see dispatch): at credit 3, tasks submitted one by one as the pool
// takes them leave the never-answering worker with 2 (seen under load as
// a Submit that blocked for good, the queue full and the worker at 2).
func TestPoolCredit(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	started := make(chan int, 10)
	block := func(ctx context.Context, n int) (Square, error) {
		started <- n
		<-ctx.Done()
		return Square{}, context.Cause(ctx)
	}
	p, err := pipeline.NewPool(ctx, block, pipeline.WithWorkers(1), pipeline.WithWorkerCredit(2),
		pipeline.WithQueueSize(4), pipeline.WithWaitForWorkers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const tasks = 7 // 2 with the worker, 1 + 4 queued (the queue allows one per worker beyond its size)
	for i := range tasks {
		if err := p.Submit(ctx, i); err != nil {
			t.Fatalf("submit %d: %v; stats %+v", i, err, p.Stats())
		}
	}
	testutil.MustRecv(t, started, 30*time.Second, "first task started")
	if !testutil.Eventually(30*time.Second, func() bool { st := p.Stats(); return st.InFlight == 2 && st.Queued == 5 }) {
		t.Fatalf("stats %+v: want 2 in flight (the credit), 5 queued", p.Stats())
	}
	checkIdentity(t, p.Stats(), false)
	sctx, cancel := context.WithTimeout(ctx, endUnderWay)
	defer cancel()
	if err := p.Submit(sctx, 9); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("submit beyond credit and queue: %v, want it to block", err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	if st.Undelivered != tasks || st.Submitted != tasks {
		t.Fatalf("stats %+v: want the %d tasks undelivered", st, tasks)
	}
	checkIdentity(t, st, true)
}

// TestPoolCloseAbandonsUnread: Close with results waiting to be read and
// workers busy sends KILL over the link; every worker says goodbye
// (no false warning), and the unread results are counted undelivered.
func TestPoolCloseAbandonsUnread(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	core, logs := observer.New(zap.WarnLevel)
	p, err := pipeline.NewPool(ctx, squareAfter(0), pipeline.WithWorkers(3), pipeline.WithWaitForWorkers(3),
		pipeline.WithEndpoint(testutil.IPC(t)), pipeline.WithLogger(zap.New(core)))
	if err != nil {
		t.Fatal(err)
	}
	errc := submitAll(ctx, p, 100) // the pool takes 100 (queue) but only the credit's worth are answered
	if !testutil.Eventually(30*time.Second, func() bool { return p.Stats().Submitted == 100 }) {
		t.Fatalf("stats %+v", p.Stats())
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	if st.Left != 3 || st.Results != 0 || st.Undelivered != 100 {
		t.Fatalf("stats %+v: want 3 goodbyes, 100 undelivered", st)
	}
	checkIdentity(t, st, true)
	if n := logs.FilterMessageSnippet("goodbye").Len(); n != 0 {
		t.Fatalf("%d goodbye warnings: %v", n, logs.All())
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
			if err := <-errc; err != nil && !errors.Is(err, tc.want) {
				t.Fatalf("submit: %v, want %v", err, tc.want)
			}
			if err := p.Submit(ctx, 1); !errors.Is(err, tc.want) {
				t.Fatalf("submit after the failure: %v, want %v", err, tc.want)
			}
			if err := p.Close(); !errors.Is(err, tc.want) {
				t.Fatalf("close: %v, want %v", err, tc.want)
			}
			st := p.Stats()
			if st.Failed != 1 {
				t.Fatalf("stats %+v: want the failed task counted", st)
			}
			checkIdentity(t, st, true)
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
	p, err := pipeline.NewPool(ctx, even, pipeline.WithWorkers(1), pipeline.WithLifetime(cctx))
	if err != nil {
		t.Fatal(err)
	}
	errc := submitAll(ctx, p, 100)
	for want := 0; want < 100; want += 2 {
		if r := <-p.Results(); r.N != want {
			t.Fatalf("result %+v, want task %d", r, want)
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if !testutil.Eventually(30*time.Second, func() bool { return p.Stats().Skipped == 50 }) {
		t.Fatalf("stats %+v: want 50 skips", p.Stats())
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
	checkIdentity(t, p.Stats(), true)
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
		{"zero credit", []pipeline.Option{pipeline.WithWorkerCredit(0)}},
		{"liveness 1", []pipeline.Option{pipeline.WithHeartbeat(time.Second, 1)}},
		{"events of another type", []pipeline.Option{pipeline.WithEvents(make(chan pipeline.PoolEvent[string]))}},
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
	if _, err := pipeline.Work(ctx, f, ""); !errors.Is(err, pipeline.ErrInvalidOption) {
		t.Fatalf("work without an endpoint: %v", err)
	}
	if _, err := pipeline.Work(ctx, f, "inproc://x", pipeline.WithLifetime(ctx)); !errors.Is(err, pipeline.ErrInvalidOption) {
		t.Fatalf("work with a pool option: %v", err)
	}
}

// TestPoolShutdownDeliversLastResult: a Shutdown whose last task has been
// answered, its result waiting for Results to be read, waits for that
// read rather than closing and leaving the result undelivered: held by
// the pool (Results unbuffered) or in the channel's buffer, which a read
// empties without waking the pool.
func TestPoolShutdownDeliversLastResult(t *testing.T) {
	for _, buf := range []int{0, pipeline.DefaultResultBuffer} {
		t.Run(fmt.Sprintf("buffer%d", buf), func(t *testing.T) { testShutdownDeliversLast(t, buf) })
	}
}

func testShutdownDeliversLast(t *testing.T, buf int) {
	ctx := testCtx(t, time.Minute)
	p, err := pipeline.NewPool(ctx, squareAfter(0), pipeline.WithWorkers(1), pipeline.WithLinger(20*time.Millisecond),
		pipeline.WithResultBuffer(buf))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Submit(ctx, 3); err != nil {
		t.Fatal(err)
	}
	// Answered: taken, sent, answered (3 moves), and then in flight until
	// handed over (unbuffered), or handed to the buffer.
	if !testutil.Eventually(30*time.Second, func() bool {
		st := p.Stats()
		return p.Progress() >= 3 && (buf == 0 && st.InFlight == 1 || buf > 0 && st.Results == 1)
	}) {
		t.Fatalf("the result did not come back: %+v", p.Stats())
	}
	shut := make(chan error, 1)
	go func() { shut <- p.Shutdown(ctx) }()
	if testutil.Done(p.Done(), endUnderWay) {
		t.Error("the pool was done before its last result was read")
	}
	if r := testutil.MustRecv(t, p.Results(), 30*time.Second, "last result"); r.Sq != 9 {
		t.Fatalf("result %+v", r)
	}
	if err := testutil.MustRecv(t, shut, 30*time.Second, "Shutdown"); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if st := p.Stats(); st.Results != 1 || st.Undelivered != 0 || st.Left != 1 {
		t.Fatalf("stats %+v: want the result delivered, nothing undelivered, the worker's goodbye", st)
	}
}

// TestPoolShutdownReadsShowProgress: while a Shutdown waits for the
// consumer to read the Results channel's buffer (a read wakes nobody, so
// the pool looks every millisecond), Progress moves when the pool sees a
// read, so that a shutdown.Group does not take the pool for still.
func TestPoolShutdownReadsShowProgress(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	p, err := pipeline.NewPool(ctx, squareAfter(0), pipeline.WithWorkers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i := range 2 {
		if err := p.Submit(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	if !testutil.Eventually(30*time.Second, func() bool { return p.Stats().Results == 2 }) {
		t.Fatalf("results not handed over: %+v", p.Stats())
	}
	before := p.Progress() // everything has moved: nothing else moves it now
	shut := make(chan error, 1)
	go func() { shut <- p.Shutdown(ctx) }()
	testutil.MustRecv(t, p.Results(), 30*time.Second, "first result")
	if !testutil.Eventually(30*time.Second, func() bool { return p.Progress() > before }) {
		t.Fatal("Progress stood still while Shutdown waited for the consumer's reads")
	}
	if testutil.Done(p.Done(), endUnderWay) {
		t.Fatal("the pool was done before its last result was read")
	}
	testutil.MustRecv(t, p.Results(), 30*time.Second, "second result")
	if err := testutil.MustRecv(t, shut, 30*time.Second, "Shutdown"); err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.Results != 2 || st.Undelivered != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestWorkStats: Work in this process, over ipc, does its share and
// returns what it did and nil once the pool's Shutdown sent KILL.
func TestWorkStats(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	p, err := pipeline.NewPool(ctx, squareAfter(0), pipeline.WithWorkers(0), pipeline.WithWaitForWorkers(2),
		pipeline.WithEndpoint(testutil.IPC(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	type out struct {
		st  pipeline.WorkStats
		err error
	}
	wc := make(chan out, 1)
	go func() {
		st, err := pipeline.Work(ctx, squareAfter(0), p.Endpoint(), pipeline.WithWorkers(2))
		wc <- out{st, err}
	}()
	const n = 500
	errc := submitAll(ctx, p, n)
	collect(t, ctx, p, n, nil)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	w := testutil.MustRecv(t, wc, 30*time.Second, "Work")
	if w.err != nil || w.st.Done != n || w.st.Discarded != 0 || w.st.Duration <= 0 {
		t.Fatalf("work: %+v, %v", w.st, w.err)
	}
}

// TestPoolEvents: a worker that joins and one that goes silent (its
// process-local stand-in: a Work whose context is cancelled without a
// goodbye is not possible, so a DEALER that registers and stops talking)
// are reported as joined and dead, with the tasks it held.
func TestPoolEvents(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	events := make(chan pipeline.PoolEvent[int], 16)
	p, err := pipeline.NewPool(ctx, squareAfter(0), pipeline.WithWorkers(0), pipeline.WithEvents[int](events),
		pipeline.WithEndpoint(testutil.IPC(t)), pipeline.WithHeartbeat(50*time.Millisecond, 4))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	mute := muteWorker(t, ctx, p.Endpoint(), 2)
	ev := testutil.MustRecv(t, events, 30*time.Second, "joined")
	if ev.Kind != pipeline.WorkerJoined || ev.Worker != "mute" {
		t.Fatalf("event %+v", ev)
	}
	for i := range 3 {
		if err := p.Submit(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	ev = testutil.MustRecv(t, events, 30*time.Second, "dead")
	if ev.Kind != pipeline.WorkerDead || len(ev.IDs) != 2 || ev.Resent || len(ev.Tasks) != 2 {
		t.Fatalf("event %+v: want the mute worker dead with its credit of 2 lost", ev)
	}
	st := p.Stats()
	if st.Lost != 2 || st.Dead != 1 || st.Queued != 1 {
		t.Fatalf("stats %+v", st)
	}
	checkIdentity(t, st, false)
	mute()
}

// TestProtocolStrings: the event kinds print as words.
func TestProtocolStrings(t *testing.T) {
	if s := pipeline.WorkerDead.String(); !strings.Contains(s, "dead") {
		t.Fatal(s)
	}
}

// muteWorker registers with credit on the pool at ep, as the protocol
// says (READY: 'h' and the credit as 4 bytes big-endian, then a name),
// and then says nothing more and reads nothing: a worker that hangs.
func muteWorker(t *testing.T, ctx context.Context, ep string, credit int) (stop func()) {
	t.Helper()
	d, err := zchan.Open(ctx, zchan.Dealer, zchan.WithConnect(ep), zchan.WithLinger(0), zchan.WithRecvBuffer(0))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Send(ctx, zchan.Msg{{'h', 0, 0, 0, byte(credit)}, []byte("mute")}); err != nil {
		d.Close()
		t.Fatal(err)
	}
	return func() { d.Close() }
}

// TestPoolShutdownDeadline: a local worker busy in a task that only its
// context stops holds Shutdown's drain until Shutdown's ctx ends; then the
// pool closes at once, the worker's context is cancelled, it says
// goodbye, and the task it held is counted undelivered.
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
	if st.Left != 2 || st.Undelivered != 1 || st.Submitted != 1 {
		t.Fatalf("stats %+v: want 2 goodbyes, the task undelivered", st)
	}
	checkIdentity(t, st, true)
	if err := p.Submit(ctx, 1); !errors.Is(err, pipeline.ErrClosed) {
		t.Fatalf("submit after shutdown: %v", err)
	}
}

// TestPoolUnreadResultsStopWorkers: a consumer that does not read Results
// stops the workers once the channel's buffer is full and the results
// waiting beyond it reach the workers' credit all together: the function
// runs at most the buffer plus twice that (the results waiting, and what
// the workers held when the bound was met), the rest stays queued, and
// once read every task is accounted for.
func TestPoolUnreadResultsStopWorkers(t *testing.T) {
	for _, buf := range []int{0, 3} {
		t.Run(fmt.Sprintf("buffer%d", buf), func(t *testing.T) { testUnreadStops(t, buf) })
	}
}

func testUnreadStops(t *testing.T, buf int) {
	ctx := testCtx(t, time.Minute)
	var calls atomic.Int64
	f := func(_ context.Context, n int) (Square, error) {
		calls.Add(1)
		return Square{N: n, Sq: n * n}, nil
	}
	const workers, credit, tasks = 2, 2, 50
	p, err := pipeline.NewPool(ctx, f, pipeline.WithWorkers(workers), pipeline.WithWorkerCredit(credit),
		pipeline.WithWaitForWorkers(workers), pipeline.WithResultBuffer(buf))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i := range tasks {
		if err := p.Submit(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	// Give the workers time to run what they would (a bound, not a
	// synchronisation: the checks below hold however long this is).
	if testutil.Done(p.Done(), 300*time.Millisecond) {
		t.Fatalf("pool ended: %v", p.Err())
	}
	st := p.Stats()
	if n := calls.Load(); n > int64(2*workers*credit+buf) || st.InFlight > 2*workers*credit || st.Results > uint64(buf) {
		t.Fatalf("calls %d, stats %+v: want at most %d run with Results unread (%d in its buffer)", n, st, 2*workers*credit+buf, buf)
	}
	checkIdentity(t, st, false)
	for i := range tasks {
		select {
		case _, ok := <-p.Results():
			if !ok {
				t.Fatalf("results closed at %d: %v", i, p.Err())
			}
		case <-ctx.Done():
			t.Fatalf("timed out at %d", i)
		}
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	st = p.Stats()
	if st.Results != tasks || calls.Load() != tasks {
		t.Fatalf("stats %+v, calls %d: want %d", st, calls.Load(), tasks)
	}
	checkIdentity(t, st, true)
}
