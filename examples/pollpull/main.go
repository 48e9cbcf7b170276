// Command pollpull is the scenario of the poll/epoll note ("ZMQ inside a
// standard poll loop"): a PULL socket served in one loop next to other
// event sources, here a UDP socket, a timer and the shutdown signal.
//
// The note registers the socket's ZMQ_FD with poll() and, because the
// descriptor only signals an edge, drains the socket while ZMQ_EVENTS
// says POLLIN. With zchan, the socket's owner goroutine does that drain,
// and the loop is a plain select over channels: the PULL socket's In, the
// datagrams of a reader goroutine, a ticker and ctx.Done().
//
// By default the PULL socket connects to the guide's task ventilator, so
// it prints the tasks that taskvent sends. Send it datagrams with, for
// example, `echo hello | nc -u -w0 127.0.0.1 7000`; the datagram "quit"
// stops it.
//
// Usage:
//
//	go run ./examples/pollpull [-connect tcp://localhost:5557] [-udp 127.0.0.1:7000] [-tick 5s]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/zmqchan/zmqchan/shutdown"
	"github.com/zmqchan/zmqchan/zchan"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "pollpull:", err)
		os.Exit(1)
	}
}

// run serves until the datagram "quit", a signal or the end of ctx, and
// then returns nil.
func run(ctx context.Context, args []string, out io.Writer) (err error) {
	fs := flag.NewFlagSet("pollpull", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: pollpull [-connect ENDPOINT] [-udp ADDR] [-tick DURATION]")
		fmt.Fprintln(fs.Output(), "Serves a PULL socket, a UDP socket and a timer from one select loop.")
		fs.PrintDefaults()
	}
	connect := fs.String("connect", "tcp://localhost:5557", "endpoint the PULL socket connects to (taskvent's)")
	udpAddr := fs.String("udp", "127.0.0.1:7000", "UDP address to listen on (port 0 picks one)")
	tick := fs.Duration("tick", 5*time.Second, "time between two status lines")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *tick <= 0 {
		return fmt.Errorf("-tick must be positive")
	}

	ctx, stop := shutdown.NotifyContext(ctx)
	defer stop()
	zc, err := zchan.NewContext()
	if err != nil {
		return err
	}
	defer func() {
		tctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if terr := zc.Term(tctx); terr != nil && err == nil {
			err = terr
		}
	}()

	// Event source 1: the ZeroMQ socket.
	pull, err := zchan.OpenWith(ctx, zchan.Pull, zchan.String, zchan.WithContext(zc), zchan.WithConnect(*connect))
	if err != nil {
		return err
	}
	defer pull.Close()

	// Event source 2: a UDP socket, read by a goroutine that run owns:
	// closing the socket ends its read, and run waits for it.
	conn, err := net.ListenPacket("udp", *udpAddr)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	defer func() {
		conn.Close()
		wg.Wait()
	}()
	datagrams := make(chan string)
	wg.Go(func() { readDatagrams(ctx, conn, datagrams) })
	fmt.Fprintf(out, "listening: udp %s\n", conn.LocalAddr())

	// Event source 3: a timer.
	ticker := time.NewTicker(*tick)
	defer ticker.Stop()

	// The loop: one select instead of poll() over descriptors.
	tasks, dgrams := 0, 0
	for {
		select {
		case task, ok := <-pull.In():
			if !ok {
				return stopped(ctx, pull.Err())
			}
			tasks++
			fmt.Fprintf(out, "task: %s\n", task)
		case d, ok := <-datagrams:
			if !ok {
				return stopped(ctx, errors.New("udp socket closed"))
			}
			if d == "quit" {
				fmt.Fprintf(out, "quit: %d tasks, %d datagrams\n", tasks, dgrams)
				return nil
			}
			dgrams++
			fmt.Fprintf(out, "udp: %s\n", d)
		case <-ticker.C:
			fmt.Fprintf(out, "tick: %d tasks, %d datagrams\n", tasks, dgrams)
		case <-ctx.Done():
			fmt.Fprintf(out, "stopped: %d tasks, %d datagrams\n", tasks, dgrams)
			return nil
		}
	}
}

// readDatagrams sends each datagram, without its trailing newline, on ch
// until conn is closed or ctx ends, then closes ch.
func readDatagrams(ctx context.Context, conn net.PacketConn, ch chan<- string) {
	defer close(ch)
	buf := make([]byte, 64<<10)
	for {
		n, _, err := conn.ReadFrom(buf)
		if err != nil {
			return
		}
		select {
		case ch <- strings.TrimRight(string(buf[:n]), "\r\n"):
		case <-ctx.Done():
			return
		}
	}
}

// stopped tells a clean stop (Ctrl-C ended ctx, and a call waiting on it
// returned its cause) from a failure. The sockets themselves are closed by
// run's deferred Closes.
func stopped(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}
