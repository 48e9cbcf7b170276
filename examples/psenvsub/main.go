// Command psenvsub is the guide's pub-sub envelope subscriber (chapter 2,
// "Pub-Sub Message Envelopes"): it subscribes to the messages whose first
// frame is "B" and prints each as "[key] content".
//
// Usage:
//
//	go run ./examples/psenvsub [-connect tcp://localhost:5563] [-key B] [-count 0]
//
// Pair it with psenvpub (any language). Ctrl-C or SIGTERM stops it cleanly.
package main

import (
	"bytes"
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
		fmt.Fprintln(os.Stderr, "psenvsub:", err)
		os.Exit(1)
	}
}

// run prints messages until it has printed -count of them (0: no limit),
// ctx ends or a signal arrives; a stop by ctx or signal returns nil.
func run(ctx context.Context, args []string, out io.Writer) (err error) {
	fs := flag.NewFlagSet("psenvsub", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: psenvsub [-connect ENDPOINT] [-key KEY] [-count N]")
		fmt.Fprintln(fs.Output(), "Prints the published messages whose envelope starts with KEY.")
		fs.PrintDefaults()
	}
	connect := fs.String("connect", "tcp://localhost:5563", "publisher endpoint")
	key := fs.String("key", "B", "envelope prefix to subscribe to")
	count := fs.Int("count", 0, "stop after this many messages (0: run until interrupted)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *count < 0 {
		return fmt.Errorf("-count must not be negative")
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

	// Prepare our subscriber: the subscription is in place before it
	// connects. It sends nothing but the subscription, so it need not
	// linger at exit. WithLifetime ties it to ctx: Ctrl-C ends the socket,
	// which closes In and so ends the loop below.
	subscriber, err := zchan.Open(ctx, zchan.Sub, zchan.WithContext(zc), zchan.WithLifetime(ctx),
		zchan.WithSubscribe(*key), zchan.WithLinger(0), zchan.WithConnect(*connect))
	if err != nil {
		return stopped(ctx, err)
	}
	defer subscriber.Close() // when -count ends the loop first

	n := 0
	for m := range subscriber.In() {
		// The envelope (the key) is the first frame, the contents the
		// rest: one frame from psenvpub.
		fmt.Fprintf(out, "[%s] %s\n", m[0], bytes.Join(m[1:], []byte(" ")))
		if n++; n == *count {
			return nil
		}
	}
	return stopped(ctx, subscriber.Err())
}

// stopped tells a clean stop (Ctrl-C ended ctx, and with it the socket's
// lifetime) from a failure.
func stopped(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}
