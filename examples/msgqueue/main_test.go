package main

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/examples/internal/exampletest"
	"github.com/zmqchan/zmqchan/zchan"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

// TestRouting runs msgqueue between three concurrent REQ clients and two
// REP workers, all written in the test, and checks that every client gets
// the answer to its own request.
func TestRouting(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	frontend, backend := exampletest.TCP(t), exampletest.TCP(t)
	var out exampletest.Output
	queue := exampletest.Go(t, "msgqueue", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-frontend", frontend, "-backend", backend}, &out)
	})

	// Workers answer "<request> from worker N".
	workerCtx, stopWorkers := context.WithCancel(ctx)
	var workers sync.WaitGroup
	for w := range 2 {
		// WithLifetime: stopWorkers ends the socket, and so the loop below
		// (Open's context bounds only the opening).
		rep, err := zchan.OpenWith(workerCtx, zchan.Rep, zchan.String, zchan.WithConnect(backend), zchan.WithLifetime(workerCtx))
		if err != nil {
			t.Fatal(err)
		}
		workers.Add(1)
		go func() {
			defer workers.Done()
			defer rep.Close()
			for req := range rep.In() {
				if rep.Send(workerCtx, fmt.Sprintf("%s from worker %d", req, w)) != nil {
					return
				}
			}
		}()
	}
	defer func() { stopWorkers(); workers.Wait() }()

	const clients, requests = 3, 5
	errs := make(chan error, clients)
	for c := range clients {
		req, err := zchan.OpenWith(ctx, zchan.Req, zchan.String, zchan.WithConnect(frontend))
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			defer req.Close()
			for i := range requests {
				want := fmt.Sprintf("client %d request %d", c, i)
				if err := req.Send(ctx, want); err != nil {
					errs <- err
					return
				}
				select {
				case reply := <-req.In():
					var w int
					if _, err := fmt.Sscanf(reply, want+" from worker %d", &w); err != nil {
						errs <- fmt.Errorf("client %d: reply %q to %q", c, reply, want)
						return
					}
				case <-ctx.Done():
					errs <- fmt.Errorf("client %d: no reply to %q", c, want)
					return
				}
			}
			errs <- nil
		}()
	}
	for range clients {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}

	queue.Stop()
	if err := queue.Wait(t); err != nil {
		t.Errorf("msgqueue after interrupt: %v", err)
	}
	out.WaitFor(t, fmt.Sprintf("Forwarded %d messages", 2*clients*requests), time.Second)
}
