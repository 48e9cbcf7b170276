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
// It runs until Ctrl-C or SIGTERM, then a shutdown.Group shuts the proxy down (forwarding
// what it holds, for at most -grace), prints how many messages (updates
// and subscriptions) it forwarded and exits 0. Run it between wuserver and
// wuclient -connect tcp://localhost:8100.
//
//	go run ./examples/wuproxy
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/zmqchan/zmqchan/pipeline"
	"github.com/zmqchan/zmqchan/shutdown"
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

	// Ctrl-C and SIGTERM end ctx, and with it the group: it shuts the
	// device down (what it holds is forwarded within -grace), then
	// terminates the zmq context within its own deadline, and reports.
	ctx, stop := shutdown.NotifyContext(ctx)
	defer stop()
	g, err := shutdown.New(ctx, shutdown.WithDrainTimeout(*grace))
	if err != nil {
		return err
	}

	// The XSUB connects to where the weather server sits (">" means
	// connect); the XPUB is bound to our public endpoint for subscribers.
	// ctx bounds only the opening.
	proxy, err := pipeline.Forwarder(ctx, ">"+*frontend, *backend, pipeline.WithContext(g.ZMQ()))
	if err != nil {
		g.Shutdown() // nothing to drain: only the zmq context to terminate
		_, werr := g.Wait()
		return errors.Join(err, werr)
	}
	// Add refuses once shutdown has begun (a Ctrl-C already); the device
	// is then still ours to close.
	if err := g.Add(proxy); err != nil {
		proxy.Close()
	}
	rep, err := g.Wait() // until Ctrl-C, SIGTERM or a failure of the device
	fmt.Fprintf(out, "Forwarded %d messages\n", proxy.Forwarded())
	if err == nil && rep.TotalUndelivered() > 0 {
		err = fmt.Errorf("%s: %d messages undelivered at shutdown", "wuproxy", rep.TotalUndelivered())
	}
	return err
}
