// Command rrworker is the guide's request-reply worker (chapter 2,
// "Shared Queue"; "rrserver" in older editions): hwserver that connects
// instead of binding. A reqrep.Server over a REP socket connected to the
// broker's backend at tcp://localhost:5560 prints each request, works a
// second, and replies "World".
//
// It runs until Ctrl-C or SIGTERM, then shuts down gracefully (the reply
// to the request being worked on is still sent, within 5s) and exits 0. Start several, with
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

	"github.com/zmqchan/zmqchan/reqrep"
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

	// The broker passes on whatever its clients send, so the requests are
	// raw frames: one that is not one frame gets an empty reply, which no
	// request of this protocol otherwise gets, and the worker goes on.
	hello := func(ctx context.Context, request zchan.Msg) (string, error) {
		if len(request) != 1 {
			return "", nil
		}
		fmt.Fprintf(out, "Received request: [%s]\n", request[0])
		if err := sleep(ctx, *work); err != nil {
			return "", err // shut down while working: no reply
		}
		return "World", nil
	}
	responder, err := reqrep.NewServer(ctx, zchan.Frames, zchan.String, hello, reqrep.WithType(zchan.Rep),
		reqrep.WithConnect(*connect), reqrep.WithSocketOptions(zchan.WithContext(zc)))
	if err != nil {
		return err
	}
	defer responder.Close()

	select {
	case <-ctx.Done(): // Ctrl-C: finish the request under way, then stop
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return responder.Shutdown(sctx)
	case <-responder.Done(): // the socket ended by itself
		return responder.Err()
	}
}

// sleep waits d; it returns ctx's cause if ctx ended first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
