package zchan_test

import (
	"context"
	"errors"
	"fmt"
	"time"

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
// reply to the last request. The context given to OpenWith bounds only
// the opening: the sockets live until they are closed, and closing the
// REP closes its In, which ends the server's loop.
func ExampleOpenWith() {
	type sum struct{ A, B, Total int }
	ctx := context.Background()
	codec := zchan.JSON[sum]()
	rep, err := zchan.OpenWith(ctx, zchan.Rep, codec, zchan.WithBind("inproc://example-sum"))
	if err != nil {
		fmt.Println(err)
		return
	}
	served := make(chan struct{})
	go func() { // the server: answers until its socket is closed
		defer close(served)
		for q := range rep.In() {
			q.Total = q.A + q.B
			if rep.Send(ctx, q) != nil {
				return
			}
		}
	}()
	defer func() {
		rep.Close()
		<-served
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

// Shutdown closes a socket gracefully, as net/http's Server.Shutdown does
// a server: Send refuses new messages, what is in hand is delivered, then
// the socket closes, all within the caller's deadline. Shut down upstream
// first: once the PUSH has handed everything Send accepted to libzmq, the
// PULL's Shutdown hands its consumer everything libzmq received, then
// closes In. Nothing is lost, and the counters say so.
func ExampleSocket_Shutdown() {
	ctx := context.Background()
	pull, err := zchan.OpenWith(ctx, zchan.Pull, zchan.String, zchan.WithBind("inproc://example-shutdown"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pull.Close()
	push, err := zchan.OpenWith(ctx, zchan.Push, zchan.String, zchan.WithConnect("inproc://example-shutdown"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer push.Close()

	// The consumer reads until In is closed.
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		for task := range pull.In() {
			fmt.Println(task)
		}
	}()
	for i := range 5 {
		if err := push.Send(ctx, fmt.Sprint("task ", i)); err != nil {
			fmt.Println(err)
			return
		}
	}

	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := push.Shutdown(sctx); err != nil {
		fmt.Println("push:", err) // the deadline passed; Undelivered counts what was left
	}
	if err := pull.Shutdown(sctx); err != nil {
		fmt.Println("pull:", err)
	}
	<-consumed
	fmt.Println("send after shutdown refused:", errors.Is(push.Send(ctx, "late"), zchan.ErrClosed))
	st := pull.Stats()
	fmt.Printf("received %d, handed to In %d, undelivered %d\n", st.Received, st.MsgsIn, st.Undelivered+push.Undelivered())
	// Output:
	// task 0
	// task 1
	// task 2
	// task 3
	// task 4
	// send after shutdown refused: true
	// received 5, handed to In 5, undelivered 0
}

// WithLifetime ties a socket to a context, for short programs and tests:
// when the context ends, the socket closes, and so does In, which ends a
// loop over it. A service closes its sockets in order instead (Shutdown,
// or a shutdown.Group), because a socket that ends on the signal ends
// before the sockets upstream of it have drained.
func ExampleWithLifetime() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pull, err := zchan.OpenWith(ctx, zchan.Pull, zchan.String,
		zchan.WithBind("inproc://example-lifetime"), zchan.WithLifetime(ctx))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pull.Close() // when the function returns another way
	push, err := zchan.OpenWith(ctx, zchan.Push, zchan.String, zchan.WithConnect("inproc://example-lifetime"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer push.Close()
	for _, word := range []string{"one", "two", "three"} {
		if err := push.Send(ctx, word); err != nil {
			fmt.Println(err)
			return
		}
	}

	n := 0
	for word := range pull.In() {
		fmt.Println(word)
		if n++; n == 3 {
			cancel() // as Ctrl-C would cancel a signal context
		}
	}
	err = pull.Err()
	fmt.Println("closed:", errors.Is(err, zchan.ErrClosed), "by the lifetime:", errors.Is(err, context.Canceled))
	// Output:
	// one
	// two
	// three
	// closed: true by the lifetime: true
}

// Sending from inside a select: the owner drains the channel given to
// SendFrom, taking a value only when it can send it, so the send is a case
// of the caller's select beside its context (and, in a broker, beside the
// sockets' In channels: examples/rrbroker). The channel is the caller's:
// closing it ends the stream; the library never closes it.
func ExampleSocket_SendFrom() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pull, err := zchan.OpenWith(ctx, zchan.Pull, zchan.String, zchan.WithBind("inproc://example-from"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pull.Close()
	push, err := zchan.OpenWith(ctx, zchan.Push, zchan.String, zchan.WithConnect("inproc://example-from"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer push.Close()

	out := make(chan string)
	if err := push.SendFrom(ctx, out); err != nil {
		fmt.Println(err)
		return
	}
	words := []string{"sent", "from a", "select"}
	for len(words) > 0 {
		select {
		case out <- words[0]:
			words = words[1:]
		case <-push.Done():
			fmt.Println(push.Err())
			return
		case <-ctx.Done():
			fmt.Println(context.Cause(ctx))
			return
		}
	}
	close(out)
	for range 3 {
		fmt.Println(<-pull.In())
	}
	// Output:
	// sent
	// from a
	// select
}

// Bind at run time to a port the kernel picks, and learn which.
func ExampleSocket_Bind() {
	ctx := context.Background()
	pull, err := zchan.Open(ctx, zchan.Pull)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pull.Close()
	ep, err := pull.Bind(ctx, "tcp://127.0.0.1:*")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ep == pull.Endpoints()[0], ep != "tcp://127.0.0.1:*")
	_, err = pull.Bind(ctx, "localhost:5555")
	fmt.Println(err)
	// Output:
	// true true
	// zchan: bind "localhost:5555": bad endpoint (endpoint needs a transport, e.g. tcp://localhost:5555)
}

// A sender that reuses its buffers: WithSent hands each message's frames
// back once libzmq has copied them, here into a free list the sender
// takes its next buffer from, so a steady stream makes no garbage.
func ExampleWithSent() {
	ctx := context.Background()
	free := make(chan []byte, 4)
	giveBack := func(frames [][]byte) {
		for _, f := range frames {
			select {
			case free <- f[:0]:
			default: // the list is full: the collector has it
			}
		}
	}
	pull, err := zchan.Open(ctx, zchan.Pull, zchan.WithBind("inproc://example-sent"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pull.Close()
	push, err := zchan.Open(ctx, zchan.Push, zchan.WithConnect("inproc://example-sent"), zchan.WithSent(giveBack))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer push.Close()

	for i := range 3 {
		var b []byte
		select {
		case b = <-free:
		default:
			b = make([]byte, 0, 64)
		}
		b = fmt.Appendf(b, "message %d", i)
		if err := push.Send(ctx, zchan.Msg{b}); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(string((<-pull.In())[0]))
	}
	// Output:
	// message 0
	// message 1
	// message 2
}
