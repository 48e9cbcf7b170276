// Command wuclient is the guide's weather update client (chapter 1,
// "Getting the Message Out"): a SUB socket connected to
// tcp://localhost:5556 that subscribes to one zipcode (10001 unless given
// as the argument), collects 100 updates and prints their average
// temperature.
//
// It exits 0 after the last update; Ctrl-C or SIGTERM stops it early with
// an error. Pair it with wuserver, or with wuproxy (-connect
// tcp://localhost:8100).
//
//	go run ./examples/wuclient [zipcode]
package main

import (
	"context"
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
		fmt.Fprintln(os.Stderr, "wuclient:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) (err error) {
	fs := flag.NewFlagSet("wuclient", flag.ContinueOnError)
	connect := fs.String("connect", "tcp://localhost:5556", "endpoint of the weather server")
	n := fs.Int("n", 100, "number of updates to collect")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: wuclient [-connect endpoint] [-n updates] [zipcode]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil
		}
		return err
	}
	if *n < 1 {
		return fmt.Errorf("-n %d: want at least 1", *n)
	}
	zipcode := "10001"
	switch fs.NArg() {
	case 0:
	case 1:
		zipcode = fs.Arg(0)
	default:
		fs.Usage()
		return fmt.Errorf("want at most one zipcode, got %q", fs.Args())
	}

	ctx, stop := shutdown.NotifyContext(ctx)
	defer stop()

	zc, err := zchan.NewContext()
	if err != nil {
		return err
	}
	// Deferred before the sockets are opened, so it runs after their
	// deferred Closes: Term then returns once libzmq has sent what they
	// queued (at most their 1s linger), and the bound covers the rest.
	defer func() {
		tctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if terr := zc.Term(tctx); terr != nil && err == nil {
			err = terr
		}
	}()

	fmt.Fprintln(out, "Collecting updates from weather server...")
	// Subscribing to "10001 " rather than "10001" keeps out 100010 and up,
	// should a server ever send six-digit zipcodes.
	subscriber, err := zchan.OpenWith(ctx, zchan.Sub, zchan.String,
		zchan.WithContext(zc), zchan.WithSubscribe(zipcode+" "), zchan.WithConnect(*connect))
	if err != nil {
		return err
	}
	defer subscriber.Close()

	total := 0
	for i := range *n {
		select {
		case update, ok := <-subscriber.In():
			if !ok {
				return subscriber.Err()
			}
			var zip string
			var temperature, relhumidity int
			if _, err := fmt.Sscanf(update, "%s %d %d", &zip, &temperature, &relhumidity); err != nil {
				return fmt.Errorf("update %q: %w", update, err)
			}
			total += temperature
		case <-ctx.Done():
			return fmt.Errorf("after %d of %d updates: %w", i, *n, context.Cause(ctx))
		}
	}
	fmt.Fprintf(out, "Average temperature for zipcode '%s' was %dF\n", zipcode, total / *n)
	return nil
}
