// Command lpserver is the guide's Lazy Pirate server (chapter 4, "Client-Side
// Reliability"): a reqrep.Server bound to tcp://*:5555 that echoes every
// request, and now and then misbehaves so that lpclient has something to
// recover from: every -overload-every'th request is answered only after
// -overload (longer than the client's timeout), and after -crash-after
// requests the server exits with an error, as if it had crashed. (The
// guide's server picks both at random; here they are flags, so that a test
// can count on them.) Replies to requests the client gave up on go to a
// socket that is gone: they are counted as unroutable, and printed at exit.
//
// It runs until it crashes, or until Ctrl-C or SIGTERM; it then shuts down
// gracefully and prints what it did. Run it with lpclient.
//
//	go run ./examples/lpserver
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/zmqchan/zmqchan/reqrep"
	"github.com/zmqchan/zmqchan/shutdown"
	"github.com/zmqchan/zmqchan/zchan"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "lpserver:", err)
		os.Exit(1)
	}
}

// errCrash is the simulated crash.
var errCrash = errors.New("simulating a crash")

func run(ctx context.Context, args []string, out io.Writer) (err error) {
	fs := flag.NewFlagSet("lpserver", flag.ContinueOnError)
	bind := fs.String("bind", "tcp://*:5555", "endpoint to bind to")
	overloadEvery := fs.Int("overload-every", 4, "answer every n'th request late (0: never)")
	overload := fs.Duration("overload", 2*time.Second, "how late an overloaded answer is")
	crashAfter := fs.Int("crash-after", 0, "exit with an error after this many requests (0: never)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: lpserver [-bind endpoint] [-overload-every n] [-overload d] [-crash-after n]")
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
	crashed, crash := context.WithCancelCause(ctx)
	defer crash(nil)

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

	var cycles atomic.Int64
	echo := func(ctx context.Context, request string) (string, error) {
		n := cycles.Add(1)
		if *crashAfter > 0 && n > int64(*crashAfter) {
			fmt.Fprintf(out, "I: %v\n", errCrash)
			crash(errCrash)
			<-ctx.Done()
			return "", context.Cause(ctx)
		}
		if *overloadEvery > 0 && n%int64(*overloadEvery) == 0 {
			fmt.Fprintf(out, "I: simulating CPU overload (%s)\n", request)
			t := time.NewTimer(*overload)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
				return "", context.Cause(ctx)
			}
		}
		fmt.Fprintf(out, "I: normal request (%s)\n", request)
		return request, nil
	}
	// A ROUTER server (the guide's is a REP): an overloaded request does not
	// hold up the retry of the client that gave up on it.
	srv, err := reqrep.NewServer(ctx, zchan.String, zchan.String, echo,
		reqrep.WithBind(*bind), reqrep.WithSocketOptions(zchan.WithContext(zc)))
	if err != nil {
		return err
	}
	defer func() {
		st := srv.Stats()
		fmt.Fprintf(out, "I: received %d, answered %d, abandoned %d, unread %d, unroutable %d\n",
			st.Received, st.Answered, st.Abandoned, st.Unread, st.Unroutable)
	}()
	<-crashed.Done()
	if cause := context.Cause(crashed); errors.Is(cause, errCrash) {
		srv.Close() // a crash does not drain
		return cause
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
