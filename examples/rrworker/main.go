// Command rrworker is the guide's request-reply worker (chapter 2,
// "Shared Queue"; "rrserver" in older editions): hwserver that connects
// instead of binding. A REP socket connected to the broker's backend at
// tcp://localhost:5560 prints each request, works a second, and replies
// "World".
//
// It runs until Ctrl-C or SIGTERM, then exits 0. Start several, with
// rrbroker (or msgqueue) and rrclient.
//
//	go run ./examples/rrworker
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
		fmt.Fprintln(os.Stderr, "rrworker:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) (err error) {
	fs := flag.NewFlagSet("rrworker", flag.ContinueOnError)
	connect := fs.String("connect", "tcp://localhost:5560", "endpoint of the broker's backend")
	work := fs.Duration("work", time.Second, "pretend work per request")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: rrworker [-connect endpoint] [-work duration]")
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

	// The broker passes on whatever its clients send: a request that is
	// not one frame gets an empty reply instead of ending the worker (see
	// hwserver).
	responder, err := zchan.OpenWith(ctx, zchan.Rep, zchan.String,
		zchan.WithContext(zc), zchan.WithConnect(*connect), zchan.WithEmptyReplyOnCodecError(true))
	if err != nil {
		return err
	}
	defer responder.Close()

	for {
		select {
		case request, ok := <-responder.In():
			if !ok {
				return ended(ctx, responder.Err())
			}
			fmt.Fprintf(out, "Received request: [%s]\n", request)
			if !sleep(ctx, *work) {
				return nil // interrupted while working
			}
			if err := responder.Send(ctx, "World"); err != nil {
				return ended(ctx, err)
			}
		case <-ctx.Done():
			return nil
		}
	}
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

// ended turns the error that ended the loop into the program's result: an
// interrupt is a clean exit, anything else is a failure.
func ended(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}
