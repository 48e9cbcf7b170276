// Command tasksink2 is the guide's task sink with kill signalling (chapter
// 2, "Handling Errors and ETERM"): tasksink, plus a PUB socket bound to
// tcp://*:5559 on which it sends "KILL" when the batch is done, so that
// the workers (taskwork2) exit.
//
// It exits 0 when the batch is done and KILL has been sent (its context's
// termination waits, at most the 1s linger, for KILL to leave); Ctrl-C or
// SIGTERM stops it early with an error. Start it with taskwork2 and
// taskvent.
//
//	go run ./examples/tasksink2
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
		fmt.Fprintln(os.Stderr, "tasksink2:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) (err error) {
	fs := flag.NewFlagSet("tasksink2", flag.ContinueOnError)
	bind := fs.String("bind", "tcp://*:5558", "endpoint to bind the PULL socket for results to")
	control := fs.String("control", "tcp://*:5559", "endpoint to bind the PUB socket for the kill signal to")
	tasks := fs.Int("tasks", 100, "number of results in a batch")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: tasksink2 [-bind endpoint] [-control endpoint] [-tasks n]")
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
	// deferred Closes: Term waits, at most the 1s linger, for KILL to
	// reach the workers; the bound covers the rest.
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
	controller, err := zchan.OpenWith(ctx, zchan.Pub, zchan.String,
		zchan.WithContext(zc), zchan.WithBind(*control))
	if err != nil {
		return err
	}
	defer controller.Close()

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

	// Send the kill signal to the workers. Send returns once the socket's
	// owner has it; Shutdown returns once the owner has handed it to
	// libzmq (a PUB never waits for subscribers, so that is prompt).
	if err := controller.Send(ctx, "KILL"); err != nil {
		return fmt.Errorf("kill signal: %w", err)
	}
	sctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := controller.Shutdown(sctx); err != nil {
		return fmt.Errorf("kill signal: %w", err)
	}
	return nil
}
