// Command dealerloop is the scenario of the libevent note ("ZeroMQ socket
// with libevent"): a receiver keeps a DEALER bound on an ipc endpoint
// inside its own event loop, and a sender's DEALER sends "hello world"
// every second.
//
// In the note, the receiver registers the socket's ZMQ_FD with libevent
// and, on each edge, reads ZMQ_EVENTS and drains the socket until EAGAIN,
// because the edge is all it gets. With zchan, the socket's owner
// goroutine does exactly that, and the event loop is a select: messages
// arrive on a channel next to a status timer and the shutdown signal.
//
// Usage:
//
//	go run ./examples/dealerloop -role receiver [-endpoint ipc://libevent_integration_server]
//	go run ./examples/dealerloop -role sender [-endpoint ipc://libevent_integration_server] [-interval 1s]
//
// Both run until Ctrl-C or SIGTERM (or -count messages), then stop cleanly.
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
		fmt.Fprintln(os.Stderr, "dealerloop:", err)
		os.Exit(1)
	}
}

type config struct {
	endpoint string
	interval time.Duration // sender: between two messages
	report   time.Duration // receiver: between two status lines, 0 for none
	count    int           // stop after this many messages, 0 for never
}

func run(ctx context.Context, args []string, out io.Writer) (err error) {
	fs := flag.NewFlagSet("dealerloop", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: dealerloop -role receiver|sender [-endpoint ENDPOINT] [-interval D] [-report D] [-count N]")
		fmt.Fprintln(fs.Output(), "A DEALER served in an event loop (receiver) and a DEALER sending hello world (sender).")
		fs.PrintDefaults()
	}
	var c config
	role := fs.String("role", "", "receiver (binds) or sender (connects)")
	fs.StringVar(&c.endpoint, "endpoint", "ipc://libevent_integration_server", "endpoint the receiver binds and the sender connects to")
	fs.DurationVar(&c.interval, "interval", time.Second, "sender: time between two messages")
	fs.DurationVar(&c.report, "report", 5*time.Second, "receiver: time between two status lines (0: none)")
	fs.IntVar(&c.count, "count", 0, "stop after this many messages (0: run until interrupted)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if c.interval <= 0 || c.report < 0 || c.count < 0 {
		return fmt.Errorf("-interval must be positive, -report and -count not negative")
	}
	var serve func(context.Context, *zchan.Socket[string], config, io.Writer) error
	var opt zchan.Option
	switch *role {
	case "receiver":
		serve, opt = receive, zchan.WithBind(c.endpoint)
	case "sender":
		serve, opt = send, zchan.WithConnect(c.endpoint)
	default:
		fs.Usage()
		return fmt.Errorf("-role must be receiver or sender, not %q", *role)
	}

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

	socket, err := zchan.OpenWith(ctx, zchan.Dealer, zchan.String, zchan.WithContext(zc), opt)
	if err != nil {
		return stopped(ctx, err)
	}
	defer socket.Close()
	return stopped(ctx, serve(ctx, socket, c, out))
}

// receive is the receiver's event loop: one select over the socket's
// messages, a status timer and the shutdown signal.
func receive(ctx context.Context, socket *zchan.Socket[string], c config, out io.Writer) error {
	var report <-chan time.Time
	if c.report > 0 {
		t := time.NewTicker(c.report)
		defer t.Stop()
		report = t.C
	}
	n := 0
	for {
		select {
		case msg, ok := <-socket.In():
			if !ok {
				return socket.Err()
			}
			n++
			fmt.Fprintf(out, "msg size is: %d, msg is: %s\n", len(msg), msg)
			if n == c.count {
				return nil
			}
		case <-report:
			fmt.Fprintf(out, "status: %d messages received\n", n)
		case <-ctx.Done():
			return nil
		}
	}
}

// send sends "hello world" every interval. A DEALER holds a message until
// a peer is connected, so the first Send waits for the receiver (or for
// Ctrl-C).
func send(ctx context.Context, socket *zchan.Socket[string], c config, out io.Writer) error {
	t := time.NewTicker(c.interval)
	defer t.Stop()
	for n := 1; ; n++ {
		if err := socket.Send(ctx, "hello world"); err != nil {
			return err
		}
		fmt.Fprintln(out, "sending msg...")
		if n == c.count {
			return nil
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil
		}
	}
}

// stopped tells a clean stop (Ctrl-C ended ctx, and a call waiting on it
// returned its cause) from a failure. The socket itself is closed by run's
// deferred Close.
func stopped(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return nil
	}
	return err
}
