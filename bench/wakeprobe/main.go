// Command wakeprobe measures what one wake-up costs a goroutine when the
// waker is a thread outside the Go runtime, as libzmq's I/O thread is for
// every zchan owner on ipc and tcp. A C thread blocked in poll(2) and a
// goroutine signal each other over two eventfds; the goroutine waits
// either through Go's netpoller (as a zchan owner does, and every Go
// network connection) or blocked in poll(2) on its own thread (as raw
// pebbe/zmq4's blocking calls do, inside libzmq). Rounds alternate the
// two, and the ratio is taken within each round.
//
//	go run ./wakeprobe [-n 20000] [-rounds 5]
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	n := flag.Int("n", 20000, "ping-pongs per mode and round")
	rounds := flag.Int("rounds", 5, "rounds; the modes alternate within each")
	flag.Parse()
	if err := run(*n, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "wakeprobe:", err)
		os.Exit(1)
	}
}

func run(n, rounds int) error {
	if n < 1 || rounds < 1 {
		return errors.New("-n and -rounds must be positive")
	}
	fmt.Printf("wakeprobe: %d ping-pongs with a C thread blocked in poll(2), per mode and round (µs: median / p99)\n", n)
	for r := range rounds {
		np, err := pingPong(n, true)
		if err != nil {
			return err
		}
		pl, err := pingPong(n, false)
		if err != nil {
			return err
		}
		fmt.Printf("round %d: netpoller %s   poll(2) %s   median ratio %.2f\n",
			r+1, np, pl, float64(np.median)/float64(pl.median))
	}
	return nil
}

type dist struct{ median, p99 time.Duration }

func (d dist) String() string {
	return fmt.Sprintf("%6.1f / %6.1f", float64(d.median)/1e3, float64(d.p99)/1e3)
}

// pingPong runs n exchanges with a fresh peer thread; the goroutine waits
// through the netpoller when netpoll is set, else in poll(2).
func pingPong(n int, netpoll bool) (dist, error) {
	ping, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return dist{}, err
	}
	pongFD, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(ping)
		return dist{}, err
	}
	pong := os.NewFile(uintptr(pongFD), "pong") // registers with the netpoller
	p, err := startPeer(ping, pongFD)
	if err != nil {
		unix.Close(ping)
		pong.Close()
		return dist{}, err
	}
	defer func() {
		stop := []byte{0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
		_, _ = unix.Write(ping, stop)
		p.join()
		unix.Close(ping)
		pong.Close()
	}()
	one := []byte{1, 0, 0, 0, 0, 0, 0, 0}
	buf := make([]byte, 8)
	pfd := []unix.PollFd{{Fd: int32(pongFD), Events: unix.POLLIN}}
	wait := func() error {
		if netpoll {
			_, err := pong.Read(buf) // parks in the netpoller until readable
			return err
		}
		for {
			if _, err := unix.Read(pongFD, buf); err == nil {
				return nil
			} else if err != unix.EAGAIN {
				return err
			}
			if _, err := unix.Poll(pfd, -1); err != nil && err != unix.EINTR {
				return err
			}
		}
	}
	d := make([]time.Duration, n)
	for i := -n / 10; i < n; i++ { // the first tenth warms up
		start := time.Now()
		if _, err := unix.Write(ping, one); err != nil {
			return dist{}, err
		}
		if err := wait(); err != nil {
			return dist{}, err
		}
		if i >= 0 {
			d[i] = time.Since(start)
		}
	}
	slices.Sort(d)
	return dist{median: d[n/2], p99: d[n*99/100]}, nil
}
