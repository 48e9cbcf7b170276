// Command wuserver is the guide's weather update server (chapter 1,
// "Getting the Message Out"): a PUB socket bound to tcp://*:5556 and
// ipc://weather.ipc that publishes random updates "zipcode temperature
// relhumidity" ("%05d %d %d") as fast as it can.
//
// It runs until Ctrl-C or SIGTERM, then shuts down with a shutdown.Group
// (the publishing loop first, then the socket it feeds, then the zmq
// context), prints how many updates it sent and exits 0. Pair it with
// wuclient, or with wuproxy in between.
//
//	go run ./examples/wuserver
package main

import (
	"context"
	"errors"
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

	// Ctrl-C and SIGTERM end ctx, and with it the group, which shuts down
	// what it holds in the order it was added, then terminates the zmq
	// context within a deadline.
	ctx, stop := shutdown.NotifyContext(ctx)
	defer stop()
	g, err := shutdown.New(ctx)
	if err != nil {
		return err
	}
	publisher, err := zchan.OpenWith(ctx, zchan.Pub, zchan.String,
		zchan.WithContext(g.ZMQ()), zchan.WithBind(strings.Split(*bind, ",")...))
	if err != nil {
		g.Shutdown() // nothing to drain: only the zmq context to terminate
		_, werr := g.Wait()
		return errors.Join(err, werr)
	}

	// The source first, then the socket it feeds: on shutdown the group
	// stops the loop, then closes the socket (which hands libzmq what the
	// loop sent), then terminates the context. Go and Add refuse once
	// shutdown has begun (a Ctrl-C already); the socket is then still ours
	// to close.
	g.Go("publish", func(ctx context.Context) error { return publish(ctx, publisher, *zipcodes, out) })
	if err := g.Add(publisher); err != nil {
		publisher.Close()
	}
	_, err = g.Wait()
	return err
}

// publish sends random updates as fast as the socket takes them until ctx
// ends, then says how many it sent. A PUB socket never blocks: with no
// subscriber, or a slow one, libzmq drops the update. Send returns once
// the socket's owner has it.
func publish(ctx context.Context, publisher *zchan.Socket[string], zipcodes int, out io.Writer) error {
	sent := 0
	defer func() { fmt.Fprintf(out, "Sent %d updates\n", sent) }()
	for {
		zipcode := rand.IntN(zipcodes)
		temperature := rand.IntN(215) - 80
		relhumidity := rand.IntN(50) + 10
		update := fmt.Sprintf("%05d %d %d", zipcode, temperature, relhumidity)
		if err := publisher.Send(ctx, update); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err // the socket ended under the loop: shutdown begins
		}
		sent++
	}
}
