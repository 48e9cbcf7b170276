// Command tasksink is the guide's task sink (chapter 1, "Divide and
// Conquer"): a PULL socket bound to tcp://*:5558 that waits for the start
// of a batch (the ventilator's first message), collects 100 results from
// the workers, printing ":" every ten and "." otherwise, and prints how
// long the batch took.
//
// It exits 0 when the batch is done; Ctrl-C or SIGTERM stops it early
// with an error saying how many results it had. Start it with taskwork
// and taskvent.
//
//	go run ./examples/tasksink
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/zmqchan/zmqchan/shutdown"
	"github.com/zmqchan/zmqchan/zchan"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "tasksink:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) (err error) {
	fs := flag.NewFlagSet("tasksink", flag.ContinueOnError)
	bind := fs.String("bind", "tcp://*:5558", "endpoint to bind the PULL socket to")
	tasks := fs.Int("tasks", 100, "number of results in a batch")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: tasksink [-bind endpoint] [-tasks n]")
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
		zchan.WithContext(zc), zchan.WithBind(*bind))
	if err != nil {
		return err
	}
	defer receiver.Close()

	// recv waits for the next message; Ctrl-C or a closed socket ends it.
	recv := func(what string) error {
		select {
		case _, ok := <-receiver.In():
			if !ok {
				return fmt.Errorf("%s: %w", what, receiver.Err())
			}
			return nil
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", what, context.Cause(ctx))
		}
	}

	if err := recv("waiting for the start of the batch"); err != nil {
		return err
	}
	start := time.Now()
	for i := range *tasks {
		if err := recv(fmt.Sprintf("after %d of %d results", i, *tasks)); err != nil {
			return err
		}
		if i%10 == 0 {
			fmt.Fprint(out, ":")
		} else {
			fmt.Fprint(out, ".")
		}
	}
	fmt.Fprintf(out, "\nTotal elapsed time: %d msec\n", time.Since(start).Milliseconds())
	return nil
}
