// Command relay4 is the four-step relay of the multithreading note
// ("Signaling Between Threads"): update, scale, convert and send run on
// four goroutines, each stage passing its work to the next over a pair of
// inproc PAIR sockets, so they share no memory and need no lock.
//
// The chain is a pipeline.Plan of four typed stages: update reads a
// temperature sensor (simulated), scale calibrates the reading, convert
// turns it into text, and send prints it. pipeline.Start opens the PAIR
// links, binding each before connecting to it as inproc requires, and
// starts one goroutine per stage; Shutdown sends an end-of-stream marker
// down the relay behind the last reading, as the note's steps pass their
// signal on before they exit. Ctrl-C, SIGTERM or -timeout closes the relay
// at once.
//
// Usage:
//
//	go run ./examples/relay4 [-n 5] [-scale 1.5]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/zmqchan/zmqchan/pipeline"
	"github.com/zmqchan/zmqchan/shutdown"
	"github.com/zmqchan/zmqchan/zchan"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "relay4:", err)
		os.Exit(1)
	}
}

// reading is what travels between update, scale and convert, as JSON.
type reading struct {
	Seq     int     `json:"seq"`
	Celsius float64 `json:"celsius"`
}

func run(ctx context.Context, args []string, out io.Writer) (err error) {
	fs := flag.NewFlagSet("relay4", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: relay4 [-n N] [-scale FACTOR] [-timeout DURATION]")
		fmt.Fprintln(fs.Output(), "Relays readings through update, scale, convert and send over inproc PAIR sockets.")
		fs.PrintDefaults()
	}
	n := fs.Int("n", 5, "number of readings")
	factor := fs.Float64("scale", 1.5, "calibration factor applied by the scale step")
	timeout := fs.Duration("timeout", 10*time.Second, "give up if the relay has not completed by then")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *n < 0 {
		return fmt.Errorf("-n must not be negative")
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

	// The four steps. Each runs on its own goroutine, one value at a time.
	update := func(_ context.Context, seq int) (reading, error) {
		return reading{Seq: seq, Celsius: 20 + float64(seq)}, nil
	}
	scale := func(_ context.Context, r reading) (reading, error) {
		r.Celsius *= *factor
		return r, nil
	}
	convert := func(_ context.Context, r reading) (string, error) {
		return fmt.Sprintf("reading %d: %.2f C = %.2f F", r.Seq, r.Celsius, r.Celsius*9/5+32), nil
	}
	send := func(_ context.Context, text string) (string, error) {
		fmt.Fprintln(out, text)
		return text, nil
	}
	updated := pipeline.Then(pipeline.From[int](), "update", update)
	scaled := pipeline.Then(updated, "scale", scale)
	converted := pipeline.Then(scaled, "convert", convert)
	plan := pipeline.Then(converted, "send", send)
	// ctx bounds the opening; WithLifetime ties the relay to it too, so
	// that Ctrl-C or the timeout closes the relay at once (Wait then
	// returns the cause), as a short program wants.
	relay, err := pipeline.Start(ctx, plan, pipeline.WithContext(zc), pipeline.WithLifetime(ctx))
	if err != nil {
		return err
	}
	defer relay.Close()

	// Trigger a reading n times, then shut the relay down: the end of
	// stream follows the last reading through every step. The trigger is
	// a goroutine of its own because Shutdown waits for Out to be read.
	var wg sync.WaitGroup
	defer wg.Wait()
	trigger := make(chan error, 1)
	wg.Go(func() {
		for seq := 1; seq <= *n; seq++ {
			if err := relay.Send(ctx, seq); err != nil {
				trigger <- err
				return
			}
		}
		trigger <- relay.Shutdown(ctx)
	})

	sent := 0
	for range relay.Out() {
		sent++
	}
	if err := errors.Join(<-trigger, relay.Wait()); err != nil {
		return err
	}
	fmt.Fprintf(out, "done: %d readings\n", sent)
	return nil
}
