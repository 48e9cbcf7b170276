// Command wuproxy is the guide's weather update proxy (chapter 2, "A
// Publish-Subscribe Proxy Server"): an XSUB socket connected to the
// weather server (tcp://localhost:5556 here; the guide's internal
// tcp://192.168.55.210:5556) and an XPUB socket bound for subscribers on
// the external network (tcp://*:8100; the guide's tcp://10.1.1.0:8100).
// Updates flow from the server to the subscribers, and subscriptions flow
// back, so the server only sends what someone downstream wants. The
// guide's zmq_proxy is one select over the two sockets.
//
// It runs until Ctrl-C or SIGTERM, then prints what it forwarded and
// exits 0. Run it between wuserver and wuclient -connect tcp://localhost:8100.
//
//	go run ./examples/wuproxy
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/zmqchan/zmqchan/shutdown"
	"github.com/zmqchan/zmqchan/zchan"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "wuproxy:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("wuproxy", flag.ContinueOnError)
	frontendEP := fs.String("frontend", "tcp://localhost:5556", "endpoint of the weather server (internal network)")
	backendEP := fs.String("backend", "tcp://*:8100", "endpoint to bind for subscribers (external network)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: wuproxy [-frontend endpoint] [-backend endpoint]")
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

	// This is where the weather server sits.
	frontend, err := zchan.Open(ctx, zchan.XSub, zchan.WithContext(zc), zchan.WithConnect(*frontendEP))
	if err != nil {
		return err
	}
	defer frontend.Close()
	// This is our public endpoint for subscribers.
	backend, err := zchan.Open(ctx, zchan.XPub, zchan.WithContext(zc), zchan.WithBind(*backendEP))
	if err != nil {
		return err
	}
	defer backend.Close()

	// Neither Send below waits long: XPUB drops what a slow subscriber
	// cannot take, and XSUB keeps subscriptions until the server is there.
	updates, subscriptions := 0, 0
	defer func() { fmt.Fprintf(out, "Forwarded %d updates and %d subscriptions\n", updates, subscriptions) }()
	for {
		select {
		case update, ok := <-frontend.In():
			if !ok {
				return ended(ctx, frontend.Err())
			}
			if err := backend.Send(ctx, update); err != nil {
				return ended(ctx, err)
			}
			updates++
		case subscription, ok := <-backend.In():
			if !ok {
				return ended(ctx, backend.Err())
			}
			// [1, prefix...] subscribes, [0, prefix...] unsubscribes.
			if err := frontend.Send(ctx, subscription); err != nil {
				return ended(ctx, err)
			}
			subscriptions++
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
