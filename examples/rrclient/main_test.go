package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/examples/internal/exampletest"
	"github.com/zmqchan/zmqchan/zchan"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

// TestAgainstROUTER plays the broker's frontend: it checks the envelope of
// each request as a ROUTER sees it and routes the reply back.
func TestAgainstROUTER(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ep := exampletest.TCP(t)
	router, err := zchan.Open(ctx, zchan.Router, zchan.WithBind(ep))
	if err != nil {
		t.Fatal(err)
	}
	defer router.Close()
	served := make(chan error, 1)
	go func() {
		for range 3 {
			select {
			case m := <-router.In():
				if len(m) != 3 || len(m[1]) != 0 || string(m[2]) != "Hello" {
					served <- fmt.Errorf("request %q, want [identity, \"\", \"Hello\"]", m)
					return
				}
				if err := router.Send(ctx, zchan.Msg{m[0], nil, []byte("World")}); err != nil {
					served <- err
					return
				}
			case <-ctx.Done():
				served <- ctx.Err()
				return
			}
		}
		served <- nil
	}()

	var out exampletest.Output
	err = exampletest.Go(t, "rrclient", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-connect", ep, "-n", "3"}, &out)
	}).Wait(t)
	if err != nil {
		t.Fatalf("rrclient: %v", err)
	}
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	want := []string{"Received reply 0 [World]", "Received reply 1 [World]", "Received reply 2 [World]"}
	if got := out.Lines(); !slices.Equal(got, want) {
		t.Errorf("output:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
