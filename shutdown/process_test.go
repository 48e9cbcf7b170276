package shutdown_test

import (
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/internal/childproc"
	"github.com/zmqchan/zmqchan/shutdown"
	"github.com/zmqchan/zmqchan/zchan"
)

// watchdog bounds every wait on a child. It is far above any shutdown
// these tests expect, so that it only catches a hang.
const watchdog = 20 * time.Second

func readResult(t *testing.T, c *childproc.Child) result {
	t.Helper()
	line, err := c.Expect("RESULT ", watchdog)
	if err != nil {
		t.Fatal(err)
	}
	var r result
	if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "RESULT ")), &r); err != nil {
		t.Fatalf("result %q: %v", line, err)
	}
	return r
}

// run is one signalled run of the load service.
type run struct {
	sig      syscall.Signal
	v        variant
	exit     time.Duration // from the signal to the child's exit
	shutdown time.Duration // the child's own measure of shutdown (Report.Took)
	res      result
}

// variant is how a run of the load service shuts down.
type variant int

const (
	settled  variant = iota // the default settle period and drain timeout
	noSettle                // no settle period (WithSettle(0))
	cutShort                // a drain timeout (1ms) too short to drain
)

// signalUnderLoad starts the service, waits until messages flow, sends sig
// and checks the exit code and the accounting. A run cut short by its
// drain deadline must end with that error (ErrDrainTimeout) and nothing
// else (in particular not ErrStillRunning), and the exit code the service
// chooses for a failed shutdown (1).
func signalUnderLoad(t *testing.T, sig syscall.Signal, transport string, v variant) (run, bool) {
	env := []string{"SVC_MODE=load"}
	if transport != "" {
		env = append(env, "SVC_TRANSPORT="+transport)
	}
	switch v {
	case noSettle:
		env = append(env, "SVC_SETTLE=0s")
	case cutShort:
		env = append(env, "SVC_DRAIN=1ms")
	}
	c := childproc.Start(t, "service", env...)
	if _, err := c.Expect("READY", watchdog); err != nil {
		t.Error(err)
		return run{}, false
	}
	start := time.Now()
	if err := c.Signal(sig); err != nil {
		t.Error(err)
		return run{}, false
	}
	st, err := c.Wait(watchdog)
	el := time.Since(start)
	if err != nil {
		t.Error(err)
		return run{}, false
	}
	line, err := c.Expect("RESULT ", time.Second)
	if err != nil {
		t.Error(err)
		return run{}, false
	}
	var r result
	if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "RESULT ")), &r); err != nil {
		t.Errorf("result %q: %v", line, err)
		return run{}, false
	}
	ok := true
	want := 128 + int(sig)
	if v == cutShort {
		want = 1
	}
	if st.ExitCode() != want {
		t.Errorf("%v: exit code %d, want %d (err %q); stderr:\n%s", sig, st.ExitCode(), want, r.Err, c.Stderr())
		ok = false
	}
	if v == cutShort {
		// Every error joined in Wait's is the deadline's.
		for _, line := range strings.Split(r.Err, "\n") {
			if !strings.HasPrefix(line, shutdown.ErrDrainTimeout.Error()+": ") {
				t.Errorf("%v: shutdown error %q, want only ErrDrainTimeout", sig, line)
				ok = false
			}
		}
	} else if r.Err != "" {
		t.Errorf("%v: shutdown error: %s", sig, r.Err)
		ok = false
	}
	if r.Sent != r.Delivered+r.Undelivered+r.Lost+r.Transit {
		t.Errorf("%v over %q: sent %d != delivered %d + undelivered %d + lost %d + lost in transit %d\n%s\n%+v",
			sig, transport, r.Sent, r.Delivered, r.Undelivered, r.Lost, r.Transit, r.Report, r.Stats)
		ok = false
	}
	return run{sig: sig, v: v, exit: el, shutdown: r.Took, res: r}, ok
}

// TestSignalUnderLoad sends SIGINT or SIGTERM, 50 times, to a service
// (ventilator, worker, sink) under sustained load, over inproc and tcp,
// two children at a time. Each child must exit with the code it chose,
// with every message accounted for: sent = delivered + undelivered (the
// sockets' Undelivered, from the Report) + lost (counted by the worker).
// Over inproc, an eighth of the runs shut down without a settle period,
// and an eighth with a drain deadline too short to drain (1ms), so that
// sockets stop at once under load and messages are left undelivered and
// counted. The time from the signal to the exit is logged as a
// distribution, not asserted: only the watchdog bounds it.
func TestSignalUnderLoad(t *testing.T) {
	const runs, parallel = 50, 2
	jobs := make(chan int)
	var (
		mu      sync.Mutex
		results []run
		wg      sync.WaitGroup
	)
	for w := 0; w < parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				sig := syscall.SIGINT
				if i%2 == 1 {
					sig = syscall.SIGTERM
				}
				transport := ""
				if i%4 >= 2 {
					transport = "tcp"
				}
				// Over inproc, what a stopped socket left in libzmq is
				// visible to the next one, so the accounting must close
				// without a settle period, and when the deadline stops
				// every socket at once.
				v := settled
				switch {
				case transport == "" && i%8 == 4:
					v = noSettle
				case transport == "" && i%8 == 5:
					v = cutShort
				}
				if r, ok := signalUnderLoad(t, sig, transport, v); ok {
					mu.Lock()
					results = append(results, r)
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < runs; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if len(results) != runs {
		t.Fatalf("%d of %d runs succeeded", len(results), runs)
	}
	var exits, downs []time.Duration
	var sent, undelivered uint64
	withUndelivered := 0
	for _, r := range results {
		if r.res.Undelivered+r.res.Lost > 0 {
			withUndelivered++
		}
		exits = append(exits, r.exit)
		downs = append(downs, r.shutdown)
		sent += r.res.Sent
		undelivered += r.res.Undelivered + r.res.Lost
	}
	linger := zchan.DefaultLinger
	t.Logf("signal to exit over %d runs (linger %v): %s", runs, linger, percentiles(exits, linger))
	t.Logf("shutdown (Report.Took) over %d runs: %s", runs, percentiles(downs, linger))
	var transit uint64
	for _, r := range results {
		transit += r.res.Transit
	}
	t.Logf("messages: %d sent in all, %d undelivered (%.4f%%) in %d runs, %d lost in transit, all accounted for", sent, undelivered, 100*float64(undelivered)/float64(sent), withUndelivered, transit)
	var cut uint64
	for _, r := range results {
		if r.v == cutShort {
			cut += r.res.Undelivered
		}
	}
	if cut == 0 {
		t.Error("no run cut short by its drain deadline left a message undelivered: the counting path was not exercised")
	}
	t.Logf("report of the last run:\n%s", results[len(results)-1].res.Report)
}

func percentiles(d []time.Duration, linger time.Duration) string {
	d = slices.Clone(d)
	slices.Sort(d)
	p := func(q float64) time.Duration { return d[int(q*float64(len(d)-1))] }
	r := func(x time.Duration) string {
		return x.Round(time.Millisecond).String() + " (" + strconvF(float64(x)/float64(linger)) + "×linger)"
	}
	return "min " + r(d[0]) + ", p50 " + r(p(0.5)) + ", p90 " + r(p(0.9)) + ", max " + r(d[len(d)-1])
}

func strconvF(f float64) string { return strings.TrimRight(strings.TrimRight(fmtF(f), "0"), ".") }

// TestSecondSignal sends SIGTERM, then SIGINT while the shutdown it began
// is slow (a stage takes 30s to stop; it prints the cause, which must name
// SIGTERM). With the default, the child must die of that
// signal at once; with OnSecondSignal, it must exit with the code its
// function chose (99). The watchdog (20s) is below the slow stage's 30s,
// so a second signal that did nothing fails the test.
func TestSecondSignal(t *testing.T) {
	for _, mode := range []string{"slow", "slow-exit"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			c := childproc.Start(t, "service", "SVC_MODE="+mode)
			if _, err := c.Expect("READY", watchdog); err != nil {
				t.Fatal(err)
			}
			if err := c.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			line, err := c.Expect("STOPPING", watchdog)
			if err != nil {
				t.Fatal(err)
			}
			// The first signal, seen before the second was sent, is the
			// cause.
			if want := (&shutdown.SignalError{Signal: syscall.SIGTERM}).Error(); line != "STOPPING "+want {
				t.Errorf("got %q, want the cause %q", line, want)
			}
			start := time.Now()
			if err := c.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			st, err := c.Wait(watchdog)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: second signal to exit: %v", mode, time.Since(start))
			ws := st.Sys().(syscall.WaitStatus)
			switch mode {
			case "slow":
				if !ws.Signaled() || ws.Signal() != syscall.SIGINT {
					t.Fatalf("want death by SIGINT, got %v", st)
				}
			case "slow-exit":
				if st.ExitCode() != 99 {
					t.Fatalf("want exit code 99, got %v", st)
				}
				if _, err := c.Expect("SECOND interrupt", time.Second); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestForgottenRawSocket: a raw pebbe/zmq4 socket opened in the group's
// context and never closed blocks zmq_ctx_term forever. Shutdown must
// still end, within its term deadline, with an error that says so, and
// the service exits with the code it chose for a failed shutdown (1).
func TestForgottenRawSocket(t *testing.T) {
	t.Parallel()
	const term = 500 * time.Millisecond
	c := childproc.Start(t, "rawleak", "SVC_TERM="+term.String())
	if _, err := c.Expect("READY", watchdog); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := c.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	st, err := c.Wait(watchdog)
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	r := readResult(t, c)
	if st.ExitCode() != 1 {
		t.Fatalf("exit code %d, want 1; stderr:\n%s", st.ExitCode(), c.Stderr())
	}
	for _, want := range []string{"context termination timed out", "outside zchan"} {
		if !strings.Contains(r.Err, want) {
			t.Errorf("error %q does not say %q", r.Err, want)
		}
	}
	t.Logf("signal to exit %v (term timeout %v), shutdown %v; error: %s", el, term, r.Took, r.Err)
}

func fmtF(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }

// TestSecondSignalGaps sends SIGTERM, then SIGINT after a gap of 0, 100µs,
// 1ms, 3ms or 10ms (spun, not slept, so that short gaps are short), to a
// child whose shutdown takes 30s (the slow mode of TestSecondSignal).
// Whatever the gap, the second signal must end the process at once: the
// child must die of one of the two signals within the watchdog, well
// below the 30s the shutdown would take. Before NotifyContext re-raised
// what arrived before its signal.Stop, the second was ignored in 10 of 10
// runs at a 0 gap and 1 of 10 at 3ms (issue 14).
//
// The cause names the first signal the child saw, and the other one kills
// it, so the two differ; where the child printed its cause before dying,
// the test checks that. Which one it saw first is logged per gap, not
// asserted: when both arrive before Go's runtime hands the first over,
// they are seen in signal-number order (SIGINT first), whatever order they
// were sent in (see NotifyContext).
//
// Runs per gap: 10, as issue 14 asks (50 children, two at a time, under
// 1s with -race when it passes; a second signal lost costs the watchdog);
// SHUTDOWN_GAP_RUNS sets another count.
func TestSecondSignalGaps(t *testing.T) {
	runs := 10
	if v, err := strconv.Atoi(os.Getenv("SHUTDOWN_GAP_RUNS")); err == nil && v > 0 {
		runs = v
	}
	gaps := []time.Duration{0, 100 * time.Microsecond, time.Millisecond, 3 * time.Millisecond, 10 * time.Millisecond}
	type outcome struct {
		gap   time.Duration
		death syscall.Signal
		cause string // the child's STOPPING line, if it printed one
		exit  time.Duration
	}
	var (
		mu       sync.Mutex
		outcomes []outcome
	)
	jobs := make(chan time.Duration)
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for gap := range jobs {
				c := childproc.Start(t, "service", "SVC_MODE=slow")
				if _, err := c.Expect("READY", watchdog); err != nil {
					t.Error(err)
					continue
				}
				if err := c.Signal(syscall.SIGTERM); err != nil {
					t.Error(err)
					continue
				}
				for t0 := time.Now(); time.Since(t0) < gap; {
				}
				if err := c.Signal(syscall.SIGINT); err != nil {
					t.Error(err)
					continue
				}
				start := time.Now()
				st, err := c.Wait(watchdog)
				if err != nil {
					t.Errorf("gap %v: the second signal did not end the process: %v", gap, err)
					continue
				}
				o := outcome{gap: gap, exit: time.Since(start)}
				ws := st.Sys().(syscall.WaitStatus)
				if !ws.Signaled() || (ws.Signal() != syscall.SIGINT && ws.Signal() != syscall.SIGTERM) {
					t.Errorf("gap %v: want death by SIGINT or SIGTERM, got %v; stderr:\n%s", gap, st, c.Stderr())
					continue
				}
				o.death = ws.Signal()
				if line, err := c.Expect("STOPPING ", 0); err == nil {
					o.cause = strings.TrimPrefix(line, "STOPPING ")
					if o.cause == (&shutdown.SignalError{Signal: o.death}).Error() {
						t.Errorf("gap %v: the cause %q is the signal that killed the child", gap, o.cause)
					}
				}
				mu.Lock()
				outcomes = append(outcomes, o)
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < runs; i++ {
		for _, gap := range gaps {
			jobs <- gap
		}
	}
	close(jobs)
	wg.Wait()
	for _, gap := range gaps {
		var n, termFirst, printed int
		var worst time.Duration
		for _, o := range outcomes {
			if o.gap != gap {
				continue
			}
			n++
			if o.death == syscall.SIGINT {
				termFirst++ // SIGTERM was the cause
			}
			if o.cause != "" {
				printed++
			}
			worst = max(worst, o.exit)
		}
		t.Logf("gap %v: %d/%d runs ended by the second signal (slowest %v); SIGTERM seen first (the cause) in %d, SIGINT in %d; cause printed before death in %d",
			gap, n, runs, worst.Round(time.Millisecond), termFirst, n-termFirst, printed)
	}
	if len(outcomes) != runs*len(gaps) {
		t.Fatalf("%d of %d runs ended by the second signal", len(outcomes), runs*len(gaps))
	}
}

// TestSlowConsumerTCP sends SIGTERM to a service over tcp (ventilator,
// worker, sink) whose worker spends 1ms on each message while the source
// sends as fast as back pressure lets it, so that the link from the
// ventilator to the worker is full: libzmq's queues and the kernel's hold
// what the worker has not read yet. Issue 14 measured, before transit
// accounting, 379,000 to 540,000 messages lost there at each SIGTERM with
// a nil error.
//
//   - lossless: the default lossless drain, with the in-flight bound the
//     package doc asks for (HWM 100, kernel buffers 4 KiB): no message is
//     lost in transit, the error is nil, the exit code is SIGTERM's.
//     Messages are 100 bytes, so that libzmq's two 8 KiB engine batches
//     and the kernel's buffers hold few of them (about 500 in flight).
//   - lossy: WithLosslessDrain(false), libzmq's and the kernel's
//     defaults and a 2s drain: messages are lost in transit, and the
//     Report counts them on the link, Wait's error wraps ErrLostInTransit,
//     the exit code is 1.
//   - unbounded: the lossless drain, but the default in-flight bound and
//     a 1s drain: the drain deadline cuts the wait short, and the cause of
//     the loss says so.
//
// In every run the count closes: sent = delivered + undelivered + lost by
// the worker + lost in transit. Runs per variant: 3 (about 15s in all
// under -race); SHUTDOWN_SLOW_RUNS sets another count (issue 14 asks for
// 10).
func TestSlowConsumerTCP(t *testing.T) {
	runs := 3
	if v, err := strconv.Atoi(os.Getenv("SHUTDOWN_SLOW_RUNS")); err == nil && v > 0 {
		runs = v
	}
	base := []string{"SVC_MODE=load", "SVC_TRANSPORT=tcp", "SVC_SLOW=1ms", "SVC_READY=200"}
	for _, tc := range []struct {
		name string
		env  []string
	}{
		{"lossless", []string{"SVC_SNDHWM=2000", "SVC_RCVHWM=100", "SVC_KBUF=4096", "SVC_SIZE=100", "SVC_DRAIN=10s"}},
		{"lossy", []string{"SVC_LOSSLESS=off", "SVC_DRAIN=2s"}},
		{"unbounded", []string{"SVC_DRAIN=1s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sent, transit, delivered uint64
			var exits []time.Duration
			for i := 0; i < runs; i++ {
				c := childproc.Start(t, "service", append(base, tc.env...)...)
				if _, err := c.Expect("READY", watchdog); err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				if err := c.Signal(syscall.SIGTERM); err != nil {
					t.Fatal(err)
				}
				st, err := c.Wait(watchdog)
				if err != nil {
					t.Fatal(err)
				}
				exits = append(exits, time.Since(start))
				r := readResult(t, c)
				if r.Sent != r.Delivered+r.Undelivered+r.Lost+r.Transit {
					t.Errorf("run %d: sent %d != delivered %d + undelivered %d + lost %d + lost in transit %d\n%s",
						i, r.Sent, r.Delivered, r.Undelivered, r.Lost, r.Transit, r.Report)
				}
				var linked uint64
				for _, l := range r.Links {
					if !l.Exact {
						t.Errorf("run %d: inexact link %v", i, l)
					}
					linked += l.Lost
				}
				if len(r.Links) != 2 || linked != r.Transit {
					t.Errorf("run %d: links %v, want two whose losses sum to %d", i, r.Links, r.Transit)
				}
				switch tc.name {
				case "lossless":
					if r.Transit != 0 || r.Err != "" || st.ExitCode() != 128+int(syscall.SIGTERM) {
						t.Errorf("run %d: lost in transit %d, error %q, exit %d; want none, none, %d\n%s",
							i, r.Transit, r.Err, st.ExitCode(), 128+int(syscall.SIGTERM), r.Report)
					}
				default:
					if r.Transit > 0 && (st.ExitCode() != 1 || !strings.Contains(r.Err, shutdown.ErrLostInTransit.Error())) {
						t.Errorf("run %d: %d lost in transit, but exit %d and error %q", i, r.Transit, st.ExitCode(), r.Err)
					}
					if want := "drain deadline passed while the receivers"; tc.name == "unbounded" && r.Transit > 0 && !strings.Contains(r.Err, want) {
						t.Errorf("run %d: the cause does not say %q: %s", i, want, r.Err)
					}
				}
				sent += r.Sent
				transit += r.Transit
				delivered += r.Delivered
				t.Logf("run %d: sent %d, delivered %d, undelivered %d, lost by the worker %d, lost in transit %d; signal to exit %v\n%s",
					i, r.Sent, r.Delivered, r.Undelivered, r.Lost, r.Transit, exits[len(exits)-1].Round(time.Millisecond), r.Report)
			}
			t.Logf("%s: %d runs: sent %d, delivered %d, lost in transit %d; signal to exit %s",
				tc.name, runs, sent, delivered, transit, percentiles(exits, zchan.DefaultLinger))
			if tc.name != "lossless" && transit == 0 {
				t.Error("no lossy run lost a message in transit: the counting path was not exercised")
			}
		})
	}
}
