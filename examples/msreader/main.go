// Command msreader is the guide's multiple socket reader (chapter 2,
// "Handling Multiple Sockets"): one process that is both a task worker,
// PULLing tasks from the ventilator at tcp://localhost:5557, and a weather
// subscriber, SUBscribed to zipcode 10001 at tcp://localhost:5556, that
// gives tasks priority over weather updates. The guide's msreader gets the
// priority from the order of its non-blocking reads and pays for it with a
// sleep in every idle turn; here a non-blocking select drains the waiting
// tasks first and a blocking select then waits on both sockets and Ctrl-C,
// so an idle reader sleeps in the runtime and wakes the moment either
// socket has a message. mspoller is the same program without the
// priority.
//
// It prints "task: ..." and "weather: ..." for what it receives, and runs
// until Ctrl-C or SIGTERM, then exits 0. Run it next to taskvent and
// wuserver.
//
//	go run ./examples/msreader
package main

import (
	"context"
	"errors"
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
		fmt.Fprintln(os.Stderr, "msreader:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) (err error) {
	fs := flag.NewFlagSet("msreader", flag.ContinueOnError)
	tasksEP := fs.String("tasks", "tcp://localhost:5557", "endpoint of the task ventilator")
	weatherEP := fs.String("weather", "tcp://localhost:5556", "endpoint of the weather server")
	zipcode := fs.String("zipcode", "10001", "zipcode to subscribe to")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: msreader [-tasks endpoint] [-weather endpoint] [-zipcode code]")
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

	err = serve(ctx, receiver.In(), subscriber.In(), out)
	if err == errEnded {
		// A socket ended: an interrupt is a clean exit, anything else
		// is a failure.
		if ctx.Err() != nil {
			return nil
		}
		if err := receiver.Err(); err != nil {
			return err
		}
		return subscriber.Err()
	}
	return err
}

// errEnded reports that a socket's channel was closed.
var errEnded = errors.New("msreader: a socket ended")

// serve prints tasks and weather updates until ctx is done (nil) or either
// channel is closed (errEnded). Every waiting task is printed before the
// next weather update.
func serve(ctx context.Context, tasks, weather <-chan string, out io.Writer) error {
	for {
		// Process any waiting tasks first.
		for drained := false; !drained; {
			select {
			case task, ok := <-tasks:
				if !ok {
					return errEnded
				}
				fmt.Fprintf(out, "task: %s\n", task)
			default:
				drained = true
			}
		}
		// Then wait for whichever comes next: a task, an update or Ctrl-C.
		select {
		case task, ok := <-tasks:
			if !ok {
				return errEnded
			}
			fmt.Fprintf(out, "task: %s\n", task)
		case update, ok := <-weather:
			if !ok {
				return errEnded
			}
			fmt.Fprintf(out, "weather: %s\n", update)
		case <-ctx.Done():
			return nil
		}
	}
}
