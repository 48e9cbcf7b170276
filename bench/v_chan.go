package main

import (
	"encoding/binary"
	"fmt"
	"sync"
)

// chanBuffer sizes the plain-channel variant's channels, the analogue of
// ZeroMQ's queues.
const chanBuffer = 128

// chanVariant is no ZeroMQ at all: Go channels between goroutines of one
// process, the floor every bridge is measured against.
func chanVariant() *Variant {
	return &Variant{
		Name:          "chan",
		Doc:           "plain Go channels, no ZeroMQ (in-process only; buffered 128; the receiver gets the sender's buffer, so senders allocate each message)",
		Transports:    []string{"chan"},
		SharesBuffers: true,
		New: func() (Env, error) {
			return &chanEnv{abort: make(chan struct{}), pipes: make(map[string]*chanPipe)}, nil
		},
	}
}

type request struct {
	m     [][]byte
	id    uint32
	reply chan [][]byte
}

// chanPipe is what a bound "socket" creates: the channel of PUSH/PULL
// messages or of requests.
type chanPipe struct {
	msgs    chan [][]byte
	reqs    chan request
	mu      sync.Mutex
	clients map[uint32]chan [][]byte // ROUTER: reply channel by identity
	nextID  uint32
}

type chanEnv struct {
	mu        sync.Mutex
	pipes     map[string]*chanPipe
	abort     chan struct{}
	abortOnce sync.Once
}

func (e *chanEnv) Close() error {
	e.abortOnce.Do(func() { close(e.abort) })
	return nil
}

func (e *chanEnv) Open(k Kind, ep string, bind bool) (Sock, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.pipes[ep]
	if bind {
		if p != nil {
			return nil, fmt.Errorf("chan: %q in use", ep)
		}
		p = &chanPipe{msgs: make(chan [][]byte, chanBuffer), reqs: make(chan request, chanBuffer), clients: make(map[uint32]chan [][]byte)}
		e.pipes[ep] = p
	} else if p == nil {
		return nil, fmt.Errorf("chan: nothing bound at %q", ep)
	}
	s := &chanSock2{k: k, p: p, abort: e.abort}
	if k == Req || k == Dealer {
		s.reply = make(chan [][]byte, 1)
		p.mu.Lock()
		p.nextID++
		s.id = p.nextID
		p.clients[s.id] = s.reply
		p.mu.Unlock()
	}
	return s, nil
}

// chanSock2 is one end of a chanPipe.
type chanSock2 struct {
	k     Kind
	p     *chanPipe
	abort chan struct{}
	id    uint32
	reply chan [][]byte // REQ, DEALER: where replies come
	last  chan [][]byte // REP: where the reply to the last request goes
}

func (s *chanSock2) Send(m [][]byte) error {
	switch s.k {
	case Push:
		select {
		case s.p.msgs <- m:
			return nil
		case <-s.abort:
			return errClosed
		}
	case Req, Dealer:
		select {
		case s.p.reqs <- request{m: m, id: s.id, reply: s.reply}:
			return nil
		case <-s.abort:
			return errClosed
		}
	case Rep:
		return s.answer(s.last, m)
	case Router:
		if len(m) < 2 || len(m[0]) != 4 {
			return fmt.Errorf("chan: ROUTER message without identity")
		}
		s.p.mu.Lock()
		c := s.p.clients[binary.LittleEndian.Uint32(m[0])]
		s.p.mu.Unlock()
		return s.answer(c, m[1:])
	}
	return fmt.Errorf("chan: send on %s", s.k)
}

func (s *chanSock2) answer(c chan [][]byte, m [][]byte) error {
	if c == nil {
		return fmt.Errorf("chan: reply with no request")
	}
	select {
	case c <- m:
		return nil
	case <-s.abort:
		return errClosed
	}
}

func (s *chanSock2) Recv() ([][]byte, error) {
	switch s.k {
	case Pull:
		select {
		case m := <-s.p.msgs:
			return m, nil
		case <-s.abort:
			return nil, errClosed
		}
	case Req, Dealer:
		select {
		case m := <-s.reply:
			return m, nil
		case <-s.abort:
			return nil, errClosed
		}
	case Rep, Router:
		select {
		case r := <-s.p.reqs:
			if s.k == Rep {
				s.last = r.reply
				return r.m, nil
			}
			id := binary.LittleEndian.AppendUint32(nil, r.id)
			return append([][]byte{id}, r.m...), nil
		case <-s.abort:
			return nil, errClosed
		}
	}
	return nil, fmt.Errorf("chan: receive on %s", s.k)
}

func (s *chanSock2) Close() error { return nil }
