package main

import (
	"context"
	"sync"

	gozmq "github.com/go-zeromq/zmq4"
)

// gozmqVariant is go-zeromq/zmq4, ZeroMQ's protocol in pure Go (no cgo,
// no libzmq): one goroutine per socket calling Send and Recv.
func gozmqVariant() *Variant {
	return &Variant{
		ThirdParty: true,
		Name:       "gozmq",
		Doc:        "go-zeromq/zmq4, pure Go, one goroutine per socket calling Send and Recv",
		Skip: func(c *Case) string {
			if c.Scenario == "pool" {
				return "go-zeromq/zmq4's PUSH writes every message to every connected PULL (seen: every task done by several workers), and a worker's results socket failed with a broken pipe over ipc"
			}
			if c.Transport == "inproc" && c.Size > 64 {
				return "go-zeromq/zmq4's inproc transport delivers empty frames for messages larger than its read buffer (seen with 1 KiB and 64 KiB)"
			}
			return ""
		},
		New: func() (Env, error) {
			ctx, cancel := context.WithCancel(context.Background())
			return &gozmqEnv{ctx: ctx, cancel: cancel}, nil
		},
	}
}

var gozmqCtors = map[Kind]func(context.Context, ...gozmq.Option) gozmq.Socket{
	Push: gozmq.NewPush, Pull: gozmq.NewPull, Req: gozmq.NewReq, Rep: gozmq.NewRep,
	Dealer: gozmq.NewDealer, Router: gozmq.NewRouter,
}

// gozmqEnv cancels its context to end: pending Recv calls then fail.
type gozmqEnv struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func (e *gozmqEnv) Open(k Kind, ep string, bind bool) (Sock, error) {
	s := gozmqCtors[k](e.ctx)
	var err error
	if bind {
		err = s.Listen(ep)
	} else {
		err = s.Dial(ep)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return &gozmqSock{s: s}, nil
}

func (e *gozmqEnv) Close() error {
	e.cancel()
	return nil
}

type gozmqSock struct{ s gozmq.Socket }

func (g *gozmqSock) Send(m [][]byte) error {
	if len(m) == 1 {
		return g.s.Send(gozmq.Msg{Frames: m})
	}
	return g.s.SendMulti(gozmq.Msg{Frames: m})
}

func (g *gozmqSock) Recv() ([][]byte, error) {
	m, err := g.s.Recv()
	if err != nil {
		return nil, err
	}
	return m.Frames, nil
}

func (g *gozmqSock) Close() error { return g.s.Close() }
