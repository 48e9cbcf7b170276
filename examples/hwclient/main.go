// Command hwclient is the guide's Hello World client (chapter 1, "Ask and
// Ye Shall Receive"): a reqrep.Client over a REQ socket connected to
// tcp://localhost:5555 that sends "Hello" ten times and waits for each
// "World".
//
// It exits 0 after the last reply. Ctrl-C or SIGTERM stops it early with
// an error saying how far it got. Pair it with hwserver.
//
//	go run ./examples/hwclient
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
		fmt.Fprintln(os.Stderr, "hwclient:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) (err error) {
	fs := flag.NewFlagSet("hwclient", flag.ContinueOnError)
	connect := fs.String("connect", "tcp://localhost:5555", "endpoint of the hello world server")
	n := fs.Int("n", 10, "number of requests")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: hwclient [-connect endpoint] [-n requests]")
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

	fmt.Fprintln(out, "Connecting to hello world server...")
	// A REQ socket, as in the guide: the requests go one at a time, each
	// bounded by ctx (Ctrl-C).
	requester, err := reqrep.NewClient(ctx, zchan.String, zchan.String, reqrep.WithType(zchan.Req),
		reqrep.WithConnect(*connect), reqrep.WithSocketOptions(zchan.WithContext(zc)))
	if err != nil {
		return err
	}
	defer requester.Close()

	for i := range *n {
		fmt.Fprintf(out, "Sending Hello %d...\n", i)
		reply, err := requester.Request(ctx, "Hello")
		if err != nil {
			return fmt.Errorf("request %d: %w", i, err)
		}
		fmt.Fprintf(out, "Received %s %d\n", reply, i)
	}
	return nil
}
