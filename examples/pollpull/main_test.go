package main

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/examples/internal/exampletest"
	"github.com/zmqchan/zmqchan/zchan"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

// TestPollPull feeds the loop from all its sources: tasks from a PUSH
// socket (taskvent's role), datagrams, the timer, and finally "quit".
func TestPollPull(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	push, err := zchan.OpenWith(ctx, zchan.Push, zchan.String, zchan.WithBind("tcp://127.0.0.1:*"))
	if err != nil {
		t.Fatal(err)
	}
	defer push.Close()

	var out exampletest.Output
	tk := exampletest.Go(t, "pollpull", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-connect", push.Endpoints()[0], "-udp", "127.0.0.1:0", "-tick", "5ms"}, &out)
	})
	addr := strings.TrimPrefix(out.WaitFor(t, "listening: udp ", 10*time.Second), "listening: udp ")

	for i := range 3 {
		if err := push.Send(ctx, strconv.Itoa(10*(i+1))); err != nil {
			t.Fatal(err)
		}
	}
	out.WaitFor(t, "task: 30", 10*time.Second)

	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	out.WaitFor(t, "udp: hello", 10*time.Second)
	out.WaitFor(t, "tick: 3 tasks, 1 datagrams", 10*time.Second)
	if _, err := conn.Write([]byte("quit")); err != nil {
		t.Fatal(err)
	}
	if err := tk.Wait(t); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	out.WaitFor(t, "quit: 3 tasks, 1 datagrams", time.Second)
	if got := out.Count("task: "); got != 3 {
		t.Errorf("%d task lines, want 3:\n%s", got, out.String())
	}
}

// TestPollPullStop stops the loop as Ctrl-C would.
func TestPollPullStop(t *testing.T) {
	var out exampletest.Output
	tk := exampletest.Go(t, "pollpull", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-connect", exampletest.TCP(t), "-udp", "127.0.0.1:0"}, &out)
	})
	out.WaitFor(t, "listening: udp ", 10*time.Second)
	tk.Stop()
	if err := tk.Wait(t); err != nil {
		t.Fatalf("run: %v", err)
	}
	out.WaitFor(t, "stopped: 0 tasks, 0 datagrams", time.Second)
}
