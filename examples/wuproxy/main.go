// Command wuproxy is the guide's weather update proxy (chapter 2, "A
// Publish-Subscribe Proxy Server"): an XSUB socket connected to the
// weather server (tcp://localhost:5556 here; the guide's internal
// tcp://192.168.55.210:5556) and an XPUB socket bound for subscribers on
// the external network (tcp://*:8100; the guide's tcp://10.1.1.0:8100).
// Updates flow from the server to the subscribers, and subscriptions flow
// back, so the server only sends what someone downstream wants. The
// guide's zmq_proxy is the FORWARDER device, pipeline.Forwarder, which can
// be shut down.
//
// It runs until Ctrl-C or SIGTERM, then shuts the proxy down (forwarding
// what it holds, for at most -grace), prints how many messages (updates
// and subscriptions) it forwarded and exits 0. Run it between wuserver and
// wuclient -connect tcp://localhost:8100.
//
//	go run ./examples/wuproxy
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/zmqchan/zmqchan/pipeline"
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
	frontend := fs.String("frontend", "tcp://localhost:5556", "endpoint of the weather server (internal network)")
	backend := fs.String("backend", "tcp://*:8100", "endpoint to bind for subscribers (external network)")
	grace := fs.Duration("grace", 5*time.Second, "how long the shutdown may take to forward what the proxy holds")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: wuproxy [-frontend endpoint] [-backend endpoint] [-grace duration]")
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

	// The XSUB connects to where the weather server sits (">" means
	// connect); the XPUB is bound to our public endpoint for subscribers.
	// ctx bounds only the opening.
	proxy, err := pipeline.Forwarder(ctx, ">"+*frontend, *backend, pipeline.WithContext(zc))
	if err != nil {
		return err
	}
	defer proxy.Close()
	select {
	case <-ctx.Done(): // Ctrl-C
		sctx, cancel := context.WithTimeout(context.Background(), *grace)
		defer cancel()
		err = proxy.Shutdown(sctx) // nil, or the deadline: then closed at once
	case <-proxy.Done(): // a failure
		err = proxy.Err()
	}
	fmt.Fprintf(out, "Forwarded %d messages\n", proxy.Forwarded())
	return err
}
