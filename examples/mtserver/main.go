// Command mtserver is the guide's multithreaded Hello World service
// (chapter 2, "Multithreading with 0MQ"): a ROUTER faces the clients over
// tcp, a DEALER faces a pool of REP workers over inproc, and a queue device
// (pipeline.Queue) moves messages between the two. Each worker is a goroutine that answers
// "Hello" with "World" after a simulated second of work.
//
// Usage:
//
//	go run ./examples/mtserver [-bind tcp://*:5555] [-workers 5] [-work 1s]
//
// Pair it with hwclient (any language). Ctrl-C or SIGTERM stops it
// cleanly: the workers stop, then the queue is shut down, forwarding the
// replies it holds for at most a second.
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
		fmt.Fprintln(os.Stderr, "mtserver:", err)
		os.Exit(1)
	}
}

const workersEP = "inproc://workers"

// run serves until ctx ends or a signal arrives, then returns nil. out
// receives one line per request, from several goroutines at once, so it
// must be safe for concurrent writes (os.Stdout is).
func run(ctx context.Context, args []string, out io.Writer) (err error) {
	fs := flag.NewFlagSet("mtserver", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: mtserver [-bind ENDPOINT] [-workers N] [-work DURATION]")
		fmt.Fprintln(fs.Output(), "Serves Hello World requests with a pool of worker goroutines behind a queue.")
		fs.PrintDefaults()
	}
	bind := fs.String("bind", "tcp://*:5555", "endpoint the clients connect to")
	workers := fs.Int("workers", 5, "number of worker goroutines")
	work := fs.Duration("work", time.Second, "simulated work per request")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *workers < 1 || *work < 0 {
		return fmt.Errorf("-workers must be at least 1 and -work not negative")
	}

	ctx, stop := shutdown.NotifyContext(ctx)
	defer stop()
	zc, err := zchan.NewContext()
	if err != nil {
		return err
	}
	defer func() {
		tctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if terr := zc.Term(tctx); terr != nil && err == nil {
			err = terr
		}
	}()

	// The queue device: a ROUTER bound for the clients and a DEALER bound
	// for the workers, as the guide's zmq_proxy joins them. ctx bounds
	// only the opening: run shuts the queue down on its way out, after the
	// workers have stopped, so that their last replies go out.
	queue, err := pipeline.Queue(ctx, *bind, workersEP, pipeline.WithContext(zc), pipeline.WithName("mtserver"))
	if err != nil {
		return stopped(ctx, err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if serr := queue.Shutdown(sctx); serr != nil && err == nil && !errors.Is(serr, context.DeadlineExceeded) {
			err = serr
		}
	}()

	// Launch the pool of worker goroutines; they end with ctx, and run
	// waits for them before it shuts the queue down. Each closes its REP
	// socket when it returns.
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	for range *workers {
		rep, err := zchan.OpenWith(ctx, zchan.Rep, zchan.String, zchan.WithContext(zc), zchan.WithConnect(workersEP))
		if err != nil {
			return stopped(ctx, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer rep.Close()
			worker(ctx, rep, *work, out)
		}()
	}

	// Serve until Ctrl-C (or a failure of the queue).
	select {
	case <-ctx.Done():
		return nil
	case <-queue.Done():
		return stopped(ctx, queue.Err())
	}
}

// worker answers each request with "World" after the simulated work, like
// the guide's worker_routine. It returns when ctx ends.
func worker(ctx context.Context, rep *zchan.Socket[string], work time.Duration, out io.Writer) {
	for {
		select {
		case req, ok := <-rep.In():
			if !ok {
				return
			}
			fmt.Fprintf(out, "Received request: [%s]\n", req)
			// Do some 'work', but give up at once on Ctrl-C.
			t := time.NewTimer(work)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return
			}
			if rep.Send(ctx, "World") != nil {
				return
			}
		case <-ctx.Done():
			return
		}
	}
}

// stopped tells a clean stop (ctx ended, and the sockets with it) from a
// failure.
func stopped(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}
