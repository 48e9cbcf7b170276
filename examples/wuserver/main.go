// Command wuserver is the guide's weather update server (chapter 1,
// "Getting the Message Out"): a PUB socket bound to tcp://*:5556 and
// ipc://weather.ipc that publishes random updates "zipcode temperature
// relhumidity" ("%05d %d %d") as fast as it can.
//
// It runs until Ctrl-C or SIGTERM, then prints how many updates it sent
// and exits 0. Pair it with wuclient, or with wuproxy in between.
//
//	go run ./examples/wuserver
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"

	"github.com/zmqchan/zmqchan/shutdown"
	"github.com/zmqchan/zmqchan/zchan"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "wuserver:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("wuserver", flag.ContinueOnError)
	bind := fs.String("bind", "tcp://*:5556,ipc://weather.ipc", "comma-separated endpoints to bind the PUB socket to")
	zipcodes := fs.Int("zipcodes", 100000, "zipcodes are drawn from 0 to this number - 1")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: wuserver [-bind endpoints] [-zipcodes n]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil
		}
		return err
	}
	if *zipcodes < 1 || *zipcodes > 100000 {
		return fmt.Errorf("-zipcodes %d: want 1 to 100000", *zipcodes)
	}

	ctx, stop := shutdown.NotifyContext(ctx)
	defer stop()

	zc, err := zchan.NewContext()
	if err != nil {
		return err
	}
	defer zc.Term(context.Background())

	publisher, err := zchan.OpenWith(ctx, zchan.Pub, zchan.String,
		zchan.WithContext(zc), zchan.WithBind(strings.Split(*bind, ",")...))
	if err != nil {
		return err
	}
	defer publisher.Close()

	// A PUB socket never blocks: with no subscriber, or a slow one, libzmq
	// drops the update. Send returns once the socket's owner has it, and
	// fails with ctx's cause when Ctrl-C arrives.
	sent := 0
	for {
		zipcode := rand.IntN(*zipcodes)
		temperature := rand.IntN(215) - 80
		relhumidity := rand.IntN(50) + 10
		update := fmt.Sprintf("%05d %d %d", zipcode, temperature, relhumidity)
		if err := publisher.Send(ctx, update); err != nil {
			if ctx.Err() != nil {
				fmt.Fprintf(out, "Sent %d updates\n", sent)
				return nil
			}
			return err
		}
		sent++
	}
}
