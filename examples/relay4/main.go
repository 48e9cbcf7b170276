// Command relay4 is the four-step relay of the multithreading note
// ("Signaling Between Threads"): update, scale, convert and send run on
// four goroutines, each stage passing its work to the next over an inproc
// PAIR socket, so they share no memory and need no lock.
//
// The messages are typed: a Go struct carried as JSON by zchan's codec.
// update makes temperature readings, scale calibrates them, convert turns
// them into text, and send prints it. A reading with Last set ends the
// stream, and each stage passes it on before it returns.
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

	"github.com/zmqchan/zmqchan/shutdown"
	"github.com/zmqchan/zmqchan/zchan"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "relay4:", err)
		os.Exit(1)
	}
}

// reading is what travels down the relay.
type reading struct {
	Seq     int     `json:"seq"`
	Celsius float64 `json:"celsius"`
	Text    string  `json:"text,omitempty"` // set by convert
	Last    bool    `json:"last,omitempty"` // ends the stream; carries no reading
}

// The links between the steps, as in the note: each step binds the link
// to the next one.
const (
	toScale   = "inproc://b1"
	toConvert = "inproc://b2"
	toSend    = "inproc://b3"
)

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

	// One goroutine per step. The first step to fail cancels the others,
	// and run returns every step's error.
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	step := func(name string, f func(context.Context) error) {
		wg.Go(func() {
			if err := f(ctx); err != nil {
				cancel()
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
				mu.Unlock()
			}
		})
	}
	step("update", func(ctx context.Context) error { return update(ctx, zc, *n) })
	step("scale", func(ctx context.Context) error {
		return relay(ctx, zc, toScale, toConvert, func(r reading) reading {
			r.Celsius *= *factor
			return r
		})
	})
	step("convert", func(ctx context.Context) error {
		return relay(ctx, zc, toConvert, toSend, func(r reading) reading {
			r.Text = fmt.Sprintf("reading %d: %.2f C = %.2f F", r.Seq, r.Celsius, r.Celsius*9/5+32)
			return r
		})
	})
	step("send", func(ctx context.Context) error { return send(ctx, zc, out) })
	wg.Wait()
	return errors.Join(errs...)
}

// open opens a PAIR socket of readings in zc.
func open(ctx context.Context, zc *zchan.Context, opt zchan.Option) (*zchan.Socket[reading], error) {
	return zchan.OpenWith(ctx, zchan.Pair, zchan.JSON[reading](), zchan.WithContext(zc), opt)
}

// update is the first step: it makes n readings and the end marker.
func update(ctx context.Context, zc *zchan.Context, n int) error {
	next, err := open(ctx, zc, zchan.WithBind(toScale))
	if err != nil {
		return err
	}
	defer next.Close()
	for i := 1; i <= n; i++ {
		if err := next.Send(ctx, reading{Seq: i, Celsius: 20 + float64(i)}); err != nil {
			return err
		}
	}
	return next.Send(ctx, reading{Last: true})
}

// relay is a middle step: it applies f to each reading from inEP and
// passes it to outEP, and passes the end marker on.
func relay(ctx context.Context, zc *zchan.Context, inEP, outEP string, f func(reading) reading) error {
	prev, err := open(ctx, zc, zchan.WithConnect(inEP))
	if err != nil {
		return err
	}
	defer prev.Close()
	next, err := open(ctx, zc, zchan.WithBind(outEP))
	if err != nil {
		return err
	}
	defer next.Close()
	for {
		r, err := recv(ctx, prev)
		if err != nil {
			return err
		}
		if !r.Last {
			r = f(r)
		}
		if err := next.Send(ctx, r); err != nil {
			return err
		}
		if r.Last {
			return nil
		}
	}
}

// send is the last step: it prints each reading's text.
func send(ctx context.Context, zc *zchan.Context, out io.Writer) error {
	prev, err := open(ctx, zc, zchan.WithConnect(toSend))
	if err != nil {
		return err
	}
	defer prev.Close()
	for n := 0; ; n++ {
		r, err := recv(ctx, prev)
		if err != nil {
			return err
		}
		if r.Last {
			fmt.Fprintf(out, "done: %d readings\n", n)
			return nil
		}
		fmt.Fprintln(out, r.Text)
	}
}

// recv waits for the next reading on s.
func recv(ctx context.Context, s *zchan.Socket[reading]) (reading, error) {
	select {
	case r, ok := <-s.In():
		if !ok {
			if ctx.Err() != nil {
				return reading{}, context.Cause(ctx)
			}
			return reading{}, s.Err()
		}
		return r, nil
	case <-ctx.Done():
		return reading{}, context.Cause(ctx)
	}
}
