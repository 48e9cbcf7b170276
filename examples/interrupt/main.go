// Command interrupt is the guide's Ctrl-C handling demo (chapter 2,
// "Handling Interrupt Signals"): a Hello World server that shuts down
// cleanly on SIGINT or SIGTERM.
//
// In the guide, a signal handler sets a flag and every blocking call must
// be checked for EINTR. Here the signal cancels a context: the select that
// waits for requests sees ctx.Done() and run returns; its deferred calls
// then close the socket (at once, within its linger) and terminate the
// zmq context (within a deadline). The socket does not watch the signal
// (the context given to zchan.OpenWith bounds only the opening): the loop
// does, and the socket is closed when the loop is done with it.
//
// Usage:
//
//	go run ./examples/interrupt [-bind tcp://*:5555]
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
		fmt.Fprintln(os.Stderr, "interrupt:", err)
		os.Exit(1)
	}
}

// run serves until a signal arrives or ctx ends, then returns nil.
func run(ctx context.Context, args []string, out io.Writer) (err error) {
	fs := flag.NewFlagSet("interrupt", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: interrupt [-bind ENDPOINT]")
		fmt.Fprintln(fs.Output(), "Answers Hello with World until Ctrl-C or SIGTERM, then exits cleanly.")
		fs.PrintDefaults()
	}
	bind := fs.String("bind", "tcp://*:5555", "endpoint the clients connect to")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}

	// The signal handler, installed before anything can block.
	ctx, stop := shutdown.NotifyContext(ctx)
	defer stop()
	zc, err := zchan.NewContext()
	if err != nil {
		return err
	}
	defer func() {
		tctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if terr := zc.Term(tctx); terr != nil && err == nil {
			err = terr
		}
	}()

	// A request that is not one frame gets an empty reply instead of
	// ending the server (see hwserver).
	socket, err := zchan.OpenWith(ctx, zchan.Rep, zchan.String, zchan.WithContext(zc),
		zchan.WithBind(*bind), zchan.WithEmptyReplyOnCodecError(true))
	if err != nil {
		return err
	}
	defer socket.Close()

	for {
		select {
		case req, ok := <-socket.In():
			if !ok {
				if ctx.Err() != nil {
					return interrupted(ctx, out)
				}
				return socket.Err()
			}
			fmt.Fprintf(out, "Received request: [%s]\n", req)
			if err := socket.Send(ctx, "World"); err != nil {
				if ctx.Err() != nil {
					return interrupted(ctx, out)
				}
				return err
			}
		case <-ctx.Done():
			return interrupted(ctx, out)
		}
	}
}

// interrupted says which signal stopped the server, in the guide's words
// ("interrupt" is how Go names SIGINT), and returns nil: a stop on a
// signal is a clean exit.
func interrupted(ctx context.Context, out io.Writer) error {
	what := "interrupt"
	var se *shutdown.SignalError
	if errors.As(context.Cause(ctx), &se) {
		what = se.Signal.String()
	}
	fmt.Fprintf(out, "W: %s received, killing server...\n", what)
	return nil
}
