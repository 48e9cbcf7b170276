// Command msgqueue is the guide's message queue broker (chapter 2,
// "Built-in Devices"): rrbroker rewritten around the QUEUE device,
// pipeline.Queue, with the same endpoints (ROUTER frontend tcp://*:5559,
// DEALER backend tcp://*:5560). Unlike zmq_proxy, the device stops when
// its context ends, and it moves each direction on its own goroutine, so
// requests waiting for a worker never hold up replies.
//
// It runs until Ctrl-C or SIGTERM, then prints how many messages (requests
// and replies) it forwarded and exits 0. Run it with rrclient and rrworker,
// in place of rrbroker.
//
//	go run ./examples/msgqueue
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/zmqchan/zmqchan/pipeline"
	"github.com/zmqchan/zmqchan/shutdown"
	"github.com/zmqchan/zmqchan/zchan"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "msgqueue:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("msgqueue", flag.ContinueOnError)
	frontend := fs.String("frontend", "tcp://*:5559", "endpoint to bind the ROUTER for clients to")
	backend := fs.String("backend", "tcp://*:5560", "endpoint to bind the DEALER for workers to")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: msgqueue [-frontend endpoint] [-backend endpoint]")
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
	defer zc.Term(context.Background())

	// Start the proxy: a ROUTER bound to frontend, a DEALER bound to
	// backend, and every message, all its frames, passed between them
	// until ctx ends.
	queue, err := pipeline.Queue(ctx, *frontend, *backend, pipeline.WithContext(zc))
	if err != nil {
		return err
	}
	defer queue.Close()
	<-queue.Done()

	fmt.Fprintf(out, "Forwarded %d messages\n", queue.Forwarded())
	if ctx.Err() != nil {
		return nil // Ctrl-C: a clean exit
	}
	return queue.Err()
}
