// Command taskwork is the guide's task worker (chapter 1, "Divide and
// Conquer"): it PULLs tasks from the ventilator at tcp://localhost:5557,
// "works" for each task's workload in milliseconds, and PUSHes an empty
// result to the sink at tcp://localhost:5558. It prints each workload
// followed by a dot.
//
// It runs until Ctrl-C or SIGTERM and then exits 0; a task being worked
// on is abandoned. Start as many as you like, then taskvent and tasksink.
//
//	go run ./examples/taskwork
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/zmqchan/zmqchan/shutdown"
	"github.com/zmqchan/zmqchan/zchan"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "taskwork:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) (err error) {
	fs := flag.NewFlagSet("taskwork", flag.ContinueOnError)
	tasksEP := fs.String("connect", "tcp://localhost:5557", "endpoint of the ventilator")
	sinkEP := fs.String("sink", "tcp://localhost:5558", "endpoint of the sink")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: taskwork [-connect endpoint] [-sink endpoint]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil
		}
		return err
	}

	ctx, stop := shutdown.NotifyContext(ctx)
	defer stop()

	zc, err := zchan.NewContext()
	if err != nil {
		return err
	}
	// Deferred before the sockets are opened, so it runs after their
	// deferred Closes: Term then returns once libzmq has sent what they
	// queued (at most their 1s linger), and the bound covers the rest.
	defer func() {
		tctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if terr := zc.Term(tctx); terr != nil && err == nil {
			err = terr
		}
	}()

	receiver, err := zchan.OpenWith(ctx, zchan.Pull, zchan.String,
		zchan.WithContext(zc), zchan.WithConnect(*tasksEP))
	if err != nil {
		return err
	}
	defer receiver.Close()
	sender, err := zchan.OpenWith(ctx, zchan.Push, zchan.String,
		zchan.WithContext(zc), zchan.WithConnect(*sinkEP))
	if err != nil {
		return err
	}
	defer sender.Close()

	for {
		select {
		case task, ok := <-receiver.In():
			if !ok {
				return ended(ctx, receiver.Err())
			}
			msec, err := strconv.Atoi(task)
			if err != nil || msec < 0 {
				return fmt.Errorf("task %q: want a workload in milliseconds", task)
			}
			fmt.Fprintf(out, "%s.", task) // show progress
			if !work(ctx, time.Duration(msec)*time.Millisecond) {
				return nil // interrupted while working
			}
			if err := sender.Send(ctx, ""); err != nil {
				return ended(ctx, err)
			}
		case <-ctx.Done():
			return nil
		}
	}
}

// work pretends to work for d; it reports false if ctx ended first.
func work(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// ended turns the error that ended the loop into the program's result: an
// interrupt is a clean exit, anything else is a failure.
func ended(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}
