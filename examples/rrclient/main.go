// Command rrclient is the guide's request-reply client (chapter 2,
// "Shared Queue"): hwclient pointed at a broker. A reqrep.Client over a
// REQ socket connected to the broker's frontend at tcp://localhost:5559
// sends "Hello" ten times and prints each reply.
//
// It exits 0 after the last reply; Ctrl-C or SIGTERM stops it early with
// an error. Run it with rrbroker (or msgqueue) and rrworker.
//
//	go run ./examples/rrclient
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/zmqchan/zmqchan/reqrep"
	"github.com/zmqchan/zmqchan/shutdown"
	"github.com/zmqchan/zmqchan/zchan"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "rrclient:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) (err error) {
	fs := flag.NewFlagSet("rrclient", flag.ContinueOnError)
	connect := fs.String("connect", "tcp://localhost:5559", "endpoint of the broker's frontend")
	n := fs.Int("n", 10, "number of requests")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: rrclient [-connect endpoint] [-n requests]")
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

	requester, err := reqrep.NewClient(ctx, zchan.String, zchan.String, reqrep.WithType(zchan.Req),
		reqrep.WithConnect(*connect), reqrep.WithSocketOptions(zchan.WithContext(zc)))
	if err != nil {
		return err
	}
	defer requester.Close()

	for i := range *n {
		reply, err := requester.Request(ctx, "Hello")
		if err != nil {
			return fmt.Errorf("request %d: %w", i, err)
		}
		fmt.Fprintf(out, "Received reply %d [%s]\n", i, reply)
	}
	return nil
}
