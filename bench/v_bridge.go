package main

import (
	"errors"
	"sync"
	"syscall"
	"time"

	zmq "github.com/pebbe/zmq4"
)

// pollInterval is the poll timeout of the naive bridge and of the Reactor:
// how long a message handed to them may wait while they poll the socket.
// 1 ms is a common choice for code that wants latency; longer intervals
// cost latency, shorter ones CPU when idle.
const pollInterval = time.Millisecond

var errStop = errors.New("bench: stopped")

// chanSock is a socket owned by a bridge goroutine and reached through
// channels; the naive bridge and the Reactor bridge share it.
type chanSock struct {
	in       chan [][]byte // closed by the bridge goroutine
	out      chan [][]byte // naive bridge
	outI     chan any      // Reactor bridge: its AddChannel wants chan interface{}
	stop     chan struct{}
	stopI    chan any // buffered 1: tells the Reactor to stop
	stopOnce sync.Once
	done     chan struct{}
	err      error // why the bridge ended; set before done is closed
}

func newChanSock() *chanSock {
	return &chanSock{
		in: make(chan [][]byte), out: make(chan [][]byte),
		stop: make(chan struct{}), stopI: make(chan any, 1), done: make(chan struct{}),
	}
}

func (c *chanSock) Send(m [][]byte) error {
	if c.outI != nil {
		select {
		case c.outI <- m:
			return nil
		case <-c.done:
			return c.err
		}
	}
	select {
	case c.out <- m:
		return nil
	case <-c.done:
		return c.err
	}
}

func (c *chanSock) Recv() ([][]byte, error) {
	m, ok := <-c.in
	if !ok {
		<-c.done
		return nil, c.err
	}
	return m, nil
}

func (c *chanSock) Close() error {
	c.stopOnce.Do(func() {
		close(c.stop)
		c.stopI <- nil
	})
	<-c.done
	if errors.Is(c.err, errStop) {
		return nil
	}
	return c.err
}

// deliver hands m to the consumer unless the socket is stopping.
func (c *chanSock) deliver(m [][]byte) error {
	select {
	case c.in <- m:
		return nil
	case <-c.stop:
		return errStop
	}
}

// bridgeVariant is what a Go developer might write by hand: a goroutine
// per socket that forwards between the socket and two channels. A socket
// that only receives or only sends gets a loop of blocking calls; one that
// does both (REQ, REP, DEALER, ROUTER) cannot block on both the socket and
// a channel, so its loop polls the socket with a timeout and checks the
// outbound channel in between.
func bridgeVariant() *Variant {
	return &Variant{
		Name: "bridge",
		Doc:  "hand-made goroutine bridge over pebbe/zmq4, one goroutine per socket: blocking loops for PUSH and PULL (100 ms receive timeout, to notice Close), zmq_poll with a 1 ms timeout for two-way sockets",
		New: func() (Env, error) {
			e, err := newPebbeEnv()
			if err != nil {
				return nil, err
			}
			return &bridgeEnv{zc: e.(*pebbeEnv).zc}, nil
		},
	}
}

type bridgeEnv struct{ zc *zmq.Context }

func (e *bridgeEnv) Close() error { return e.zc.Term() }

func (e *bridgeEnv) Open(k Kind, ep string, bind bool) (Sock, error) {
	c := newChanSock()
	ready := make(chan error, 1)
	go func() {
		defer close(c.done)
		defer close(c.in)
		s, err := openPebbe(e.zc, k, ep, bind)
		ready <- err
		if err != nil {
			c.err = err
			return
		}
		defer s.Close()
		switch k {
		case Pull:
			c.err = c.recvLoop(s)
		case Push:
			c.err = c.sendLoop(s)
		default:
			c.err = c.pollLoop(s)
		}
	}()
	if err := <-ready; err != nil {
		<-c.done
		return nil, err
	}
	return c, nil
}

// recvTimeout lets a bridge blocked in a receive notice that it should
// stop.
const recvTimeout = 100 * time.Millisecond

func (c *chanSock) recvLoop(s *zmq.Socket) error {
	if err := s.SetRcvtimeo(recvTimeout); err != nil {
		return err
	}
	for {
		m, err := recvFrames(s, 0)
		if zmq.AsErrno(err) == zmq.Errno(syscall.EAGAIN) {
			select {
			case <-c.stop:
				return errStop
			default:
				continue
			}
		}
		if err != nil {
			return err
		}
		if err := c.deliver(m); err != nil {
			return err
		}
	}
}

func (c *chanSock) sendLoop(s *zmq.Socket) error {
	for {
		select {
		case m := <-c.out:
			if err := sendFrames(s, m, 0); err != nil {
				return err
			}
		case <-c.stop:
			return errStop
		}
	}
}

func (c *chanSock) pollLoop(s *zmq.Socket) error {
	p := zmq.NewPoller()
	p.Add(s, zmq.POLLIN)
	for {
		select {
		case m := <-c.out:
			if err := sendFrames(s, m, 0); err != nil {
				return err
			}
		case <-c.stop:
			return errStop
		default:
		}
		polled, err := p.Poll(pollInterval)
		if err != nil {
			return err
		}
		if len(polled) > 0 {
			m, err := recvFrames(s, 0)
			if err != nil {
				return err
			}
			if err := c.deliver(m); err != nil {
				return err
			}
		}
	}
}
