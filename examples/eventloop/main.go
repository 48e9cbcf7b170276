// Command eventloop is the scenario of the calloop note ("A full example:
// ZeroMQ"): one event loop serves several ZeroMQ sockets, a timer and
// cancellation. It answers Hello World requests on a REP socket (hwserver's
// role), follows one zip code's weather updates on a SUB socket (a
// wuclient), prints a status line on every tick, and stops on Ctrl-C,
// SIGTERM or, with -for, a deadline.
//
// The note wraps ZMQ_FD in an event source and must then handle the edge
// triggering, fairness and shutdown itself. Here each socket's owner
// goroutine does the ZMQ_FD work and moves at most a budget of messages
// per turn, and the loop is one select: a flooded SUB socket cannot starve
// the REP socket, the timer or cancellation.
//
// Usage:
//
//	go run ./examples/eventloop [-rep tcp://*:5555] [-sub tcp://localhost:5556] [-zip 10001] [-tick 1s] [-for 0]
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
		fmt.Fprintln(os.Stderr, "eventloop:", err)
		os.Exit(1)
	}
}

// run serves until a signal, the -for deadline or the end of ctx, then
// prints a summary and returns nil.
func run(ctx context.Context, args []string, out io.Writer) (err error) {
	fs := flag.NewFlagSet("eventloop", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: eventloop [-rep ENDPOINT] [-sub ENDPOINT] [-zip CODE] [-tick DURATION] [-for DURATION]")
		fmt.Fprintln(fs.Output(), "Serves a REP socket, a SUB socket, a timer and cancellation from one select.")
		fs.PrintDefaults()
	}
	repEP := fs.String("rep", "tcp://*:5555", "endpoint to answer Hello World requests on")
	subEP := fs.String("sub", "tcp://localhost:5556", "weather server to subscribe to")
	zip := fs.String("zip", "10001", "zip code whose weather updates to follow")
	tick := fs.Duration("tick", time.Second, "time between two status lines")
	runFor := fs.Duration("for", 0, "stop after this long (0: run until interrupted)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *tick <= 0 || *runFor < 0 {
		return fmt.Errorf("-tick must be positive and -for not negative")
	}

	ctx, stop := shutdown.NotifyContext(ctx)
	defer stop()
	if *runFor > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *runFor)
		defer cancel()
	}
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

	// A request that is not one frame gets an empty reply instead of
	// ending the server (see hwserver).
	server, err := zchan.OpenWith(ctx, zchan.Rep, zchan.String, zchan.WithContext(zc),
		zchan.WithBind(*repEP), zchan.WithEmptyReplyOnCodecError(true))
	if err != nil {
		return stopped(ctx, err)
	}
	defer server.Close()
	// The guide's weather updates are "zipcode temperature relhumidity";
	// the trailing space keeps 10001 from matching 100010. A SUB socket
	// sends nothing but its subscriptions, so it need not linger at exit
	// (with no publisher there, the default linger would hold the exit up
	// for a second).
	weather, err := zchan.OpenWith(ctx, zchan.Sub, zchan.String, zchan.WithContext(zc),
		zchan.WithSubscribe(*zip+" "), zchan.WithLinger(0), zchan.WithConnect(*subEP))
	if err != nil {
		return stopped(ctx, err)
	}
	defer weather.Close()
	ticker := time.NewTicker(*tick)
	defer ticker.Stop()

	var s stats
	for {
		select {
		case req, ok := <-server.In():
			if !ok {
				return s.stop(ctx, out, server.Err())
			}
			s.requests++
			fmt.Fprintf(out, "request: %s\n", req)
			if err := server.Send(ctx, "World"); err != nil {
				return s.stop(ctx, out, err)
			}
		case update, ok := <-weather.In():
			if !ok {
				return s.stop(ctx, out, weather.Err())
			}
			var z string
			var temp, humidity int
			if _, err := fmt.Sscan(update, &z, &temp, &humidity); err != nil {
				s.bad++
				continue
			}
			s.updates++
			s.tempSum += temp
		case <-ticker.C:
			fmt.Fprintf(out, "tick: %s\n", s)
		case <-ctx.Done():
			return s.stop(ctx, out, nil)
		}
	}
}

// stats is what the loop counts. Only the loop's goroutine touches it.
type stats struct {
	requests, updates, bad, tempSum int
}

func (s stats) String() string {
	avg := "none"
	if s.updates > 0 {
		avg = fmt.Sprintf("%.1fF", float64(s.tempSum)/float64(s.updates))
	}
	return fmt.Sprintf("%d requests, %d updates (%d bad), average temperature %s", s.requests, s.updates, s.bad, avg)
}

// stop prints the summary and tells a clean stop (ctx ended) from a
// failure.
func (s stats) stop(ctx context.Context, out io.Writer, err error) error {
	if ctx.Err() == nil && err != nil {
		return err
	}
	fmt.Fprintf(out, "stopped (%v): %s\n", context.Cause(ctx), s)
	return nil
}

// stopped tells a clean stop (Ctrl-C ended ctx, and a call waiting on it
// returned its cause) from a failure. The sockets themselves are closed by
// run's deferred Closes.
func stopped(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}
