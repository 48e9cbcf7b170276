// Command mtrelay is the guide's multithreaded relay (chapter 2, "Signaling
// Between Threads"): three goroutines pass a READY signal down a chain of
// PAIR sockets over inproc, step 1 to step 2 to the main goroutine.
//
// Usage:
//
//	go run ./examples/mtrelay [-timeout 10s]
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
		fmt.Fprintln(os.Stderr, "mtrelay:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) (err error) {
	fs := flag.NewFlagSet("mtrelay", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: mtrelay [-timeout DURATION]")
		fmt.Fprintln(fs.Output(), "Relays a READY signal through three goroutines over inproc PAIR sockets.")
		fs.PrintDefaults()
	}
	timeout := fs.Duration("timeout", 10*time.Second, "give up if the relay has not completed by then")
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

	// Bind the inproc socket before starting step 2.
	receiver, err := zchan.OpenWith(ctx, zchan.Pair, zchan.String, zchan.WithContext(zc), zchan.WithBind("inproc://step3"))
	if err != nil {
		return err
	}
	defer receiver.Close()

	// The steps run on their own goroutines; run waits for them and
	// returns their errors.
	st := &steps{}
	defer st.wait()
	st.goStep(func() error { return step2(ctx, zc, out, st) })

	// Wait for the signal.
	if _, err := recv(ctx, receiver); err != nil {
		cancel()
		return errors.Join(fmt.Errorf("step 3: %w", err), st.wait())
	}
	fmt.Fprintln(out, "Test successful!")
	return st.wait()
}

// steps runs the step goroutines and collects their errors.
type steps struct {
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs []error
}

func (s *steps) goStep(f func() error) {
	s.wg.Go(func() {
		if err := f(); err != nil {
			s.mu.Lock()
			s.errs = append(s.errs, err)
			s.mu.Unlock()
		}
	})
}

// wait waits for every step and returns their errors joined.
func (s *steps) wait() error {
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(s.errs...)
}

// step2 binds its receiver, starts step 1, waits for its signal and
// passes it on to step 3.
func step2(ctx context.Context, zc *zchan.Context, out io.Writer, st *steps) error {
	receiver, err := zchan.OpenWith(ctx, zchan.Pair, zchan.String, zchan.WithContext(zc), zchan.WithBind("inproc://step2"))
	if err != nil {
		return fmt.Errorf("step 2: %w", err)
	}
	defer receiver.Close()
	st.goStep(func() error { return step1(ctx, zc, out) })

	if _, err := recv(ctx, receiver); err != nil {
		return fmt.Errorf("step 2: %w", err)
	}
	if err := signalNext(ctx, zc, "inproc://step3", out, "Step 2 ready, signaling step 3"); err != nil {
		return fmt.Errorf("step 2: %w", err)
	}
	return nil
}

// step1 connects to step 2 and tells it it is ready.
func step1(ctx context.Context, zc *zchan.Context, out io.Writer) error {
	if err := signalNext(ctx, zc, "inproc://step2", out, "Step 1 ready, signaling step 2"); err != nil {
		return fmt.Errorf("step 1: %w", err)
	}
	return nil
}

// signalNext connects a PAIR to ep, prints msg and sends READY. Close
// returns once the message has been handed to libzmq (or the linger has
// passed).
func signalNext(ctx context.Context, zc *zchan.Context, ep string, out io.Writer, msg string) error {
	xmitter, err := zchan.OpenWith(ctx, zchan.Pair, zchan.String, zchan.WithContext(zc), zchan.WithConnect(ep))
	if err != nil {
		return err
	}
	defer xmitter.Close()
	fmt.Fprintln(out, msg)
	return xmitter.Send(ctx, "READY")
}

// recv waits for one message on s, or for ctx to end.
func recv(ctx context.Context, s *zchan.Socket[string]) (string, error) {
	select {
	case m, ok := <-s.In():
		if !ok {
			if ctx.Err() != nil {
				return "", context.Cause(ctx)
			}
			return "", s.Err()
		}
		return m, nil
	case <-ctx.Done():
		return "", context.Cause(ctx)
	}
}
