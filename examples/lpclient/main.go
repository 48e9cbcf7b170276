// Command lpclient is the guide's Lazy Pirate client (chapter 4, "Client-Side
// Reliability"): a reqrep.Client over a REQ socket connected to
// tcp://localhost:5555 that sends numbered requests and checks that each
// reply is its own number. It gives each attempt -timeout; when that passes
// it closes the socket, opens a new one and resends (reqrep.WithRetries),
// up to -retries attempts in all, and then gives up: the server seems to
// be offline. Closing the socket is what makes sure the late reply to an
// abandoned attempt is never read as the reply to the next request.
//
// It exits 0 after -n replies (0: until Ctrl-C or SIGTERM), and 1 when the
// server is gone. Run it with lpserver.
//
//	go run ./examples/lpclient
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/zmqchan/zmqchan/reqrep"
	"github.com/zmqchan/zmqchan/shutdown"
	"github.com/zmqchan/zmqchan/zchan"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "lpclient:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) (err error) {
	fs := flag.NewFlagSet("lpclient", flag.ContinueOnError)
	connect := fs.String("connect", "tcp://localhost:5555", "endpoint of the server")
	n := fs.Int("n", 0, "number of requests (0: until interrupted)")
	timeout := fs.Duration("timeout", 2500*time.Millisecond, "wait for a reply to each attempt")
	retries := fs.Int("retries", 3, "attempts per request before giving up")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: lpclient [-connect endpoint] [-n requests] [-timeout d] [-retries n]")
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
	defer func() {
		tctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if terr := zc.Term(tctx); terr != nil && err == nil {
			err = terr
		}
	}()

	fmt.Fprintln(out, "I: connecting to server...")
	client, err := reqrep.NewClient(ctx, zchan.String, zchan.String, reqrep.WithType(zchan.Req),
		reqrep.WithConnect(*connect), reqrep.WithRetries(*retries, *timeout),
		reqrep.WithSocketOptions(zchan.WithContext(zc)))
	if err != nil {
		return err
	}
	defer client.Close()

	for seq := 1; *n == 0 || seq <= *n; seq++ {
		request := strconv.Itoa(seq)
		reply, err := client.Request(ctx, request)
		var ae *reqrep.AttemptsError
		switch {
		case err == nil && reply == request:
			fmt.Fprintf(out, "I: server replied OK (%s)\n", reply)
		case err == nil:
			return fmt.Errorf("malformed reply from server: %q to %s", reply, request)
		case ctx.Err() != nil:
			return nil // interrupted
		case errors.As(err, &ae) && errors.Is(err, reqrep.ErrTimeout):
			fmt.Fprintf(out, "E: server seems to be offline, abandoning (%d attempts)\n", ae.Attempts)
			return err
		default:
			return err
		}
	}
	st := client.Stats()
	fmt.Fprintf(out, "I: %d requests, %d retries\n", st.Answered, st.Retries)
	return nil
}
