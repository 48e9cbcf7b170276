// Command msgqueue is the guide's message queue broker (chapter 2,
// "Built-in Devices"): rrbroker rewritten around the QUEUE device,
// pipeline.Queue, with the same endpoints (ROUTER frontend tcp://*:5559,
// DEALER backend tcp://*:5560). Unlike zmq_proxy, the device can be shut
// down, and it moves each direction on its own goroutine, so requests
// waiting for a worker never hold up replies.
//
// It runs until Ctrl-C or SIGTERM, then a shutdown.Group shuts the device down (forwarding
// the messages it holds, for at most -grace) and terminates the zmq context, prints how many messages
// (requests and replies) it forwarded and exits 0. Run it with rrclient and rrworker,
// in place of rrbroker.
//
//	go run ./examples/msgqueue
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/zmqchan/zmqchan/pipeline"
	"github.com/zmqchan/zmqchan/shutdown"
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

	// Ctrl-C and SIGTERM end ctx, and with it the group: it shuts the
	// device down (what it holds is forwarded within -grace), then
	// terminates the zmq context within its own deadline, and reports.
	ctx, stop := shutdown.NotifyContext(ctx)
	defer stop()
	g, err := shutdown.New(ctx, shutdown.WithDrainTimeout(*grace))
	if err != nil {
		return err
	}

	// Start the proxy: a ROUTER bound to frontend, a DEALER bound to
	// backend, and every message, all its frames, passed between them
	// until it is shut down. ctx bounds only the opening.
	queue, err := pipeline.Queue(ctx, *frontend, *backend, pipeline.WithContext(g.ZMQ()))
	if err != nil {
		g.Shutdown() // nothing to drain: only the zmq context to terminate
		_, werr := g.Wait()
		return errors.Join(err, werr)
	}
	// Add refuses once shutdown has begun (a Ctrl-C already); the device
	// is then still ours to close.
	if err := g.Add(queue); err != nil {
		queue.Close()
	}
	rep, err := g.Wait() // until Ctrl-C, SIGTERM or a failure of the device
	fmt.Fprintf(out, "Forwarded %d messages\n", queue.Forwarded())
	if err == nil && rep.TotalUndelivered() > 0 {
		err = fmt.Errorf("%s: %d messages undelivered at shutdown", "msgqueue", rep.TotalUndelivered())
	}
	return err
}
