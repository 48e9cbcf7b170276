// Command pool runs a small worker pool in one process: a ventilator PUSHes
// tasks to workers over inproc, the workers PUSH results to a sink, and the
// sink PUBlishes KILL when the batch is done.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/zmqchan/zmqchan/zchan"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "pool:", err)
		os.Exit(1)
	}
}

func run() error {
	tasks := flag.Int("tasks", 100000, "number of tasks")
	workers := flag.Int("workers", 4, "number of workers")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	zc, err := zchan.NewContext()
	if err != nil {
		return err
	}
	defer zc.Term(context.Background())

	sink, err := zchan.OpenWith(ctx, zchan.Pull, zchan.String, zchan.WithContext(zc), zchan.WithBind("inproc://sink"))
	if err != nil {
		return err
	}
	defer sink.Close()
	kill, err := zchan.OpenWith(ctx, zchan.Pub, zchan.String, zchan.WithContext(zc), zchan.WithBind("inproc://kill"))
	if err != nil {
		return err
	}
	defer kill.Close()
	vent, err := zchan.OpenWith(ctx, zchan.Push, zchan.String, zchan.WithContext(zc), zchan.WithBind("inproc://tasks"))
	if err != nil {
		return err
	}
	defer vent.Close()

	var wg sync.WaitGroup
	for i := 0; i < *workers; i++ {
		in, err := zchan.OpenWith(ctx, zchan.Pull, zchan.String, zchan.WithContext(zc), zchan.WithConnect("inproc://tasks"))
		if err != nil {
			return err
		}
		out, err := zchan.OpenWith(ctx, zchan.Push, zchan.String, zchan.WithContext(zc), zchan.WithConnect("inproc://sink"))
		if err != nil {
			return err
		}
		ctl, err := zchan.OpenWith(ctx, zchan.Sub, zchan.String, zchan.WithContext(zc), zchan.WithConnect("inproc://kill"), zchan.WithSubscribe(""))
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer in.Close()
			defer out.Close()
			defer ctl.Close()
			for {
				select {
				case t, ok := <-in.In():
					if !ok {
						return
					}
					n, _ := strconv.Atoi(t)
					if out.Send(ctx, strconv.Itoa(n*2)) != nil {
						return
					}
				case <-ctl.In():
					return
				case <-ctx.Done():
					return
				}
			}
		}()
	}

	start := time.Now()
	go func() {
		for i := 0; i < *tasks; i++ {
			if vent.Send(ctx, strconv.Itoa(i)) != nil {
				return
			}
		}
	}()
	got := 0
	for got < *tasks {
		select {
		case _, ok := <-sink.In():
			if !ok {
				return sink.Err()
			}
			got++
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	el := time.Since(start)
	_ = kill.Send(ctx, "KILL")
	wg.Wait()
	fmt.Printf("tasks %d, workers %d, elapsed %v, %.0f tasks/s\n", got, *workers, el.Round(time.Millisecond), float64(got)/el.Seconds())
	return nil
}
