package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/examples/internal/exampletest"
	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/pipeline"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

var (
	startedRE = regexp.MustCompile(`^started (\S+) +pid (\d+) +(Go|pyzmq) worker$`)
	deadRE    = regexp.MustCompile(`  go-1\.0 declared dead \S+ after the SIGKILL .*: its (\d+) unanswered tasks re-dispatched`)
	recoverRE = regexp.MustCompile(`^recovery: go-1 declared dead \S+ after its SIGKILL; (\d+) tasks re-sent \(its credit is ` + strconv.Itoa(pipeline.DefaultCredit) + `\), (\d+) duplicate answers`)
	shareRE   = regexp.MustCompile(`^  (\S+) +pid (\d+) +(\d+) answers  (.*)$`)
	poolRE    = regexp.MustCompile(`^pool: submitted (\d+) = results (\d+) \+ skipped 0 \+ failed 0 \+ undelivered (\d+); workers joined (\d+), left (\d+), dead (\d+)$`)
)

// TestPool runs the demo end to end with the pool in this process (under
// -race) and the workers as real processes over tcp (the demo's binary
// with -worker, and the pyzmq worker): the first Go worker is SIGKILLed
// halfway, the pool must declare it dead and re-dispatch what it held
// (at most its credit), every task must be answered exactly once, each
// worker's share must add up to the batch, the killed one must be reported
// killed and the others stopped by KILL, the Report must be printed as a
// table, and no worker process may outlive the demo.
func TestPool(t *testing.T) {
	bin := exampletest.Build(t, "pool")
	py := python(t)
	const tasks = 2000
	var out exampletest.Output
	tk := exampletest.Go(t, "pool", 2*time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-tasks", strconv.Itoa(tasks), "-work", "2ms", "-exe", bin, "-python", py}, &out)
	})
	if err := tk.Wait(t); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	lines := out.Lines()
	t.Logf("output:\n%s", out.String())

	pids := started(t, lines)
	if len(pids) != 4 {
		t.Fatalf("started %d workers, want 3 Go and 1 pyzmq:\n%s", len(pids), out.String())
	}
	find := func(re *regexp.Regexp) []string {
		for _, l := range lines {
			if m := re.FindStringSubmatch(l); m != nil {
				return m
			}
		}
		t.Fatalf("no line matches %q:\n%s", re, out.String())
		return nil
	}
	if out.Count("SIGKILL go-1 (pid "+strconv.Itoa(pids["go-1"])+") at 50%") != 1 {
		t.Errorf("want one line saying go-1 was SIGKILLed at 50%%:\n%s", out.String())
	}
	held, _ := strconv.Atoi(find(deadRE)[1])
	rec := find(recoverRE)
	resent, _ := strconv.Atoi(rec[1])
	if held > pipeline.DefaultCredit || resent < held || rec[2] != "0" {
		t.Errorf("go-1 held %d tasks at its death (credit %d); %d re-sent, %s duplicates", held, pipeline.DefaultCredit, resent, rec[2])
	}

	// Each worker's share, and how it ended.
	answers := 0
	for _, l := range lines {
		m := shareRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[3])
		answers += n
		want := "exited 0 on KILL"
		if m[1] == "go-1" {
			want = "killed by the demo (SIGKILL) at 50%"
		}
		if m[4] != want || n == 0 {
			t.Errorf("worker %s: %d answers, %q; want some answers and %q", m[1], n, m[4], want)
		}
	}
	if answers != tasks {
		t.Errorf("the workers' shares sum to %d answers, want %d (one per task)", answers, tasks)
	}
	p := find(poolRE)
	// A worker falsely declared dead on a loaded machine registers again
	// (more joins, deaths and goodbyes), and loses no task.
	joined, _ := strconv.Atoi(p[4])
	left, _ := strconv.Atoi(p[5])
	dead, _ := strconv.Atoi(p[6])
	if p[1] != "2000" || p[2] != "2000" || p[3] != "0" || joined < 4 || left < 3 || dead < 1 {
		t.Errorf("pool accounting %q: want 2000 submitted and answered, none undelivered, 4 joined, 3 left, go-1 dead", p[0])
	}
	checkReport(t, &out, "cause: shutdown: requested")
	if last := lines[len(lines)-1]; last != "exactly once: each of the 2000 tasks answered once, with the right square" {
		t.Errorf("last line %q", last)
	}
	gone(t, pids)
}

// TestPoolInterrupt sends SIGINT, then (another run) SIGTERM, to the demo
// (a child process) in the middle of a batch too large to finish: it must
// print the shutdown Report, stop every worker process with the pool's
// KILL (none left running, none killed by force), and exit with status 1.
func TestPoolInterrupt(t *testing.T) {
	bin := exampletest.Build(t, "pool")
	py := python(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			p := exampletest.Start(t, time.Minute, bin, "-tasks", "100000000", "-python", py)
			p.Stdout.WaitFor(t, "progress [", 30*time.Second)
			pids := started(t, p.Stdout.Lines())
			if len(pids) != 4 {
				t.Fatalf("started %d workers, want 4:\n%s", len(pids), p.Stdout.String())
			}
			if err := p.Signal(sig); err != nil {
				t.Fatal(err)
			}
			p.Wait(t)
			if code := p.ExitCode(); code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			p.Stderr.WaitFor(t, "pool: interrupted after", time.Second)
			checkReport(t, p.Stdout, "cause: shutdown: signal "+sig.String())
			if n := p.Stdout.Count("exited 0 on KILL"); n != 4 {
				t.Errorf("%d workers exited on KILL, want 4:\n%s", n, p.Stdout.String())
			}
			if p.Stdout.Count("batch: stopped with") != 1 {
				t.Errorf("no line on the unfinished batch:\n%s", p.Stdout.String())
			}
			gone(t, pids)
		})
	}
}

// TestPoolInterruptDrainDeadline sends SIGINT to the demo run with a
// drain deadline (1ms) shorter than a task (4ms): the pool must stop at
// once, and what it abandoned must add up: the pool's accounting,
// submitted = results + undelivered with undelivered above zero, and the
// Report's row for the pool, with the deadline's error, and its total
// give the same count.
func TestPoolInterruptDrainDeadline(t *testing.T) {
	bin := exampletest.Build(t, "pool")
	p := exampletest.Start(t, time.Minute, bin, "-tasks", "100000000", "-python", python(t), "-drain", "1ms")
	p.Stdout.WaitFor(t, "progress [", 30*time.Second)
	pids := started(t, p.Stdout.Lines())
	if err := p.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	p.Wait(t)
	if code := p.ExitCode(); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	var m []string
	for _, l := range p.Stdout.Lines() {
		if m = poolRE.FindStringSubmatch(l); m != nil {
			break
		}
	}
	if m == nil {
		t.Fatalf("no pool accounting line:\n%s", p.Stdout.String())
	}
	submitted, _ := strconv.Atoi(m[1])
	results, _ := strconv.Atoi(m[2])
	undelivered, _ := strconv.Atoi(m[3])
	if undelivered == 0 || submitted != results+undelivered {
		t.Errorf("pool: submitted %d, results %d, undelivered %d: want some undelivered, and the sum to add up", submitted, results, undelivered)
	}
	row := regexp.MustCompile(`(?m)^  shutdown +pool +\S+ +` + m[3] + ` +shutdown: drain deadline passed`)
	total := regexp.MustCompile(`(?m)^  undelivered ` + m[3] + `, lost in transit 0$`)
	if out := p.Stdout.String(); !row.MatchString(out) || !total.MatchString(out) {
		t.Errorf("the Report does not show the pool's %d undelivered tasks and the deadline:\n%s", undelivered, out)
	}
	if n := p.Stdout.Count("exited 0 on KILL"); n != len(pids) {
		t.Errorf("%d of %d workers exited on KILL:\n%s", n, len(pids), p.Stdout.String())
	}
	gone(t, pids)
}

// TestPoolGoOnly runs the demo as a machine without python3-zmq would,
// and with no kill: three Go worker processes share the batch, each
// answers some of it and stops on KILL, and every task is answered once.
func TestPoolGoOnly(t *testing.T) {
	bin := exampletest.Build(t, "pool")
	var out exampletest.Output
	tk := exampletest.Go(t, "pool", 2*time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-tasks", "600", "-work", "1ms", "-kill", "0", "-exe", bin, "-python", "off"}, &out)
	})
	if err := tk.Wait(t); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	pids := started(t, out.Lines())
	if len(pids) != 3 || out.Count("no pyzmq worker (-python off)") != 1 || out.Count("SIGKILL") != 0 {
		t.Errorf("want 3 Go workers, no pyzmq worker and no kill:\n%s", out.String())
	}
	if n := out.Count("answers  exited 0 on KILL"); n != 3 {
		t.Errorf("%d workers stopped on KILL, want 3:\n%s", n, out.String())
	}
	if out.Count("exactly once: each of the 600 tasks answered once") != 1 {
		t.Errorf("no exactly-once line:\n%s", out.String())
	}
	checkReport(t, &out, "cause: shutdown: requested")
	gone(t, pids)
}

// TestPythonWorkerCopy checks that the embedded pyzmq worker is
// pipeline's test worker unchanged, so that a change to the protocol that
// updates one and not the other fails here, not in front of a viewer.
func TestPythonWorkerCopy(t *testing.T) {
	want, err := os.ReadFile("../../pipeline/testdata/pool_worker.py")
	if err != nil {
		t.Fatal(err)
	}
	if pyWorker != string(want) {
		t.Error("examples/pool/pool_worker.py differs from pipeline/testdata/pool_worker.py: cp the latter over the former")
	}
}

// TestPoolFlags checks that bad flags are refused before anything starts.
func TestPoolFlags(t *testing.T) {
	for _, args := range [][]string{{"-tasks", "0"}, {"-workers", "0"}, {"-drain", "0s"}, {"-kill", "1"},
		{"-workers", "1"}, {"-python", "/nonexistent/python3"}, {"-nosuchflag"}, {"extra"}} {
		if err := run(context.Background(), args, &exampletest.Output{}); err == nil {
			t.Errorf("run %v: no error", args)
		}
	}
}

// started returns the worker processes the demo says it started, by name.
func started(t *testing.T, lines []string) map[string]int {
	t.Helper()
	pids := map[string]int{}
	for _, l := range lines {
		if m := startedRE.FindStringSubmatch(l); m != nil {
			pids[m[1]], _ = strconv.Atoi(m[2])
		}
	}
	return pids
}

// checkReport checks the shutdown Report table: its cause, a row for each
// stage in the order tasks flow, the pool's undelivered count, and the
// totals (nothing undelivered: the pool drains what it holds).
func checkReport(t *testing.T, out *exampletest.Output, cause string) {
	t.Helper()
	s := out.String()
	_, table, ok := strings.Cut(s, "shutdown report:\n")
	if !ok {
		t.Fatalf("no shutdown report:\n%s", s)
	}
	rows := regexp.MustCompile(`(?s)^` + regexp.QuoteMeta(cause) + `; took \S+\n` +
		`  STEP +STAGE +TOOK +UNDELIVERED +ERROR\n` +
		`  begin +\S+ +-\n` +
		`  stop +ventilator +\S+ +-\n` +
		`  shutdown +pool +\S+ +0\n` +
		`(  settle .*\n)?` +
		`  stop +sink +\S+ +-\n` +
		`  term +\S+ +-\n` +
		`  undelivered 0, lost in transit 0\n`)
	if !rows.MatchString(table) {
		t.Errorf("shutdown report does not match %s:\n%s", rows, table)
	}
}

// gone checks that none of the worker processes is left: each is reaped
// (the demo waits for its children), so signal 0 finds no such process.
func gone(t *testing.T, pids map[string]int) {
	t.Helper()
	for name, pid := range pids {
		if !testutil.Eventually(5*time.Second, func() bool {
			return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
		}) {
			t.Errorf("worker %s (pid %d) still exists after the demo returned", name, pid)
		}
	}
}

// python returns a python3 that can import zmq: $PYTHON3 if set, else
// python3 on the PATH, else /usr/bin/python3 (Debian's python3-zmq, which
// scripts/deps.sh --test installs, is not seen by a pyenv or virtualenv
// python3 that comes first on the PATH). Without one the test fails.
func python(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("PYTHON3"), "python3", "/usr/bin/python3"} {
		if name == "" {
			continue
		}
		p, err := exec.LookPath(name)
		if err == nil && exec.Command(p, "-c", "import zmq").Run() == nil {
			return p
		}
	}
	t.Fatal("no python3 with the zmq module: run scripts/deps.sh --test")
	return ""
}
