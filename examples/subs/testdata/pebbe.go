// The same program as subs, written with raw pebbe/zmq4 and its Poller, to
// compare the two (it is not built with the module: copy it to a main
// package to run it). The Poller has no channel to select on, so the timer
// is the poll's timeout, and a signal is seen between polls only (pebbe
// retries the poll after EINTR), hence the 100ms cap on each poll.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	zmq "github.com/pebbe/zmq4"
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
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	zc, err := zmq.NewContext()
	if err != nil {
		return err
	}
	defer func() { // no bound: pebbe's Term blocks until every socket is closed
		if terr := zc.Term(); terr != nil && err == nil {
			err = terr
		}
	}()

	poller := zmq.NewPoller()
	var subs []*zmq.Socket
	var names []string
	counts := make([]int, *n)
	for i := range *n {
		zip := fmt.Sprintf("%05d", i)
		s, err := zc.NewSocket(zmq.SUB)
		if err != nil {
			return err
		}
		defer s.Close()
		if err := s.SetLinger(time.Second); err != nil {
			return err
		}
		if err := s.SetSubscribe(zip + " "); err != nil {
			return err
		}
		if err := s.Connect(*connect); err != nil {
			return err
		}
		subs, names = append(subs, s), append(names, zip)
		poller.Add(s, zmq.POLLIN)
	}
	report := func(what string) {
		var b strings.Builder
		for i := range subs {
			fmt.Fprintf(&b, " %s=%d", names[i], counts[i])
		}
		fmt.Fprintf(out, "%s:%s\n", what, b.String())
	}
	next := time.Now().Add(*every)
	for short := *n; *updates == 0 || short > 0; { // short: sockets below -updates
		// The poll's timeout is the timer; a signal interrupts the poll
		// (EINTR) or is seen at the next timeout, but not sooner.
		wait := min(time.Until(next), 100*time.Millisecond)
		polled, err := poller.Poll(max(wait, 0))
		if err != nil && zmq.AsErrno(err) != zmq.Errno(syscall.EINTR) {
			return err
		}
		for _, p := range polled {
			for i, s := range subs {
				if p.Socket != s {
					continue
				}
				for { // drain: the poll is level-triggered but one recv per poll is slow
					if _, err := s.Recv(zmq.DONTWAIT); err != nil {
						if zmq.AsErrno(err) == zmq.Errno(syscall.EAGAIN) {
							break
						}
						return fmt.Errorf("socket %s: %w", names[i], err)
					}
					if counts[i]++; counts[i] == *updates {
						short--
					}
				}
			}
		}
		if !time.Now().Before(next) {
			report("updates")
			next = next.Add(*every)
		}
		if ctx.Err() != nil {
			report("interrupted")
			return nil
		}
	}
	report("done")
	return nil
}
