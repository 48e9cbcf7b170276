package zmqchan_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/zmqchan/zmqchan/zchan"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestPushPullInproc sends numbered messages through a PUSH/PULL pair and
// checks that each arrives once, in order.
func TestPushPullInproc(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	zc, err := zchan.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := zc.Term(ctx); err != nil {
			t.Error(err)
		}
	}()
	pull, err := zchan.OpenWith(ctx, zchan.Pull, zchan.JSON[int](), zchan.WithContext(zc), zchan.WithBind("inproc://e2e"))
	if err != nil {
		t.Fatal(err)
	}
	defer pull.Close()
	push, err := zchan.OpenWith(ctx, zchan.Push, zchan.JSON[int](), zchan.WithContext(zc), zchan.WithConnect("inproc://e2e"))
	if err != nil {
		t.Fatal(err)
	}
	defer push.Close()
	const n = 10000
	errc := make(chan error, 1)
	go func() {
		for i := 0; i < n; i++ {
			if err := push.Send(ctx, i); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for i := 0; i < n; i++ {
		select {
		case v := <-pull.In():
			if v != i {
				t.Fatalf("got %d, want %d", v, i)
			}
		case <-ctx.Done():
			t.Fatalf("timed out at %d", i)
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

type task struct{ ID, N int }

type result struct{ ID, Square, Worker int }

// TestPipeline runs a ventilator, three workers and a sink through the
// public API only, with typed JSON messages, over inproc and over tcp. The
// ventilator PUSHes tasks, each worker PULLs tasks and PUSHes results, the
// sink PULLs them. Every task must come back exactly once, correctly
// computed; cancelling the workers' context ends their sockets (opened
// WithLifetime(wctx)) and, through the closed In channels, their goroutines.
func TestPipeline(t *testing.T) {
	const tasks, workers = 1000, 3
	for _, tr := range []struct{ name, vent, sink string }{
		{"inproc", "inproc://pipeline-vent", "inproc://pipeline-sink"},
		{"tcp", "tcp://127.0.0.1:*", "tcp://127.0.0.1:*"},
	} {
		t.Run(tr.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			zc, err := zchan.NewContext()
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := zc.Term(ctx); err != nil {
					t.Error(err)
				}
			}()
			sink, err := zchan.OpenWith(ctx, zchan.Pull, zchan.JSON[result](), zchan.WithContext(zc), zchan.WithBind(tr.sink))
			if err != nil {
				t.Fatal(err)
			}
			defer sink.Close()
			vent, err := zchan.OpenWith(ctx, zchan.Push, zchan.JSON[task](), zchan.WithContext(zc), zchan.WithBind(tr.vent))
			if err != nil {
				t.Fatal(err)
			}
			defer vent.Close()

			wctx, stopWorkers := context.WithCancel(ctx)
			var wg sync.WaitGroup
			defer func() { stopWorkers(); wg.Wait() }()
			for w := range workers {
				in, err := zchan.OpenWith(ctx, zchan.Pull, zchan.JSON[task](), zchan.WithContext(zc), zchan.WithConnect(vent.Endpoints()[0]), zchan.WithLifetime(wctx))
				if err != nil {
					t.Fatal(err)
				}
				out, err := zchan.OpenWith(ctx, zchan.Push, zchan.JSON[result](), zchan.WithContext(zc), zchan.WithConnect(sink.Endpoints()[0]), zchan.WithLifetime(wctx))
				if err != nil {
					in.Close()
					t.Fatal(err)
				}
				wg.Go(func() {
					defer out.Close()
					defer in.Close()
					for tk := range in.In() { // closed when wctx ends
						if out.Send(wctx, result{ID: tk.ID, Square: tk.N * tk.N, Worker: w}) != nil {
							return
						}
					}
				})
			}

			errc := make(chan error, 1)
			go func() {
				for i := range tasks {
					if err := vent.Send(ctx, task{ID: i, N: i - tasks/2}); err != nil {
						errc <- err
						return
					}
				}
				errc <- nil
			}()
			seen := make(map[int]bool, tasks)
			perWorker := make([]int, workers)
			for range tasks {
				select {
				case r := <-sink.In():
					if seen[r.ID] {
						t.Fatalf("task %d came back twice", r.ID)
					}
					if n := r.ID - tasks/2; r.ID < 0 || r.ID >= tasks || r.Square != n*n {
						t.Fatalf("bad result %+v", r)
					}
					seen[r.ID] = true
					perWorker[r.Worker]++
				case <-ctx.Done():
					t.Fatalf("%d of %d results before the deadline", len(seen), tasks)
				}
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			t.Logf("%d tasks, results per worker %v", tasks, perWorker)
		})
	}
}
