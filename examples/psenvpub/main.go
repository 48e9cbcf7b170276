// Command psenvpub is the guide's pub-sub envelope publisher (chapter 2,
// "Pub-Sub Message Envelopes"): every second it publishes two two-frame
// messages, one under key "A" and one under key "B"; the key is the first
// frame, so subscribers filter on it without looking at the content.
//
// Usage:
//
//	go run ./examples/psenvpub [-bind tcp://*:5563] [-interval 1s]
//
// Pair it with psenvsub (any language). Ctrl-C or SIGTERM stops it cleanly.
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
		fmt.Fprintln(os.Stderr, "psenvpub:", err)
		os.Exit(1)
	}
}

// run publishes until ctx ends or a signal arrives, then returns nil. It
// prints nothing, like the guide's publisher.
func run(ctx context.Context, args []string, _ io.Writer) (err error) {
	fs := flag.NewFlagSet("psenvpub", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: psenvpub [-bind ENDPOINT] [-interval DURATION]")
		fmt.Fprintln(fs.Output(), "Publishes an A and a B envelope every interval.")
		fs.PrintDefaults()
	}
	bind := fs.String("bind", "tcp://*:5563", "endpoint the subscribers connect to")
	interval := fs.Duration("interval", time.Second, "time between two rounds of messages")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *interval <= 0 {
		return fmt.Errorf("-interval must be positive")
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

	// Prepare our publisher. Open returns a socket of raw multipart
	// messages (zchan.Msg): one []byte per frame.
	publisher, err := zchan.Open(ctx, zchan.Pub, zchan.WithContext(zc), zchan.WithBind(*bind))
	if err != nil {
		return stopped(ctx, err)
	}
	defer publisher.Close()

	tick := time.NewTicker(*interval)
	defer tick.Stop()
	for {
		// Write two messages, each with an envelope and content.
		for _, m := range []zchan.Msg{
			zchan.NewMsg("A", "We don't want to see this"),
			zchan.NewMsg("B", "We would like to see this"),
		} {
			if err := publisher.Send(ctx, m); err != nil {
				return stopped(ctx, err)
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return nil
		}
	}
}

// stopped tells a clean stop (Ctrl-C ended ctx, and a call waiting on it
// returned its cause) from a failure. The socket itself is closed by run's
// deferred Close.
func stopped(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}
