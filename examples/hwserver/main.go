// Command hwserver is the guide's Hello World server (chapter 1, "Ask and
// Ye Shall Receive"): a REP socket bound to tcp://*:5555 that answers every
// request with "World" after a second of pretend work.
//
// It runs until Ctrl-C or SIGTERM, then shuts down in order with a
// shutdown.Group (the idiomatic main of a service: the socket, then the
// loop that serves it, then the zmq context, each within a deadline) and
// exits 0. Pair it with hwclient, or with the guide's hwclient in any
// language.
//
//	go run ./examples/hwserver
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
		fmt.Fprintln(os.Stderr, "hwserver:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("hwserver", flag.ContinueOnError)
	bind := fs.String("bind", "tcp://*:5555", "endpoint to bind the REP socket to")
	work := fs.Duration("work", time.Second, "pretend work per request")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: hwserver [-bind endpoint] [-work duration]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil // -h: the usage has been printed
		}
		return err
	}

	// Ctrl-C and SIGTERM end ctx, and with it the group: it shuts down
	// what it holds in order, terminates the zmq context within a deadline
	// and returns from Wait. A second Ctrl-C kills the process at once.
	ctx, stop := shutdown.NotifyContext(ctx)
	defer stop()
	g, err := shutdown.New(ctx)
	if err != nil {
		return err
	}

	// A peer may send anything: a request that is not one frame cannot be
	// decoded into a string, and a REP must answer every request before it
	// can take the next, so by default such a request would end the
	// server. Here it gets an empty reply, which no request of this
	// protocol otherwise gets, and the server goes on.
	responder, err := zchan.OpenWith(ctx, zchan.Rep, zchan.String,
		zchan.WithContext(g.ZMQ()), zchan.WithBind(*bind), zchan.WithEmptyReplyOnCodecError(true))
	if err != nil {
		g.Shutdown() // nothing to drain: only the zmq context to terminate
		_, werr := g.Wait()
		return errors.Join(err, werr)
	}

	// The socket first, then the loop that reads it: on shutdown the group
	// stops the socket taking requests (the reply to the one being worked
	// on may still go), then, once In is closed, ends the loop. Add and Go
	// refuse once shutdown has begun (a Ctrl-C already); the socket is
	// then still ours to close.
	if err := g.Add(responder); err != nil {
		responder.Close()
	}
	g.Go("serve", func(ctx context.Context) error { return serve(ctx, responder, *work, out) })
	_, err = g.Wait()
	return err
}

// serve answers every request with "World" after the pretend work, until
// the socket is closed. It returns nil when the group has ended it, and
// the socket's error when anything else did: that begins the shutdown.
func serve(ctx context.Context, responder *zchan.Socket[string], work time.Duration, out io.Writer) error {
	for request := range responder.In() {
		fmt.Fprintf(out, "Received %s\n", request)
		if !sleep(ctx, work) {
			return nil // the group gave up waiting for this reply
		}
		if err := responder.Send(ctx, "World"); err != nil {
			return ended(ctx, err)
		}
	}
	return ended(ctx, responder.Err())
}

// sleep waits d; it reports false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// ended tells the group's shutdown (the socket closed, or the loop's ctx
// ended) from a failure.
func ended(ctx context.Context, err error) error {
	if ctx.Err() != nil || errors.Is(err, zchan.ErrClosed) {
		return nil
	}
	return err
}
