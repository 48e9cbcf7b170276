// Command syncsub is the guide's synchronized subscriber (chapter 2,
// "Node Coordination"): it subscribes to the publisher, checks in over
// REQ/REP once its subscription is in place, and counts updates until
// "END".
//
// The guide's subscriber sleeps a second before it checks in, hoping its
// subscription has reached the publisher by then. This one waits for the
// event instead: a socket monitor (set up through zchan.WithSetup) reports
// when the SUB socket has completed its handshake with the publisher, and
// the subscription travels on that connection right after it.
//
// Usage:
//
//	go run ./examples/syncsub [-connect tcp://localhost:5561] [-sync tcp://localhost:5562]
package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchan/zmqchan/shutdown"
	"github.com/zmqchan/zmqchan/zchan"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "syncsub:", err)
		os.Exit(1)
	}
}

// monitorEP is where libzmq publishes the SUB socket's events. inproc names
// live in one zmq context, and each run makes its own.
const monitorEP = "inproc://syncsub.monitor"

func run(ctx context.Context, args []string, out io.Writer) (err error) {
	fs := flag.NewFlagSet("syncsub", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: syncsub [-connect ENDPOINT] [-sync ENDPOINT]")
		fmt.Fprintln(fs.Output(), "Subscribes, synchronizes with syncpub, and counts updates until END.")
		fs.PrintDefaults()
	}
	subEP := fs.String("connect", "tcp://localhost:5561", "publisher endpoint to subscribe to")
	syncEP := fs.String("sync", "tcp://localhost:5562", "publisher endpoint to synchronize on")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
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
	defer func() {
		tctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if terr := zc.Term(tctx); terr != nil && err == nil {
			err = terr
		}
	}()

	// The monitor's reader connects first (inproc allows connecting before
	// the bind), so it cannot miss the handshake event.
	monitor, err := zchan.Open(ctx, zchan.Pair, zchan.WithContext(zc), zchan.WithConnect(monitorEP))
	if err != nil {
		return err
	}
	defer monitor.Close()

	// First, connect our subscriber socket, with the monitor set up before
	// it connects.
	subscriber, err := zchan.OpenWith(ctx, zchan.Sub, zchan.String, zchan.WithContext(zc),
		zchan.WithSetup(func(s *zmq.Socket) error { return s.Monitor(monitorEP, zmq.EVENT_HANDSHAKE_SUCCEEDED) }),
		zchan.WithSubscribe(""), zchan.WithConnect(*subEP))
	if err != nil {
		return err
	}
	defer subscriber.Close()
	if err := waitEvent(ctx, monitor, zmq.EVENT_HANDSHAKE_SUCCEEDED); err != nil {
		return err
	}

	// Second, synchronize with the publisher: send a synchronization
	// request and wait for the reply.
	syncClient, err := zchan.OpenWith(ctx, zchan.Req, zchan.String, zchan.WithContext(zc), zchan.WithConnect(*syncEP))
	if err != nil {
		return err
	}
	defer syncClient.Close()
	if err := syncClient.Send(ctx, ""); err != nil {
		return interrupted(ctx, err)
	}
	select {
	case _, ok := <-syncClient.In():
		if !ok {
			return interrupted(ctx, syncClient.Err())
		}
	case <-ctx.Done():
		return interrupted(ctx, nil)
	}

	// Third, get our updates and report how many we got.
	updates := 0
	for {
		select {
		case m, ok := <-subscriber.In():
			if !ok {
				return interrupted(ctx, subscriber.Err())
			}
			if m == "END" {
				fmt.Fprintf(out, "Received %d updates\n", updates)
				return nil
			}
			updates++
		case <-ctx.Done():
			return interrupted(ctx, nil)
		}
	}
}

// waitEvent waits until the monitor reports event. A monitor message is
// two frames: the event number (16 bits, host byte order) followed by a
// 32-bit value, then the endpoint.
func waitEvent(ctx context.Context, monitor *zchan.Socket[zchan.Msg], event zmq.Event) error {
	for {
		select {
		case m, ok := <-monitor.In():
			if !ok {
				return interrupted(ctx, monitor.Err())
			}
			if len(m) == 2 && len(m[0]) == 6 && zmq.Event(binary.NativeEndian.Uint16(m[0])) == event {
				return nil
			}
		case <-ctx.Done():
			return interrupted(ctx, nil)
		}
	}
}

// interrupted returns why the program stopped early: the signal (or
// cancellation) if ctx ended, else err. Either way run returns, and its
// deferred calls close the sockets and terminate the context.
func interrupted(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: %w", context.Cause(ctx))
	}
	return err
}
