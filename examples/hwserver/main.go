// Command hwserver is the guide's Hello World server (chapter 1, "Ask and
// Ye Shall Receive"): a REP socket bound to tcp://*:5555 that answers every
// request with "World" after a second of pretend work.
//
// It runs until Ctrl-C or SIGTERM, then closes its socket and exits 0.
// Pair it with hwclient, or with the guide's hwclient in any language.
//
//	go run ./examples/hwserver
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

	// Ctrl-C and SIGTERM cancel ctx; everything below watches it.
	ctx, stop := shutdown.NotifyContext(ctx)
	defer stop()

	zc, err := zchan.NewContext()
	if err != nil {
		return err
	}
	// Term waits (at most the 1s linger) for the last reply to leave.
	defer zc.Term(context.Background())

	responder, err := zchan.OpenWith(ctx, zchan.Rep, zchan.String,
		zchan.WithContext(zc), zchan.WithBind(*bind))
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
			fmt.Fprintf(out, "Received %s\n", request)
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
