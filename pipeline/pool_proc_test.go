package pipeline_test

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/internal/childproc"
	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/pipeline"
)

// The process tests run worker processes (the test binary as the child
// "worker", running Work) against a pool in the test, and kill, stop and
// interrupt them with real signals. Their sizes are for CI; the issue's
// sizes are behind environment variables:
//
//	PIPELINE_BIG=1   100,000 tasks per SIGKILL run (else 3,000), and
//	                 5 runs of every variant (else one of two)
//	PIPELINE_SOAK=1  the heartbeat soak at 20 cycles of a 30 s stall
//	                 (else 2 cycles of 1.5 s)
func big() bool { return os.Getenv("PIPELINE_BIG") != "" }

// startWorkers starts n worker processes on the pool at ep, each one
// Work worker with delay d per task, named w0, w1...
func startWorkers(t *testing.T, ep string, n int, d time.Duration) []*childproc.Child {
	var cs []*childproc.Child
	for i := range n {
		cs = append(cs, startWorker(t, ep, fmt.Sprintf("w%d", i), d))
	}
	return cs
}

func startWorker(t *testing.T, ep, name string, d time.Duration) *childproc.Child {
	return childproc.Start(t, "worker", "PIPELINE_POOL="+ep, "PIPELINE_NAME="+name, "PIPELINE_DELAY="+d.String())
}

// workerDone waits for a worker process to exit 0 (it does on KILL) and
// returns how many tasks it did.
func workerDone(t *testing.T, c *childproc.Child, d time.Duration) int {
	t.Helper()
	line, err := c.Expect("done ", d)
	if err != nil {
		t.Fatalf("worker: %v\n%s", err, c.Stderr())
	}
	st, err := c.Wait(d)
	if err != nil || !st.Success() {
		t.Fatalf("worker exit %v, %v\n%s", st, err, c.Stderr())
	}
	n, _ := strconv.Atoi(strings.Fields(line)[1])
	return n
}

// TestPoolWorkerKilled: one of 3 worker processes is SIGKILLed in the
// middle of a batch. With WithAtLeastOnce every task is delivered exactly
// once and at most the dead worker's credit is resent; without it every
// task is delivered or named lost (at most the credit), never both, and
// the pool finishes with the others instead of hanging. Over tcp and ipc.
func TestPoolWorkerKilled(t *testing.T) {
	n, runs := 3000, 1
	if big() {
		n, runs = 100_000, 5
	}
	type variant struct {
		ep  func(testing.TB) string
		alo bool
	}
	variants := []variant{{testutil.TCP, true}, {testutil.IPC, false}}
	if big() {
		variants = append(variants, variant{testutil.TCP, false}, variant{testutil.IPC, true})
	}
	for _, v := range variants {
		for run := range runs {
			t.Run(fmt.Sprintf("%s/alo=%v/%d", strings.SplitN(v.ep(t), ":", 2)[0], v.alo, run), func(t *testing.T) {
				killRun(t, v.ep(t), v.alo, n)
			})
		}
	}
}

func killRun(t *testing.T, ep string, alo bool, n int) {
	ctx := testCtx(t, time.Duration(max(1, n/10_000))*time.Minute)
	events := make(chan pipeline.PoolEvent[int], 64)
	opts := []pipeline.Option{pipeline.WithWorkers(0), pipeline.WithWaitForWorkers(3), pipeline.WithEndpoint(ep),
		pipeline.WithEvents[int](events)}
	if alo {
		opts = append(opts, pipeline.WithAtLeastOnce())
	}
	p, err := pipeline.NewPool(ctx, squareAfter(0), opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	d := time.Millisecond
	if n > 10_000 {
		d = 0
	}
	ws := startWorkers(t, p.Endpoint(), 3, d)
	errc := submitAll(ctx, p, n)
	seen := make([]bool, n)
	lost := map[int]bool{}
	got := 0
	var killedAt time.Time
	var deadAfter time.Duration
	for got+len(lost) < n {
		select {
		case r, ok := <-p.Results():
			if !ok {
				t.Fatalf("results closed after %d: %v", got, p.Err())
			}
			if r.N < 0 || r.N >= n || r.Sq != r.N*r.N || seen[r.N] || lost[r.N] {
				t.Fatalf("bad or duplicate result %+v (lost: %v)", r, lost[r.N])
			}
			seen[r.N] = true
			if got++; got == n/3 {
				if err := ws[0].Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				killedAt = time.Now()
			}
		case ev := <-events:
			if ev.Kind != pipeline.WorkerDead {
				continue
			}
			deadAfter = time.Since(killedAt)
			if ev.Worker != "w0.0" || ev.Resent != alo {
				t.Fatalf("event %+v: want w0.0 dead", ev)
			}
			if !alo {
				for _, v := range ev.Tasks {
					if seen[v] {
						t.Fatalf("task %d reported lost and delivered", v)
					}
					lost[v] = true
				}
			}
		case <-ctx.Done():
			t.Fatalf("hung after %d results, %d lost: %+v", got, len(lost), p.Stats())
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	t.Logf("%d tasks: SIGKILL to declared dead %v; resent %d, lost %d (the credit %d); stats %+v", n,
		deadAfter.Round(time.Millisecond), st.Resent, st.Lost, pipeline.DefaultCredit, st)
	if st.Dead != 1 {
		t.Fatalf("stats %+v: want the victim declared dead", st)
	}
	credit := uint64(pipeline.DefaultCredit)
	if alo && (st.Resent > credit || st.Lost != 0 || len(lost) != 0) {
		t.Fatalf("stats %+v: want nothing lost and at most %d resent", st, credit)
	}
	if !alo && (st.Lost != uint64(len(lost)) || st.Lost > credit || st.Resent != 0) {
		t.Fatalf("stats %+v: %d named lost: want Lost == named, at most %d", st, len(lost), credit)
	}
	checkIdentity(t, st, false)
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, w := range ws[1:] {
		workerDone(t, w, 30*time.Second)
	}
	checkIdentity(t, p.Stats(), true)
}

// TestPoolWorkerStopped: a worker process is stopped (SIGSTOP) for longer
// than the liveness bound, then continued. It is declared dead and its
// tasks are reported lost (not run again by another worker: no task is
// delivered twice, none both delivered and lost); when it comes back it
// registers again and does work. With PIPELINE_BIG, also with
// WithAtLeastOnce: its tasks are re-dispatched and every one is
// delivered exactly once.
func TestPoolWorkerStopped(t *testing.T) {
	modes := []bool{false}
	if big() {
		modes = append(modes, true)
	}
	for _, alo := range modes {
		t.Run(fmt.Sprintf("alo=%v", alo), func(t *testing.T) { stopRun(t, alo) })
	}
}

func stopRun(t *testing.T, alo bool) {
	ctx := testCtx(t, 3*time.Minute)
	events := make(chan pipeline.PoolEvent[int], 64)
	opts := []pipeline.Option{pipeline.WithWorkers(0), pipeline.WithWaitForWorkers(3), pipeline.WithEndpoint(testutil.TCP(t)),
		pipeline.WithEvents[int](events)}
	if alo {
		opts = append(opts, pipeline.WithAtLeastOnce())
	}
	p, err := pipeline.NewPool(ctx, squareAfter(0), opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ws := startWorkers(t, p.Endpoint(), 3, 2*time.Millisecond)
	const n = 3000
	errc := submitAll(ctx, p, n)
	seen := make([]bool, n)
	lost := map[int]bool{}
	got, joined := 0, 0
	stopped, continued := false, false
	for got+len(lost) < n || !continued {
		select {
		case r, ok := <-p.Results():
			if !ok {
				t.Fatalf("results closed after %d: %v", got, p.Err())
			}
			if r.N < 0 || r.N >= n || r.Sq != r.N*r.N || seen[r.N] || lost[r.N] {
				t.Fatalf("bad or duplicate result %+v (lost: %v)", r, lost[r.N])
			}
			seen[r.N] = true
			if got++; got == n/4 {
				if err := ws[0].Signal(syscall.SIGSTOP); err != nil {
					t.Fatal(err)
				}
				stopped = true
			}
		case ev := <-events:
			switch ev.Kind {
			case pipeline.WorkerJoined:
				if joined++; joined == 4 && ev.Worker != "w0.0" {
					t.Fatalf("event %+v: want the stopped worker back", ev)
				}
			case pipeline.WorkerDead:
				if !stopped || ev.Worker != "w0.0" {
					t.Fatalf("event %+v: false death", ev)
				}
				if !alo {
					for _, v := range ev.Tasks {
						if seen[v] {
							t.Fatalf("task %d reported lost and delivered", v)
						}
						lost[v] = true
					}
				}
				// Stopped beyond the bound: continue it.
				if err := ws[0].Signal(syscall.SIGCONT); err != nil {
					t.Fatal(err)
				}
				continued = true
			}
		case <-ctx.Done():
			t.Fatalf("hung after %d results, %d lost: %+v", got, len(lost), p.Stats())
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if !testutil.Eventually(30*time.Second, func() bool { return p.Stats().Workers == 3 }) {
		t.Fatalf("stats %+v: the continued worker did not register again", p.Stats())
	}
	st := p.Stats()
	t.Logf("stats %+v", st)
	credit := uint64(pipeline.DefaultCredit)
	if st.Dead != 1 || (alo && st.Resent > credit) || (!alo && (st.Lost > credit || st.Lost != uint64(len(lost)))) {
		t.Fatalf("stats %+v", st)
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		workerDone(t, w, 30*time.Second)
	}
	checkIdentity(t, p.Stats(), true)
}

// TestPoolSlowWorker: a worker 10 times slower than the two others gets
// proportionally fewer tasks: the pool sends work where it is done, not
// round robin. The proportion is asserted loosely (the slow one does less
// than a third of a fast one's share). The batch with the slow worker is
// timed against the same batch on the two fast ones alone, in the same
// pool just before (after a warm-up batch): what the slow one holds at the
// batch's end (its window, at most its credit) is the difference. The
// times are logged, not asserted (the issue asks for within 20%).
func TestPoolSlowWorker(t *testing.T) {
	ctx := testCtx(t, 3*time.Minute)
	p, err := pipeline.NewPool(ctx, squareAfter(0), pipeline.WithWorkers(0), pipeline.WithWaitForWorkers(2),
		pipeline.WithEndpoint(testutil.IPC(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const warm, n, last = 200, 1000, 10
	// batchOf runs a batch of n and returns its time, and the time its
	// last results took: what a worker still held at the end adds to it.
	batchOf := func(n int) (el, tail time.Duration) {
		t.Helper()
		start := time.Now()
		errc := submitAll(ctx, p, n)
		var at time.Time
		collect(t, ctx, p, n, func(got int) {
			if got == n-last {
				at = time.Now()
			}
		})
		el, tail = time.Since(start), time.Since(at)
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		return el, tail
	}
	fast := startWorkers(t, p.Endpoint(), 2, time.Millisecond)
	batchOf(warm)
	fastOnly, fastTail := batchOf(n)
	slow := startWorker(t, p.Endpoint(), "slow", 10*time.Millisecond)
	if !testutil.Eventually(30*time.Second, func() bool { return p.Stats().Workers == 3 }) {
		t.Fatalf("stats %+v: the slow worker did not register", p.Stats())
	}
	mixed, mixedTail := batchOf(n)
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	f0, f1, s := workerDone(t, fast[0], 30*time.Second), workerDone(t, fast[1], 30*time.Second), workerDone(t, slow, 30*time.Second)
	fastShare := (f0 + f1 - warm - n) / 2 // a fast worker's share of the mixed batch
	t.Logf("%d tasks with the slow worker in %v, on the fast ones alone in %v: %.2f; the last %d results in %v against %v; the slow one did %d, a fast one %d",
		n, mixed.Round(time.Millisecond), fastOnly.Round(time.Millisecond), float64(mixed)/float64(fastOnly), last,
		mixedTail.Round(100*time.Microsecond), fastTail.Round(100*time.Microsecond), s, fastShare)
	if f0+f1+s != warm+2*n || 3*s > fastShare {
		t.Fatalf("fast %d and %d, slow %d: want the slow one to do under a third of a fast one's share (%d)", f0, f1, s, fastShare)
	}
}

// TestPoolSIGINT: a pool process whose lifetime is its SIGINT context is
// interrupted while its 3 worker processes are busy: every worker gets
// KILL over its link and exits (0) within a bounded wait, and the pool
// logs no goodbye warning: every worker said goodbye.
func TestPoolSIGINT(t *testing.T) {
	pool := childproc.Start(t, "poolproc")
	line, err := pool.Expect("endpoint ", 30*time.Second)
	if err != nil {
		t.Fatalf("pool: %v\n%s", err, pool.Stderr())
	}
	ep := strings.Fields(line)[1]
	ws := startWorkers(t, ep, 3, time.Millisecond)
	if _, err := pool.Expect("running", 30*time.Second); err != nil {
		t.Fatalf("pool: %v\n%s", err, pool.Stderr())
	}
	if err := pool.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	// The bound is the kill bound plus a slow machine's slack: a bound on
	// a hang, not a measured time.
	for _, w := range ws {
		workerDone(t, w, pipeline.DefaultKillTimeout+30*time.Second)
	}
	end, err := pool.Expect("ended ", 30*time.Second)
	if err != nil {
		t.Fatalf("pool: %v\n%s", err, pool.Stderr())
	}
	var joined, left, dead, warnings int
	if _, err := fmt.Sscanf(end, "ended joined %d left %d dead %d warnings %d", &joined, &left, &dead, &warnings); err != nil {
		t.Fatalf("%q: %v", end, err)
	}
	if joined != 3 || left != 3 || dead != 0 || warnings != 0 {
		t.Fatalf("pool: %s: want 3 joined, 3 goodbyes, no warning", end)
	}
	if st, err := pool.Wait(30 * time.Second); err != nil || !st.Success() {
		t.Fatalf("pool exit %v, %v\n%s", st, err, pool.Stderr())
	}
}

// TestPoolHeartbeatSoak: a consumer that stops reading Results for longer
// than the liveness bound, again and again, with 2 worker processes over
// tcp: the workers stop at their credit (back pressure), but the
// heartbeats go on both ways, so no worker is declared dead, nothing is
// lost, and no process aborts. CI runs 2 cycles of 1.5 s (the bound is 1 s);
// PIPELINE_SOAK=1 runs the 20 cycles of 30 s.
func TestPoolHeartbeatSoak(t *testing.T) {
	cycles, stall := 2, 1500*time.Millisecond
	if os.Getenv("PIPELINE_SOAK") != "" {
		cycles, stall = 20, 30*time.Second
	}
	bound := time.Duration(cycles) * (stall + 30*time.Second)
	ctx := testCtx(t, bound)
	// The worker processes must outlive the soak (their own bound is 3
	// minutes by default, shorter than 20 stalls of 30 s).
	t.Setenv("PIPELINE_CHILD_BOUND", bound.String())
	p, err := pipeline.NewPool(ctx, squareAfter(0), pipeline.WithWorkers(0), pipeline.WithWaitForWorkers(2),
		pipeline.WithEndpoint(testutil.TCP(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ws := startWorkers(t, p.Endpoint(), 2, 0)
	const per = 500
	n := cycles * per
	errc := submitAll(ctx, p, n)
	for c := range cycles {
		for range per {
			if _, ok := testutil.MustRecv(t, p.Results(), 30*time.Second, "result"), true; !ok {
				t.Fatal("results closed")
			}
		}
		// Stall: wait without reading.
		if testutil.Done(p.Done(), stall) {
			t.Fatalf("cycle %d: the pool ended: %v", c, p.Err())
		}
		if st := p.Stats(); st.Dead != 0 || st.Workers != 2 {
			t.Fatalf("cycle %d: stats %+v: a false death", c, st)
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		workerDone(t, w, 30*time.Second)
	}
	st := p.Stats()
	if st.Dead != 0 || st.Lost != 0 || st.Results != uint64(n) {
		t.Fatalf("stats %+v", st)
	}
}

// python3 returns an interpreter that can import zmq (the one on PATH
// may not; /usr/bin/python3 has pyzmq), or fails the test.
func python3(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("PYTHON3"), "/usr/bin/python3", "python3"} {
		if p != "" && exec.Command(p, "-c", "import zmq").Run() == nil {
			return p
		}
	}
	t.Fatal("no python3 can import zmq")
	return ""
}

// TestPoolPythonWorker: a pyzmq worker written from the protocol in the
// package doc (testdata/pool_worker.py) joins a Go pool beside a local Go
// worker, does its share, and exits on KILL after saying goodbye.
func TestPoolPythonWorker(t *testing.T) {
	py := python3(t)
	ctx := testCtx(t, 2*time.Minute)
	p, err := pipeline.NewPool(ctx, squareAfter(2*time.Millisecond), pipeline.WithWorkers(1),
		pipeline.WithWaitForWorkers(2), pipeline.WithEndpoint(testutil.TCP(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	cmd := exec.Command(py, "testdata/pool_worker.py", p.Endpoint(), "0.002")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-exited
		}
	}()
	const n = 400
	errc := submitAll(ctx, p, n)
	collect(t, ctx, p, n, nil)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := testutil.MustRecv(t, exited, 30*time.Second, "python worker exit"); err != nil {
		t.Fatalf("python worker: %v\n%s", err, out.String())
	}
	var done int
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(l, "done ") {
			done, _ = strconv.Atoi(strings.TrimPrefix(l, "done "))
		}
	}
	st := p.Stats()
	t.Logf("python did %d of %d; stats %+v", done, n, st)
	if done < n/10 || st.Left != 2 || st.Dead != 0 {
		t.Fatalf("python worker did %d of %d (want at least a tenth), stats %+v\n%s", done, n, st, out.String())
	}
}
