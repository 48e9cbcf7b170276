// Command pool is the demo (make demo): a worker pool whose workers are
// separate processes over tcp, one of which is killed halfway, and the
// pool recovering without losing or repeating a task.
//
// The process is the guide's ventilator and sink around a pipeline.Pool
// (the load-balancing broker with Paranoid Pirate workers) bound on
// tcp://127.0.0.1 with at-least-once delivery. It starts -workers worker
// processes, each this same program re-executed with -worker (pipeline.Work),
// and, when a python3 that can import zmq is found ($PYTHON3, python3, then
// /usr/bin/python3; -python), one more: pool_worker.py, a pyzmq worker
// written from the protocol in pipeline's doc, embedded in this program.
// Each task is a number n; a worker answers n² after -work of simulated
// work, so the sink can check every answer: the demo exits 0 only if every
// task 1..-tasks was answered exactly once, with the right square.
//
// What it prints: the workers with their process ids; a progress line with
// the throughput (rewritten in place when stdout is a terminal, a line a
// second otherwise); at -kill of the batch, the SIGKILL of the first Go
// worker process; the pool declaring it dead once it has been silent for
// the liveness bound (4 heartbeats of 250ms), and the tasks it held (at most
// its credit, 128 by default) re-dispatched to the others; at the end, the batch time,
// each worker's share and how it ended, the pool's accounting, and the
// shutdown Report as a table: each step with its duration and each
// component's undelivered count. With the defaults, on the 2-core machine
// this was written on beside other work, a run took 13.1 to 20.1 s (three
// runs; a loaded machine is slower), the killed worker was declared dead
// 1.01 to 1.14 s after its SIGKILL, and 8 tasks were re-sent each time
// (its credit then), with no duplicate; with the pool's adaptive window a
// worker at 4 ms a task holds 2 or 3 (2 re-sent in main_test's run).
//
// Usage:
//
//	go run ./examples/pool [-tasks 10000] [-workers 3] [-work 4ms] [-kill 0.5] [-python auto] [-drain 5s]
//
// It is the idiomatic main: shutdown.NotifyContext gives the signal
// context, and a shutdown.Group owns the zmq context and shuts down, in
// the direction tasks flow, the ventilator, the pool (which drains the
// tasks in hand, then sends KILL to every worker and waits for their
// goodbyes) and the sink. Ctrl-C or SIGTERM begins that shutdown at
// once: the Report is printed, every worker process has exited before
// the demo does, and the exit status is 1 (the batch is unfinished). The
// pool drains what it holds (a few dozen tasks) within -drain; a -drain
// shorter than a task (-drain 1ms) cuts that short, and the tasks the pool
// abandons are counted, in its accounting line and in its row of the
// Report (submitted = results + undelivered). A worker process that has
// not exited 2s after the pool's shutdown is killed, and the summary says
// so. A second Ctrl-C kills the demo at once; its workers, which run in
// process groups of their own, die with it (their parent-death signal).
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/zmqchan/zmqchan/pipeline"
	"github.com/zmqchan/zmqchan/shutdown"
)

// pyWorker is pipeline/testdata/pool_worker.py, copied unchanged, so that
// the demo needs nothing but its binary and a python3 with zmq.
//
//go:embed pool_worker.py
var pyWorker string

// The demo's bounds.
const (
	// registerBound is how long the ventilator waits for every worker to
	// register with the pool before it gives up (a worker that could
	// not start: the demo then fails rather than waits forever).
	registerBound = 30 * time.Second
	// reapBound is how long the demo waits, after the pool has sent KILL
	// and its shutdown is over, for the worker processes to exit before
	// it kills them: Work closes its socket and terminates its zmq context
	// within its 1s linger. With the pool's kill bound (1s) it keeps the
	// demo's exit within about 3s of Ctrl-C, even with a worker that hangs.
	reapBound = 2 * time.Second
	// queueSize bounds the tasks the pool keeps waiting for a worker
	// (beyond one per worker), so that Ctrl-C drains a few dozen tasks,
	// not the default thousand.
	queueSize = 32
)

var errNoWorkers = errors.New("workers did not register in time")

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "pool:", err)
		os.Exit(1)
	}
}

// config is the command line.
type config struct {
	tasks, workers int
	work, drain    time.Duration
	kill           float64
	python, exe    string
	worker, name   string // -worker ENDPOINT: run as a worker process
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("pool", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: pool [-tasks N] [-workers N] [-work DURATION] [-kill FRACTION] [-python auto|off|PATH] [-drain DURATION]")
		fmt.Fprintln(fs.Output(), "Runs a pool over tcp with worker processes, kills one halfway, and prints the recovery and the shutdown report.")
		fs.PrintDefaults()
	}
	var c config
	fs.IntVar(&c.tasks, "tasks", 10000, "number of tasks in the batch")
	fs.IntVar(&c.workers, "workers", 3, "number of Go worker processes (plus one pyzmq worker if python3 has zmq)")
	fs.DurationVar(&c.work, "work", 4*time.Millisecond, "simulated work per task")
	fs.Float64Var(&c.kill, "kill", 0.5, "SIGKILL the first Go worker once this fraction of the batch is done (0: never)")
	fs.StringVar(&c.python, "python", "auto", "the pyzmq worker's python3: auto (find one), off, or a path")
	fs.DurationVar(&c.drain, "drain", shutdown.DefaultDrainTimeout, "the shutdown's drain deadline (shutdown.WithDrainTimeout)")
	fs.StringVar(&c.exe, "exe", "", "the program to run Go workers from (default: this one)")
	fs.StringVar(&c.worker, "worker", "", "run as a worker process of the pool at this endpoint (the demo starts these)")
	fs.StringVar(&c.name, "name", "worker", "with -worker: the worker's name")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if c.tasks < 1 || c.workers < 1 || c.work < 0 || c.drain <= 0 || c.kill < 0 || c.kill >= 1 {
		return fmt.Errorf("-tasks and -workers must be at least 1, -work not negative, -drain positive, -kill from 0 to below 1")
	}
	if c.kill > 0 && c.workers < 2 {
		return fmt.Errorf("-kill needs -workers 2 or more: a Go worker must be left to take over")
	}

	ctx, stop := shutdown.NotifyContext(ctx)
	defer stop()
	if c.worker != "" {
		return worker(ctx, c.worker, c.name, c.work)
	}
	return demo(ctx, c, out)
}

// demo runs the ventilator, the pool and the sink in a shutdown.Group,
// with the worker processes, and prints the outcome.
func demo(ctx context.Context, c config, out io.Writer) error {
	py, err := findPython(c.python)
	if err != nil {
		return err
	}
	exe := c.exe
	if exe == "" {
		if exe, err = os.Executable(); err != nil { // go run's temporary binary too
			return err
		}
	}
	pr := newPrinter(out)

	g, err := shutdown.New(ctx, shutdown.WithDrainTimeout(c.drain))
	if err != nil {
		return err
	}
	nworkers := c.workers
	if py != "" {
		nworkers++
	}
	// The pool never waits for events: 64 is room for every join, leave
	// and death of this demo's workers.
	events := make(chan pipeline.PoolEvent[int], 64)
	pool, err := pipeline.NewPool(ctx, square(0, "pool"), pipeline.WithContext(g.ZMQ()), pipeline.WithName("pool"),
		pipeline.WithWorkers(0), pipeline.WithEndpoint("tcp://127.0.0.1:*"), pipeline.WithAtLeastOnce(),
		pipeline.WithWaitForWorkers(nworkers), pipeline.WithQueueSize(queueSize), pipeline.WithEvents(events))
	if err != nil {
		g.Shutdown()
		g.Wait()
		return err
	}
	abort := func(err error) error {
		pool.Close()
		g.Shutdown()
		g.Wait()
		return err
	}

	var ps []*proc
	for i := 1; i <= c.workers; i++ {
		name := fmt.Sprintf("go-%d", i)
		ps = append(ps, &proc{name: name, kind: "Go", cmd: exec.Command(exe,
			"-worker", pool.Endpoint(), "-name", name, "-work", c.work.String())})
	}
	if py != "" {
		// "python3 -" reads the program from stdin: ps shows the endpoint,
		// not the whole script.
		cmd := exec.Command(py, "-", pool.Endpoint(), fmt.Sprint(c.work.Seconds()))
		cmd.Stdin = strings.NewReader(pyWorker)
		ps = append(ps, &proc{name: "python", kind: "pyzmq", cmd: cmd})
	}
	for _, p := range ps {
		p.cmd.Stderr = os.Stderr // their stdout is not the demo's: the progress line is
	}
	fl, err := startFleet(ps)
	if err != nil {
		return abort(err)
	}
	defer fl.stop(reapBound) // on every path; after the shutdown below it finds them gone

	pr.line("pool on %s, at least once: %d tasks, each n -> n² after %v of simulated work", pool.Endpoint(), c.tasks, c.work)
	for _, p := range fl.procs {
		pr.line("started %-6s  pid %-7d  %s worker", p.name, p.cmd.Process.Pid, p.kind)
	}
	switch {
	case c.python == "off":
		pr.line("no pyzmq worker (-python off)")
	case py == "":
		pr.line("no pyzmq worker: no python3 with zmq found ($PYTHON3, python3, /usr/bin/python3)")
	}

	s := newSink(ctx, c, pr, pool, fl)
	// Stages in the direction tasks flow: the ventilator stops first, then
	// the pool drains what it holds (the sink still reading) and sends
	// KILL, then the sink returns.
	vent := func(ctx context.Context) error {
		first, cancel := context.WithTimeoutCause(ctx, registerBound, errNoWorkers)
		err := pool.Submit(first, 1) // waits for every worker to register
		cancel()
		for n := 2; err == nil && n <= c.tasks; n++ {
			err = pool.Submit(ctx, n)
		}
		switch {
		case err == nil || ctx.Err() != nil: // done, or the shutdown stopping the source
			return nil
		case errors.Is(err, errNoWorkers):
			return fmt.Errorf("ventilator: %d of %d workers registered within %v: %w", pool.Stats().Workers, nworkers, registerBound, err)
		default:
			return fmt.Errorf("ventilator: %w", err)
		}
	}
	if err := g.Go("ventilator", vent); err != nil {
		return abort(err)
	}
	if err := g.Add(pool); err != nil {
		return abort(err)
	}
	if err := g.Go("sink", func(ctx context.Context) error { return s.run(ctx, events, g.Shutdown) }); err != nil {
		return abort(err)
	}

	rep, werr := g.Wait()
	forced := fl.stop(reapBound)
	s.drainEvents(events)
	s.summary(rep, forced)

	switch {
	case werr != nil:
		return werr
	case !errors.Is(rep.Cause, shutdown.ErrShutdown): // a signal, or run's ctx
		return fmt.Errorf("interrupted after %d of %d tasks: %w", s.distinct, c.tasks, rep.Cause)
	case len(forced) > 0:
		return fmt.Errorf("worker processes %s did not exit on KILL", strings.Join(forced, ", "))
	}
	return s.verdict()
}
