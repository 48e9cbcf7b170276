// Command pool runs the guide's parallel pipeline with kill signalling
// (taskvent, taskwork2, tasksink2) in one process over inproc: a ventilator
// PUSHes tasks to a pool of workers, the workers PUSH results to a sink, and
// the sink PUBlishes KILL to the workers' SUB sockets when the batch is done.
// It prints a progress line every tenth of the batch and a summary line with
// the task count, the elapsed time and the throughput.
//
// Usage:
//
//	go run ./examples/pool [-tasks 100000] [-workers 4]
//
// Ctrl-C or SIGTERM stops the batch: every goroutine and socket is closed
// before the program exits. If the KILL message is lost, the workers stop
// anyway once -grace has passed after the batch (the context backstop).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zmqchan/zmqchan/shutdown"
	"github.com/zmqchan/zmqchan/zchan"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "pool:", err)
		os.Exit(1)
	}
}

// The three inproc endpoints of the pool. inproc names live in one zmq
// context, and each run makes its own, so they cannot clash.
const (
	tasksEP = "inproc://tasks"
	sinkEP  = "inproc://sink"
	killEP  = "inproc://kill"
)

func run(ctx context.Context, args []string, out io.Writer) (err error) {
	fs := flag.NewFlagSet("pool", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: pool [-tasks N] [-workers N] [-grace D] [-kill=false]")
		fmt.Fprintln(fs.Output(), "Runs a ventilator, a pool of workers and a sink with a KILL signal in one process.")
		fs.PrintDefaults()
	}
	tasks := fs.Int("tasks", 100000, "number of tasks the ventilator sends")
	workers := fs.Int("workers", 4, "number of workers")
	grace := fs.Duration("grace", 2*time.Second, "how long workers may take to stop after the KILL before they are cancelled")
	sendKill := fs.Bool("kill", true, "send the KILL signal after the batch (false shows the backstop: workers stop after -grace)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *tasks < 1 || *workers < 1 || *grace <= 0 {
		return fmt.Errorf("-tasks and -workers must be at least 1 and -grace positive")
	}

	ctx, stop := shutdown.NotifyContext(ctx)
	defer stop()

	zc, err := zchan.NewContext()
	if err != nil {
		return err
	}
	// Deferred first, so it runs last: every socket is closed by then.
	defer func() {
		tctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if terr := zc.Term(tctx); terr != nil && err == nil {
			err = terr
		}
	}()

	sink, err := zchan.OpenWith(ctx, zchan.Pull, zchan.String, zchan.WithContext(zc), zchan.WithBind(sinkEP))
	if err != nil {
		return err
	}
	defer sink.Close()
	kill, err := zchan.OpenWith(ctx, zchan.Pub, zchan.String, zchan.WithContext(zc), zchan.WithBind(killEP))
	if err != nil {
		return err
	}
	defer kill.Close()
	vent, err := zchan.OpenWith(ctx, zchan.Push, zchan.String, zchan.WithContext(zc), zchan.WithBind(tasksEP))
	if err != nil {
		return err
	}
	defer vent.Close()

	// The workers run under their own context: it ends with ctx (Ctrl-C)
	// or, as a backstop, -grace after the KILL was sent.
	// On every return path the goroutines are cancelled and waited for
	// before the sockets above are closed.
	wctx, wcancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		wcancel()
		wg.Wait()
	}()
	var backstopped atomic.Int64
	for i := range *workers {
		w, err := openWorker(wctx, zc)
		if err != nil {
			return fmt.Errorf("worker %d: %w", i, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer w.close()
			if !w.serve(wctx) {
				backstopped.Add(1)
			}
		}()
	}

	// The ventilator is a goroutine of its own, so the sink below can
	// collect while it sends; every send watches the context.
	fmt.Fprintf(out, "batch of %d tasks, %d workers\n", *tasks, *workers)
	start := time.Now()
	ventErr := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range *tasks {
			if err := vent.Send(wctx, strconv.Itoa(i)); err != nil {
				ventErr <- err
				return
			}
		}
		ventErr <- nil
	}()

	// The sink: results are 2*i, so their sum tells whether every task
	// was done exactly once.
	got, sum := 0, 0
	step := max(*tasks/10, 1)
	for got < *tasks {
		select {
		case r, ok := <-sink.In():
			if !ok { // the socket ended: on Ctrl-C, or on a failure
				if ctx.Err() != nil {
					return interrupted(ctx, got, *tasks)
				}
				return fmt.Errorf("sink: %w", sink.Err())
			}
			n, err := strconv.Atoi(r)
			if err != nil {
				return fmt.Errorf("sink: bad result %q", r)
			}
			got++
			sum += n
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

	if *sendKill {
		if err := kill.Send(ctx, "KILL"); err != nil {
			return fmt.Errorf("kill: %w", err)
		}
	}
	stopWorkers(&wg, wcancel, *grace)
	fmt.Fprintf(out, "tasks %d, workers %d, elapsed %v, %.0f tasks/s\n",
		got, *workers, elapsed.Round(time.Millisecond), float64(got)/elapsed.Seconds())
	if n := backstopped.Load(); n > 0 {
		fmt.Fprintf(out, "%d of %d workers missed the KILL and were stopped after %v\n", n, *workers, *grace)
	}
	return nil
}

func interrupted(ctx context.Context, got, tasks int) error {
	return fmt.Errorf("interrupted after %d of %d tasks: %w", got, tasks, context.Cause(ctx))
}

// stopWorkers waits for the workers to stop on the KILL; if they have not
// after grace, it cancels their context and waits again. Either way it
// returns: a lost KILL cannot hang the program.
func stopWorkers(wg *sync.WaitGroup, cancel context.CancelFunc, grace time.Duration) {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	backstop := time.NewTimer(grace)
	defer backstop.Stop()
	select {
	case <-done:
	case <-backstop.C:
		cancel()
		<-done
	}
}

// worker is one member of the pool: a PULL for tasks, a PUSH for results
// and a SUB for the KILL signal, as in the guide's taskwork2.
type worker struct {
	tasks   *zchan.Socket[string]
	results *zchan.Socket[string]
	control *zchan.Socket[string]
}

func openWorker(ctx context.Context, zc *zchan.Context) (*worker, error) {
	w := &worker{}
	var err error
	if w.tasks, err = zchan.OpenWith(ctx, zchan.Pull, zchan.String, zchan.WithContext(zc), zchan.WithConnect(tasksEP)); err != nil {
		return nil, err
	}
	if w.results, err = zchan.OpenWith(ctx, zchan.Push, zchan.String, zchan.WithContext(zc), zchan.WithConnect(sinkEP)); err != nil {
		w.tasks.Close()
		return nil, err
	}
	if w.control, err = zchan.OpenWith(ctx, zchan.Sub, zchan.String, zchan.WithContext(zc),
		zchan.WithSubscribe(""), zchan.WithConnect(killEP)); err != nil {
		w.tasks.Close()
		w.results.Close()
		return nil, err
	}
	return w, nil
}

// serve does tasks until the KILL arrives (it returns true) or ctx ends
// (false). The select replaces the guide's zmq_poll over two sockets.
func (w *worker) serve(ctx context.Context) bool {
	for {
		select {
		case t, ok := <-w.tasks.In():
			if !ok {
				return false
			}
			n, err := strconv.Atoi(t)
			if err != nil {
				continue // not a task of ours
			}
			if w.results.Send(ctx, strconv.Itoa(2*n)) != nil {
				return false
			}
		case <-w.control.In():
			return true
		case <-ctx.Done():
			return false
		}
	}
}

func (w *worker) close() {
	w.tasks.Close()
	w.results.Close()
	w.control.Close()
}
