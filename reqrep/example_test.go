package reqrep_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/zmqchan/zmqchan/reqrep"
	"github.com/zmqchan/zmqchan/zchan"
)

// A request/reply service and its client: a ROUTER server with a handler,
// a DEALER client whose requests each carry a timeout, and a graceful
// shutdown whose counts add up.
func Example() {
	ctx := context.Background()
	upper := func(ctx context.Context, s string) (string, error) { return strings.ToUpper(s), nil }
	srv, err := reqrep.NewServer(ctx, zchan.String, zchan.String, upper, reqrep.WithBind("tcp://127.0.0.1:*"))
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := reqrep.NewClient(ctx, zchan.String, zchan.String, reqrep.WithConnect(srv.Endpoints()...))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, word := range []string{"hello", "world"} {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		reply, err := c.Request(rctx, word) // errors.Is(err, reqrep.ErrTimeout) when no reply in time
		cancel()
		fmt.Println(reply, err)
	}
	c.Close()
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx) // finish what is under way, send the replies, close
	st := srv.Stats()
	fmt.Printf("received %d, answered %d, undelivered %d\n", st.Received, st.Answered, srv.Undelivered())
	// Output:
	// HELLO <nil>
	// WORLD <nil>
	// received 2, answered 2, undelivered 0
}

// A REQ client with the guide's Lazy Pirate retries: each attempt waits
// 100ms, then the socket is closed, reopened and the request resent.
// Here nothing listens, so the error says how many attempts were made.
func ExampleWithRetries() {
	ctx := context.Background()
	c, err := reqrep.NewClient(ctx, zchan.String, zchan.String, reqrep.WithType(zchan.Req),
		reqrep.WithConnect("tcp://127.0.0.1:1"), reqrep.WithRetries(3, 100*time.Millisecond))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	_, err = c.Request(ctx, "anyone?")
	var ae *reqrep.AttemptsError
	fmt.Println(errors.Is(err, reqrep.ErrTimeout), errors.As(err, &ae) && ae.Attempts == 3)
	fmt.Println(err)
	// Output:
	// true true
	// reqrep: no reply in time after 3 attempts
}
