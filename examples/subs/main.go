// Command subs serves N SUB sockets from one loop, N from the command
// line, beside a timer and Ctrl-C: socket i subscribes to zipcode i of the
// guide's weather server (wuserver), and every -every the loop prints how
// many updates each socket has had. It is the shape of a program whose
// number of sockets is not known at compile time: a zchan.Merge delivers
// every socket's messages, each with the socket it came from, on one
// channel that the loop selects on with its timer and its context.
//
// It exits 0 once every socket has had -updates updates, or on Ctrl-C or SIGTERM
// (printing the totals either way); a socket that ends first is an error.
//
//	go run ./examples/wuserver -zipcodes 3 &
//	go run ./examples/subs -n 3
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/zmqchan/zmqchan/shutdown"
	"github.com/zmqchan/zmqchan/zchan"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "subs:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) (err error) {
	fs := flag.NewFlagSet("subs", flag.ContinueOnError)
	connect := fs.String("connect", "tcp://localhost:5556", "endpoint of the weather server")
	n := fs.Int("n", 3, "number of SUB sockets; socket i subscribes to zipcode i")
	every := fs.Duration("every", time.Second, "how often to print the counts")
	updates := fs.Int("updates", 0, "stop once every socket has had this many updates (0: run until interrupted)")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil
		}
		return err
	}
	if *n < 1 || *every <= 0 || *updates < 0 {
		return fmt.Errorf("want -n >= 1, -every > 0 and -updates >= 0")
	}
	ctx, stop := shutdown.NotifyContext(ctx)
	defer stop()
	zc, err := zchan.NewContext()
	if err != nil {
		return err
	}
	defer func() { // runs after the sockets' Closes, deferred below
		tctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if terr := zc.Term(tctx); terr != nil && err == nil {
			err = terr
		}
	}()

	m := zchan.NewMerge[string]()
	defer m.Close()
	counts := map[*zchan.Socket[string]]int{}
	var subs []*zchan.Socket[string]
	for i := range *n {
		zip := fmt.Sprintf("%05d", i)
		s, err := zchan.OpenWith(ctx, zchan.Sub, zchan.String, zchan.WithContext(zc),
			zchan.WithName(zip), zchan.WithSubscribe(zip+" "), zchan.WithConnect(*connect))
		if err != nil {
			return err
		}
		defer s.Close()
		subs = append(subs, s)
		counts[s] = 0
		if err := m.Add(s); err != nil {
			return err
		}
	}
	report := func(what string) {
		var b strings.Builder
		for _, s := range subs {
			fmt.Fprintf(&b, " %s=%d", s.Name(), counts[s])
		}
		fmt.Fprintf(out, "%s:%s\n", what, b.String())
	}
	tick := time.NewTicker(*every)
	defer tick.Stop()
	for short := *n; *updates == 0 || short > 0; { // short: sockets below -updates
		select {
		case ev := <-m.Events():
			if ev.Ended {
				return fmt.Errorf("socket %s: %w", ev.Socket.Name(), ev.Err)
			}
			if counts[ev.Socket]++; counts[ev.Socket] == *updates {
				short--
			}
		case <-tick.C:
			report("updates")
		case <-ctx.Done():
			report("interrupted")
			return nil
		}
	}
	report("done")
	return nil
}
