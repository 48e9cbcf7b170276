// Command taskvent is the guide's task ventilator (chapter 1, "Divide and
// Conquer"): a PUSH socket bound to tcp://*:5557 that hands out 100 tasks,
// each a workload in milliseconds ("1" to "100"), to the workers connected
// to it. It first sends "0" to the sink at tcp://localhost:5558 to signal
// the start of the batch.
//
// It waits for Enter before sending, so that all workers have time to
// connect (-wait=false starts at once), then exits 0 once every task is on
// its way: handed to libzmq, which sends it on (a graceful Shutdown of the
// socket, bounded by -drain, and the context's termination, bounded by
// the linger). Ctrl-C or SIGTERM stops it early with an error. Pair it with
// taskwork (or taskwork2) and tasksink (or tasksink2).
//
//	go run ./examples/taskvent
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"time"

	"github.com/zmqchan/zmqchan/shutdown"
	"github.com/zmqchan/zmqchan/zchan"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "taskvent:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, out io.Writer) (err error) {
	fs := flag.NewFlagSet("taskvent", flag.ContinueOnError)
	bind := fs.String("bind", "tcp://*:5557", "endpoint to bind the PUSH socket the workers connect to")
	sinkEP := fs.String("sink", "tcp://localhost:5558", "endpoint of the sink")
	tasks := fs.Int("tasks", 100, "number of tasks")
	maxCost := fs.Int("maxcost", 100, "largest workload of a task, in milliseconds (each is 1 to maxcost)")
	wait := fs.Bool("wait", true, "wait for Enter before sending the tasks")
	drain := fs.Duration("drain", 10*time.Second, "how long the last tasks may wait for a worker before taskvent gives up")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: taskvent [-bind endpoint] [-sink endpoint] [-tasks n] [-maxcost ms] [-wait=false] [-drain duration]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil
		}
		return err
	}
	if *maxCost < 1 {
		return fmt.Errorf("-maxcost %d: want at least 1", *maxCost)
	}
	if *drain <= 0 {
		return fmt.Errorf("-drain %v: want a positive duration", *drain)
	}

	ctx, stop := shutdown.NotifyContext(ctx)
	defer stop()

	zc, err := zchan.NewContext()
	if err != nil {
		return err
	}
	// Deferred before the sockets are opened, so it runs after their
	// deferred Closes: Term returns once libzmq has sent what they queued,
	// or after their 1s linger; the bound covers the rest.
	defer func() {
		tctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if terr := zc.Term(tctx); terr != nil && err == nil {
			err = terr
		}
	}()

	sender, err := zchan.OpenWith(ctx, zchan.Push, zchan.String,
		zchan.WithContext(zc), zchan.WithBind(*bind))
	if err != nil {
		return err
	}
	defer sender.Close()
	sink, err := zchan.OpenWith(ctx, zchan.Push, zchan.String,
		zchan.WithContext(zc), zchan.WithConnect(*sinkEP))
	if err != nil {
		return err
	}
	defer sink.Close()

	if *wait {
		fmt.Fprint(out, "Press Enter when the workers are ready: ")
		if err := waitForEnter(ctx, stdin); err != nil {
			return err
		}
	}
	fmt.Fprintln(out, "Sending tasks to workers...")

	// The first message is "0" and signals the start of the batch.
	if err := sink.Send(ctx, "0"); err != nil {
		return fmt.Errorf("start of batch: %w", err)
	}
	total := 0
	for i := range *tasks {
		workload := rand.IntN(*maxCost) + 1
		total += workload
		if err := sender.Send(ctx, strconv.Itoa(workload)); err != nil {
			return fmt.Errorf("task %d: %w", i, err)
		}
	}
	fmt.Fprintf(out, "Total expected cost: %d msec\n", total)

	// The guide sleeps a second here to "give 0MQ time to deliver". Send
	// has returned for every task, but the last ones may still wait in the
	// socket's send queue for a worker to take them: Shutdown returns once
	// the owner has handed them all to libzmq, which sends them on while
	// the context lives (Term above waits for that, up to the linger).
	// Ctrl-C or the drain bound cuts the wait short, and the tasks left
	// behind are counted.
	dctx, cancel := context.WithTimeout(ctx, *drain)
	defer cancel()
	if err := sink.Shutdown(dctx); err != nil {
		return fmt.Errorf("start of batch not delivered: %w", err)
	}
	if err := sender.Shutdown(dctx); err != nil {
		return fmt.Errorf("%d tasks not delivered: %w", sender.Undelivered(), err)
	}
	return nil
}

// waitForEnter returns when a line (or the end of input) has been read
// from stdin, or with ctx's cause when ctx ends first. A read from a
// terminal cannot be cancelled, so on Ctrl-C the reading goroutine is left
// blocked until the process exits, which it is about to do.
func waitForEnter(ctx context.Context, stdin io.Reader) error {
	read := make(chan error, 1) // buffered: the reader never blocks on it
	go func() {
		_, err := bufio.NewReader(stdin).ReadString('\n')
		if err == io.EOF {
			err = nil
		}
		read <- err
	}()
	select {
	case err := <-read:
		return err
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
