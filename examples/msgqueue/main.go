// Command msgqueue is the guide's message queue broker (chapter 2,
// "Built-in Devices"): rrbroker rewritten around a QUEUE device, with the
// same endpoints (ROUTER frontend tcp://*:5559, DEALER backend
// tcp://*:5560). The device is the queue function below: one goroutine per
// direction, so requests waiting for a worker never hold up replies.
//
// It runs until Ctrl-C or SIGTERM, then prints what it forwarded and
// exits 0. Run it with rrclient and rrworker, in place of rrbroker.
//
//	go run ./examples/msgqueue
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sync"

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
	frontendEP := fs.String("frontend", "tcp://*:5559", "endpoint to bind the ROUTER for clients to")
	backendEP := fs.String("backend", "tcp://*:5560", "endpoint to bind the DEALER for workers to")
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

	// Socket facing clients.
	frontend, err := zchan.Open(ctx, zchan.Router, zchan.WithContext(zc), zchan.WithBind(*frontendEP))
	if err != nil {
		return err
	}
	defer frontend.Close()
	// Socket facing services.
	backend, err := zchan.Open(ctx, zchan.Dealer, zchan.WithContext(zc), zchan.WithBind(*backendEP))
	if err != nil {
		return err
	}
	defer backend.Close()

	// Start the proxy.
	requests, replies, err := queue(ctx, frontend, backend)
	fmt.Fprintf(out, "Forwarded %d requests and %d replies\n", requests, replies)
	if ctx.Err() != nil {
		return nil // Ctrl-C: a clean exit
	}
	return err
}

// queue passes every message from frontend to backend and back until ctx
// ends or a socket fails, and returns how many it passed each way. Each
// direction runs on its own goroutine, which queue waits for; the first
// to fail stops the other.
func queue(ctx context.Context, frontend, backend *zchan.Socket[zchan.Msg]) (requests, replies int, err error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		var err error
		requests, err = forward(ctx, frontend, backend)
		cancel(err)
	}()
	go func() {
		defer wg.Done()
		var err error
		replies, err = forward(ctx, backend, frontend)
		cancel(err)
	}()
	wg.Wait()
	return requests, replies, context.Cause(ctx)
}

// forward sends what arrives on from to to, until ctx ends (it returns
// nil) or a socket fails.
func forward(ctx context.Context, from, to *zchan.Socket[zchan.Msg]) (int, error) {
	n := 0
	for {
		select {
		case msg, ok := <-from.In():
			if !ok {
				return n, from.Err()
			}
			if err := to.Send(ctx, msg); err != nil {
				if ctx.Err() != nil {
					return n, nil
				}
				return n, err
			}
			n++
		case <-ctx.Done():
			return n, nil
		}
	}
}
