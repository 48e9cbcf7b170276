// Command identity is the guide's identity demo ("Identities and
// Addresses", chapter 3 of the current guide): a ROUTER receives one
// request from a REQ socket that lets libzmq pick its identity and one
// from a REQ socket that sets its own, and dumps both messages frame by
// frame, envelope included.
//
// Usage:
//
//	go run ./examples/identity [-endpoint inproc://example]
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
		fmt.Fprintln(os.Stderr, "identity:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) (err error) {
	fs := flag.NewFlagSet("identity", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: identity [-endpoint ENDPOINT] [-timeout DURATION]")
		fmt.Fprintln(fs.Output(), "Shows the identity frames a ROUTER sees for an anonymous and a named REQ peer.")
		fs.PrintDefaults()
	}
	endpoint := fs.String("endpoint", "inproc://example", "endpoint the ROUTER binds and the REQ sockets connect to")
	timeout := fs.Duration("timeout", 10*time.Second, "give up if a message has not arrived by then")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}

	ctx, stop := shutdown.NotifyContext(ctx)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
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

	sink, err := zchan.Open(ctx, zchan.Router, zchan.WithContext(zc), zchan.WithBind(*endpoint))
	if err != nil {
		return err
	}
	defer sink.Close()

	// First allow 0MQ to set the identity.
	anonymous, err := zchan.OpenWith(ctx, zchan.Req, zchan.String, zchan.WithContext(zc), zchan.WithConnect(*endpoint))
	if err != nil {
		return err
	}
	defer anonymous.Close()
	if err := anonymous.Send(ctx, "ROUTER uses a generated 5 byte identity"); err != nil {
		return err
	}
	if err := dump(ctx, out, sink); err != nil {
		return err
	}

	// Then set the identity ourselves.
	identified, err := zchan.OpenWith(ctx, zchan.Req, zchan.String, zchan.WithContext(zc),
		zchan.WithIdentity("PEER2"), zchan.WithConnect(*endpoint))
	if err != nil {
		return err
	}
	defer identified.Close()
	if err := identified.Send(ctx, "ROUTER socket uses REQ's socket identity"); err != nil {
		return err
	}
	return dump(ctx, out, sink)
}

// dump receives one message and prints it like the guide's s_dump: a rule,
// then each frame with its size, as text if it is printable ASCII and in
// hex otherwise.
func dump(ctx context.Context, out io.Writer, s *zchan.Socket[zchan.Msg]) error {
	var m zchan.Msg
	select {
	case msg, ok := <-s.In():
		if !ok {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			return s.Err()
		}
		m = msg
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	fmt.Fprintln(out, "----------------------------------------")
	for _, f := range m {
		if isText(f) {
			fmt.Fprintf(out, "[%03d] %s\n", len(f), f)
		} else {
			fmt.Fprintf(out, "[%03d] %X\n", len(f), f)
		}
	}
	return nil
}

func isText(b []byte) bool {
	for _, c := range b {
		if c < 32 || c > 126 {
			return false
		}
	}
	return true
}
