package zchan_test

import (
	"context"
	"fmt"

	"github.com/zmqchan/zmqchan/zchan"
)

// A PUSH socket and a PULL socket over inproc, carrying strings: Send
// blocks only while ZeroMQ's high-water mark is reached, In delivers in
// order, and Close flushes, closes the socket and closes In.
func ExampleSocket_In() {
	ctx := context.Background()
	pull, err := zchan.OpenWith(ctx, zchan.Pull, zchan.String, zchan.WithBind("inproc://example-in"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pull.Close()
	push, err := zchan.OpenWith(ctx, zchan.Push, zchan.String, zchan.WithConnect("inproc://example-in"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer push.Close()

	for _, word := range []string{"hello", "from", "zchan"} {
		if err := push.Send(ctx, word); err != nil {
			fmt.Println(err)
			return
		}
	}
	for range 3 {
		fmt.Println(<-pull.In())
	}
	// Output:
	// hello
	// from
	// zchan
}

// A REQ client and a REP server over inproc with a JSON codec. The REQ
// owner keeps the request/reply alternation: the next Send waits for the
// reply to the last request.
func ExampleOpenWith() {
	type sum struct{ A, B, Total int }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	codec := zchan.JSON[sum]()
	rep, err := zchan.OpenWith(ctx, zchan.Rep, codec, zchan.WithBind("inproc://example-sum"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rep.Close()
	go func() { // the server: answers until its socket ends
		for q := range rep.In() {
			q.Total = q.A + q.B
			if rep.Send(ctx, q) != nil {
				return
			}
		}
	}()
	req, err := zchan.OpenWith(ctx, zchan.Req, codec, zchan.WithConnect("inproc://example-sum"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer req.Close()
	for i := 1; i <= 3; i++ {
		if err := req.Send(ctx, sum{A: i, B: 10 * i}); err != nil {
			fmt.Println(err)
			return
		}
		r := <-req.In()
		fmt.Printf("%d + %d = %d\n", r.A, r.B, r.Total)
	}
	// Output:
	// 1 + 10 = 11
	// 2 + 20 = 22
	// 3 + 30 = 33
}
