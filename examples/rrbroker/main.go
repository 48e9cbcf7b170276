// Command rrbroker is the guide's request-reply broker (chapter 2,
// "Shared Queue"): a ROUTER frontend bound to tcp://*:5559 for clients and
// a DEALER backend bound to tcp://*:5560 for workers, with every message,
// all its frames, passed from one to the other. The guide's zmq_poll loop
// is one select over the two sockets' channels, their SendFrom channels
// and Ctrl-C: no case of it blocks in a Send.
//
// It runs until Ctrl-C or SIGTERM, then prints what it forwarded and
// exits 0. Run it with rrclient and rrworker.
//
//	go run ./examples/rrbroker
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
		fmt.Fprintln(os.Stderr, "rrbroker:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) (err error) {
	fs := flag.NewFlagSet("rrbroker", flag.ContinueOnError)
	frontendEP := fs.String("frontend", "tcp://*:5559", "endpoint to bind the ROUTER for clients to")
	backendEP := fs.String("backend", "tcp://*:5560", "endpoint to bind the DEALER for workers to")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: rrbroker [-frontend endpoint] [-backend endpoint]")
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

	// Raw multipart messages (zchan.Open): a request arrives on the ROUTER
	// as [client identity, "", body] and leaves the DEALER unchanged; the
	// reply comes back the same way and the ROUTER routes it by its first
	// frame.
	frontend, err := zchan.Open(ctx, zchan.Router, zchan.WithContext(zc), zchan.WithBind(*frontendEP))
	if err != nil {
		return err
	}
	defer frontend.Close()
	backend, err := zchan.Open(ctx, zchan.Dealer, zchan.WithContext(zc), zchan.WithBind(*backendEP))
	if err != nil {
		return err
	}
	defer backend.Close()

	// Switch messages between the sockets in one select. The sends are
	// cases of it too: each socket's owner drains a channel of ours
	// (SendFrom), and takes a message only when it can send it, so a
	// request waiting for a worker holds up neither the replies nor
	// Ctrl-C. Each direction holds at most one message and reads its
	// input socket only when it holds none, so back pressure reaches the
	// peers as with Send.
	toBackend, toFrontend := make(chan zchan.Msg), make(chan zchan.Msg)
	defer close(toBackend) // ours: the library never closes them
	defer close(toFrontend)
	if err := backend.SendFrom(ctx, toBackend); err != nil {
		return err
	}
	if err := frontend.SendFrom(ctx, toFrontend); err != nil {
		return err
	}
	requests, replies := 0, 0
	defer func() { fmt.Fprintf(out, "Forwarded %d requests and %d replies\n", requests, replies) }()
	var (
		req, rep            zchan.Msg
		reqOut, repOut      chan<- zchan.Msg // non-nil while a message is held for it
		fromFront, fromBack = frontend.In(), backend.In()
	)
	for {
		select {
		case msg, ok := <-fromFront:
			if !ok {
				return ended(ctx, frontend.Err())
			}
			req, reqOut, fromFront = msg, toBackend, nil
		case reqOut <- req:
			requests++
			req, reqOut, fromFront = nil, nil, frontend.In()
		case msg, ok := <-fromBack:
			if !ok {
				return ended(ctx, backend.Err())
			}
			rep, repOut, fromBack = msg, toFrontend, nil
		case repOut <- rep:
			replies++
			rep, repOut, fromBack = nil, nil, backend.In()
		case <-frontend.Done(): // ended while we hold a message for it
			return ended(ctx, frontend.Err())
		case <-backend.Done():
			return ended(ctx, backend.Err())
		case <-ctx.Done():
			return nil
		}
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
