// Command msgqueue is the guide's message queue broker (chapter 2,
// "Built-in Devices"): rrbroker rewritten around the QUEUE device,
// pipeline.Queue, with the same endpoints (ROUTER frontend tcp://*:5559,
// DEALER backend tcp://*:5560). Unlike zmq_proxy, the device can be shut
// down, and it moves each direction on its own goroutine, so requests
// waiting for a worker never hold up replies.
//
// It runs until Ctrl-C or SIGTERM, then shuts the device down (forwarding
// the messages it holds, for at most -grace), prints how many messages
// (requests and replies) it forwarded and exits 0. Run it with rrclient and rrworker,
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
	"time"

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
	grace := fs.Duration("grace", 5*time.Second, "how long the shutdown may take to forward what the queue holds")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: msgqueue [-frontend endpoint] [-backend endpoint] [-grace duration]")
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
	// until it is shut down. ctx bounds only the opening.
	queue, err := pipeline.Queue(ctx, *frontend, *backend, pipeline.WithContext(zc))
	if err != nil {
		return err
	}
	defer queue.Close()
	select {
	case <-ctx.Done(): // Ctrl-C
		sctx, cancel := context.WithTimeout(context.Background(), *grace)
		defer cancel()
		err = queue.Shutdown(sctx) // nil, or the deadline: then closed at once
	case <-queue.Done(): // a failure
		err = queue.Err()
	}
	fmt.Fprintf(out, "Forwarded %d messages\n", queue.Forwarded())
	return err
}
