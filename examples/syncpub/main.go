// Command syncpub is the guide's synchronized publisher (chapter 2,
// "Node Coordination"): it waits until a known number of subscribers have
// checked in over REQ/REP, then publishes a batch of updates and "END".
//
// Usage:
//
//	go run ./examples/syncpub [-bind tcp://*:5561] [-sync tcp://*:5562] [-subscribers 10] [-updates 1000000]
//
// Pair it with syncsub (any language). Ctrl-C or SIGTERM stops it cleanly
// (exit status 1: the batch was not sent).
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
		fmt.Fprintln(os.Stderr, "syncpub:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) (err error) {
	fs := flag.NewFlagSet("syncpub", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: syncpub [-bind ENDPOINT] [-sync ENDPOINT] [-subscribers N] [-updates N] [-linger DURATION]")
		fmt.Fprintln(fs.Output(), "Waits for N subscribers to synchronize, then publishes updates and END.")
		fs.PrintDefaults()
	}
	pubEP := fs.String("bind", "tcp://*:5561", "endpoint the subscribers' SUB sockets connect to")
	syncEP := fs.String("sync", "tcp://*:5562", "endpoint the subscribers' REQ sockets synchronize on")
	subscribers := fs.Int("subscribers", 10, "number of subscribers to wait for")
	updates := fs.Int("updates", 1000000, "number of updates to publish")
	linger := fs.Duration("linger", 5*time.Second, "how long queued updates may still go out after the last one is sent")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *subscribers < 0 || *updates < 0 || *linger < 0 {
		return fmt.Errorf("-subscribers, -updates and -linger must not be negative")
	}

	ctx, stop := shutdown.NotifyContext(ctx)
	defer stop()
	zc, err := zchan.NewContext()
	if err != nil {
		return err
	}
	defer func() {
		tctx, cancel := context.WithTimeout(context.Background(), *linger+5*time.Second)
		defer cancel()
		if terr := zc.Term(tctx); terr != nil && err == nil {
			err = terr
		}
	}()

	// Socket to talk to clients. A PUB drops what it cannot queue, so the
	// high-water mark is set above the batch, as in the guide, and the
	// linger lets the queue drain after the last send.
	publisher, err := zchan.OpenWith(ctx, zchan.Pub, zchan.String, zchan.WithContext(zc),
		zchan.WithSendHWM(*updates+1), zchan.WithLinger(*linger), zchan.WithBind(*pubEP))
	if err != nil {
		return err
	}
	defer publisher.Close()
	// Socket to receive signals. A check-in that is not one frame is not
	// from a syncsub: it ends the batch with ErrCodec rather than being
	// counted as a subscriber or answered with a made-up reply
	// (WithEmptyReplyOnCodecError is left off).
	syncService, err := zchan.OpenWith(ctx, zchan.Rep, zchan.String, zchan.WithContext(zc), zchan.WithBind(*syncEP))
	if err != nil {
		return err
	}
	defer syncService.Close()

	// Get synchronization from subscribers.
	fmt.Fprintln(out, "Waiting for subscribers")
	for n := 0; n < *subscribers; n++ {
		select {
		case _, ok := <-syncService.In():
			if !ok {
				return interrupted(ctx, syncService.Err())
			}
		case <-ctx.Done():
			return interrupted(ctx, nil)
		}
		if err := syncService.Send(ctx, ""); err != nil {
			return interrupted(ctx, err)
		}
	}
	// Now broadcast exactly the updates, followed by END.
	fmt.Fprintln(out, "Broadcasting messages")
	for range *updates {
		if err := publisher.Send(ctx, "Rhubarb"); err != nil {
			return interrupted(ctx, err)
		}
	}
	if err := publisher.Send(ctx, "END"); err != nil {
		return interrupted(ctx, err)
	}
	// Send has returned for every update, but the last ones may still be
	// in the socket's send queue. Shutdown returns once the owner has
	// handed them all, END included, to libzmq, which sends them on for up
	// to the linger (the termination deferred above waits for that). A PUB
	// takes every message at once (at its high-water mark it drops rather
	// than waits), so this is prompt; the bound is a safety net.
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := publisher.Shutdown(sctx); err != nil {
		return interrupted(ctx, fmt.Errorf("%d updates not sent: %w", publisher.Undelivered(), err))
	}
	return nil
}

// interrupted returns the reason a batch stopped early: the signal (or
// cancellation) if ctx ended, else err. Either way run returns, and its
// deferred calls close the sockets and terminate the context.
func interrupted(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: %w", context.Cause(ctx))
	}
	return err
}
