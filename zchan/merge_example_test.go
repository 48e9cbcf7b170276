package zchan_test

import (
	"context"
	"fmt"

	"github.com/zmqchan/zmqchan/zchan"
)

// One loop serves a set of sockets that changes at run time: each event
// names the socket it came from, and the end of a socket arrives once,
// after its last value, on the same channel.
func ExampleMerge() {
	ctx := context.Background()
	m := zchan.NewMerge[string]()
	defer m.Close()
	var pulls, pushes []*zchan.Socket[string]
	for _, name := range []string{"north", "south"} {
		ep := "inproc://example-merge-" + name
		pull, err := zchan.OpenWith(ctx, zchan.Pull, zchan.String, zchan.WithBind(ep), zchan.WithName(name))
		if err != nil {
			fmt.Println(err)
			return
		}
		defer pull.Close()
		push, err := zchan.OpenWith(ctx, zchan.Push, zchan.String, zchan.WithConnect(ep))
		if err != nil {
			fmt.Println(err)
			return
		}
		defer push.Close()
		pulls, pushes = append(pulls, pull), append(pushes, push)
		if err := m.Add(pull); err != nil {
			fmt.Println(err)
			return
		}
	}
	show := func() {
		ev, err := m.Recv(ctx)
		switch {
		case err != nil:
			fmt.Println(err)
		case ev.Ended:
			fmt.Printf("%s ended: %v\n", ev.Socket.Name(), ev.Err)
		default:
			fmt.Printf("%s: %s\n", ev.Socket.Name(), ev.Value)
		}
	}
	pushes[0].Send(ctx, "cold")
	show()
	pushes[1].Send(ctx, "warm")
	show()
	pulls[0].Close() // north ends: its end is reported once
	show()
	m.Remove(pulls[1]) // south stays open, out of the merge
	fmt.Println(m.Len(), "sockets left")
	// Output:
	// north: cold
	// south: warm
	// north ended: zchan: socket closed
	// 0 sockets left
}
