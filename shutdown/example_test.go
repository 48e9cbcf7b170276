package shutdown_test

import (
	"context"
	"fmt"
	"os"

	"github.com/zmqchan/zmqchan/shutdown"
	"github.com/zmqchan/zmqchan/zchan"
)

// The idiomatic main: a signal context, a Group that owns the zmq context
// and begins shutting down when that context ends, sockets opened in it
// with the same context (it bounds only the opening) and added in the
// direction messages flow (sources first), the work started with Go, and
// Wait. In a real main the first Ctrl-C ends ctx and a second one kills
// the process; here the reader interrupts once it has its three messages,
// as Ctrl-C would.
func Example() {
	parent, interrupt := context.WithCancelCause(context.Background())
	defer interrupt(nil)
	ctx, stop := shutdown.NotifyContext(parent) // in main: context.Background()
	defer stop()

	g, err := shutdown.New(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	// The sockets outlive the signal: the group shuts them down in order.
	sink, err := zchan.OpenWith(ctx, zchan.Pull, zchan.String, zchan.WithContext(g.ZMQ()), zchan.WithBind("inproc://results"))
	if err != nil {
		g.Shutdown()
		g.Wait()
		fmt.Println(err)
		return
	}
	vent, err := zchan.OpenWith(ctx, zchan.Push, zchan.String, zchan.WithContext(g.ZMQ()), zchan.WithConnect("inproc://results"))
	if err != nil {
		sink.Close()
		g.Shutdown()
		g.Wait()
		fmt.Println(err)
		return
	}

	// Sources first: the source stops when shutdown begins, then vent
	// drains what it holds and closes, then sink hands on what it has
	// received and closes, then the reader returns.
	g.Go("source", func(ctx context.Context) error {
		for i := 0; i < 3; i++ {
			if err := vent.Send(ctx, fmt.Sprint("task ", i)); err != nil {
				return nil
			}
		}
		<-ctx.Done()
		return nil
	})
	g.Add(vent)
	g.Add(sink)
	g.Go("reader", func(context.Context) error {
		n := 0
		for m := range sink.In() {
			fmt.Println(m)
			if n++; n == 3 {
				interrupt(&shutdown.SignalError{Signal: os.Interrupt})
			}
		}
		return nil
	})

	rep, err := g.Wait()
	fmt.Println("cause:", rep.Cause)
	fmt.Println("undelivered:", rep.TotalUndelivered())
	fmt.Println("lost in transit:", rep.TotalLost()) // non-zero also makes err wrap ErrLostInTransit
	fmt.Println("error:", err)
	// main would now exit: 130 after SIGINT (128+2), 1 if err != nil.

	// Output:
	// task 0
	// task 1
	// task 2
	// cause: shutdown: signal interrupt
	// undelivered: 0
	// lost in transit: 0
	// error: <nil>
}
