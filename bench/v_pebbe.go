package main

import (
	"fmt"
	"runtime"

	zmq "github.com/pebbe/zmq4"
)

var pebbeTypes = map[Kind]zmq.Type{
	Push: zmq.PUSH, Pull: zmq.PULL, Req: zmq.REQ, Rep: zmq.REP,
	Dealer: zmq.DEALER, Router: zmq.ROUTER,
}

// rawVariant is pebbe/zmq4 used directly: one goroutine per socket doing
// blocking Send and Recv calls, optionally locked to its OS thread.
func rawVariant(name string, lock bool) *Variant {
	doc := "pebbe/zmq4, one goroutine per socket, blocking calls"
	if lock {
		doc += ", runtime.LockOSThread"
	}
	return &Variant{Name: name, Doc: doc, Lock: lock, New: newPebbeEnv}
}

func newPebbeEnv() (Env, error) {
	zc, err := zmq.NewContext()
	if err != nil {
		return nil, err
	}
	runtime.SetFinalizer(zc, nil)
	return &pebbeEnv{zc: zc}, nil
}

type pebbeEnv struct{ zc *zmq.Context }

// openPebbe creates a socket with the bench's linger, bound or connected.
func openPebbe(zc *zmq.Context, k Kind, ep string, bind bool) (*zmq.Socket, error) {
	s, err := zc.NewSocket(pebbeTypes[k])
	if err != nil {
		return nil, err
	}
	runtime.SetFinalizer(s, nil)
	if err := s.SetLinger(benchLinger); err != nil {
		s.Close()
		return nil, err
	}
	if bind {
		err = s.Bind(ep)
	} else {
		err = s.Connect(ep)
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("%s %s: %w", k, ep, err)
	}
	return s, nil
}

func (e *pebbeEnv) Open(k Kind, ep string, bind bool) (Sock, error) {
	s, err := openPebbe(e.zc, k, ep, bind)
	if err != nil {
		return nil, err
	}
	return &pebbeSock{s: s}, nil
}

// Close terminates the context: pending Recv calls fail with ETERM and
// their goroutines close their sockets, which lets the term finish.
func (e *pebbeEnv) Close() error { return e.zc.Term() }

type pebbeSock struct{ s *zmq.Socket }

func (p *pebbeSock) Send(m [][]byte) error { return sendFrames(p.s, m, 0) }

func (p *pebbeSock) Recv() ([][]byte, error) { return recvFrames(p.s, 0) }

func (p *pebbeSock) Close() error { return p.s.Close() }

// sendFrames sends m as one message, frame by frame, as zchan's owner does.
func sendFrames(s *zmq.Socket, m [][]byte, flags zmq.Flag) error {
	last := len(m) - 1
	for i, f := range m {
		fl := flags
		if i < last {
			fl |= zmq.SNDMORE
		}
		if _, err := s.SendBytes(f, fl); err != nil {
			return err
		}
	}
	return nil
}

// recvFrames receives the frames of one message.
func recvFrames(s *zmq.Socket, flags zmq.Flag) ([][]byte, error) {
	var frames [][]byte
	for {
		f, err := s.RecvBytes(flags)
		if err != nil {
			if len(frames) > 0 {
				return nil, fmt.Errorf("partial message: %w", err)
			}
			return nil, err
		}
		frames = append(frames, f)
		more, err := s.GetRcvmore()
		if err != nil {
			return nil, err
		}
		if !more {
			return frames, nil
		}
	}
}
