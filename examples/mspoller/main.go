// Command mspoller is the guide's multiple socket poller (chapter 2,
// "Handling Multiple Sockets"): one process that is both a task worker,
// PULLing tasks from the ventilator at tcp://localhost:5557, and a weather
// subscriber, SUBscribed to zipcode 10001 at tcp://localhost:5556. The
// guide's mspoller uses zmq_poll; here one select serves both sockets and
// Ctrl-C, with no poll and no timeout. msreader is the same program with
// tasks given priority.
//
// It prints "task: ..." and "weather: ..." for what it receives, and runs
// until Ctrl-C or SIGTERM, then exits 0. Run it next to taskvent and
// wuserver.
//
//	go run ./examples/mspoller
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
		fmt.Fprintln(os.Stderr, "mspoller:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) (err error) {
	fs := flag.NewFlagSet("mspoller", flag.ContinueOnError)
	tasksEP := fs.String("tasks", "tcp://localhost:5557", "endpoint of the task ventilator")
	weatherEP := fs.String("weather", "tcp://localhost:5556", "endpoint of the weather server")
	zipcode := fs.String("zipcode", "10001", "zipcode to subscribe to")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: mspoller [-tasks endpoint] [-weather endpoint] [-zipcode code]")
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

	// Connect to the task ventilator.
	receiver, err := zchan.OpenWith(ctx, zchan.Pull, zchan.String,
		zchan.WithContext(zc), zchan.WithConnect(*tasksEP))
	if err != nil {
		return err
	}
	defer receiver.Close()
	// Connect to the weather server.
	subscriber, err := zchan.OpenWith(ctx, zchan.Sub, zchan.String,
		zchan.WithContext(zc), zchan.WithSubscribe(*zipcode+" "), zchan.WithConnect(*weatherEP))
	if err != nil {
		return err
	}
	defer subscriber.Close()

	// Process messages from both sockets, fairly: when both are ready,
	// select picks one at random.
	for {
		select {
		case task, ok := <-receiver.In():
			if !ok {
				return ended(ctx, receiver.Err())
			}
			fmt.Fprintf(out, "task: %s\n", task)
		case update, ok := <-subscriber.In():
			if !ok {
				return ended(ctx, subscriber.Err())
			}
			fmt.Fprintf(out, "weather: %s\n", update)
		case <-ctx.Done():
			return nil
		}
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
