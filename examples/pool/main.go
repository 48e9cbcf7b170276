// Command pool runs the guide's parallel pipeline with kill signalling
// (taskvent, taskwork2 and tasksink2, chapter 2 "Handling Errors and
// ETERM") in one process over inproc, with pipeline.Pool: Submit hands
// tasks to the pool, which sends each to a worker goroutine with credit
// over its ROUTER; the workers send results back on the same link to the
// sink, read here from Results, and Shutdown sends KILL to every worker
// over its link once the batch is done. It prints a progress line every
// tenth of the batch and a summary line with the task count, the elapsed
// time and the throughput.
//
// Usage:
//
//	go run ./examples/pool [-tasks 100000] [-workers 4] [-work 0s] [-grace 2s]
//
// Ctrl-C or SIGTERM stops the batch (exit status 1): the pool is closed at
// once, and every goroutine and socket is closed before the program exits.
// At the end of the batch Shutdown gets -grace: a worker that has not
// said goodbye when -grace passes is stopped anyway (the pool cancels its
// context). So the program cannot hang on a lost KILL.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/zmqchan/zmqchan/pipeline"
	"github.com/zmqchan/zmqchan/shutdown"
	"github.com/zmqchan/zmqchan/zchan"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "pool:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) (err error) {
	fs := flag.NewFlagSet("pool", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: pool [-tasks N] [-workers N] [-work DURATION] [-grace DURATION]")
		fmt.Fprintln(fs.Output(), "Runs a ventilator, a pool of workers and a sink with a KILL signal in one process.")
		fs.PrintDefaults()
	}
	tasks := fs.Int("tasks", 100000, "number of tasks in the batch")
	workers := fs.Int("workers", 4, "number of workers")
	work := fs.Duration("work", 0, "simulated work per task")
	grace := fs.Duration("grace", 2*time.Second, "how long workers may take to stop on KILL before they are cancelled")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *tasks < 1 || *workers < 1 || *work < 0 || *grace <= 0 {
		return fmt.Errorf("-tasks and -workers must be at least 1, -work not negative, -grace positive")
	}

	ctx, stop := shutdown.NotifyContext(ctx)
	defer stop()
	zc, err := zchan.NewContext()
	if err != nil {
		return err
	}
	// Deferred first, so it runs last: the pool is closed by then.
	defer func() {
		tctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if terr := zc.Term(tctx); terr != nil && err == nil {
			err = terr
		}
	}()

	// The workers' function: the guide's worker sleeps for the task's
	// workload; this one doubles the task number after -work, so that the
	// sink can check that every task was done exactly once.
	double := func(ctx context.Context, n int) (int, error) {
		if *work > 0 {
			t := time.NewTimer(*work)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
				return 0, context.Cause(ctx)
			}
		}
		return 2 * n, nil
	}
	// ctx bounds the opening only; on Ctrl-C the sink below returns and
	// the deferred Close stops the pool at once.
	pool, err := pipeline.NewPool(ctx, double, pipeline.WithContext(zc),
		pipeline.WithWorkers(*workers), pipeline.WithWaitForWorkers(*workers))
	if err != nil {
		return err
	}
	defer pool.Close()

	// The ventilator: a goroutine of its own, so that the sink below reads
	// results while it submits. run cancels and waits for it on every
	// return path.
	fmt.Fprintf(out, "batch of %d tasks, %d workers\n", *tasks, *workers)
	start := time.Now()
	vctx, cancelVent := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancelVent()
		wg.Wait()
	}()
	ventErr := make(chan error, 1)
	wg.Go(func() {
		for i := range *tasks {
			if err := pool.Submit(vctx, i); err != nil {
				ventErr <- err
				return
			}
		}
		ventErr <- nil
	})

	// The sink: results are 2*i, so their sum tells whether every task
	// was done exactly once.
	got, sum := 0, 0
	step := max(*tasks/10, 1)
	for got < *tasks {
		select {
		case r, ok := <-pool.Results():
			if !ok { // the pool ended: a failure
				return fmt.Errorf("pool: %w", pool.Err())
			}
			got++
			sum += r
			if got%step == 0 || got == *tasks {
				fmt.Fprintf(out, "progress: %3d%% (%d/%d tasks)\n", got*100 / *tasks, got, *tasks)
			}
		case <-ctx.Done():
			return interrupted(ctx, got, *tasks)
		}
	}
	elapsed := time.Since(start)
	if err := <-ventErr; err != nil {
		return fmt.Errorf("ventilator: %w", err)
	}
	if want := *tasks * (*tasks - 1); sum != want {
		return fmt.Errorf("sink: results sum to %d, want %d: a task was lost or done twice", sum, want)
	}

	// Every task is answered: Shutdown sends the KILL and waits for the
	// workers, at most -grace (then it closes the pool at once).
	sctx, cancel := context.WithTimeout(context.Background(), *grace)
	defer cancel()
	if err := pool.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("pool: %w", err)
	}
	st := pool.Stats()
	fmt.Fprintf(out, "tasks %d, workers %d, elapsed %v, %.0f tasks/s\n",
		got, *workers, elapsed.Round(time.Millisecond), float64(got)/elapsed.Seconds())
	fmt.Fprintf(out, "workers stopped: %d on KILL, %d after -grace\n", st.Left, st.Joined-st.Left)
	return nil
}

func interrupted(ctx context.Context, got, tasks int) error {
	return fmt.Errorf("interrupted after %d of %d tasks: %w", got, tasks, context.Cause(ctx))
}
