package main

import (
	"context"
	"fmt"
	"time"

	"github.com/zmqchan/zmqchan/zchan"
)

var zchanTypes = map[Kind]zchan.Type{
	Push: zchan.Push, Pull: zchan.Pull, Req: zchan.Req, Rep: zchan.Rep,
	Dealer: zchan.Dealer, Router: zchan.Router,
}

func zchanVariant(name string, lock bool) *Variant {
	doc := "zmqchan, default options"
	if lock {
		doc = "zmqchan with WithLockOSThread(true)"
	}
	return &Variant{
		Name: name, Doc: doc,
		New: func() (Env, error) {
			zc, err := zchan.NewContext()
			if err != nil {
				return nil, err
			}
			return &zchanEnv{zc: zc, lock: lock}, nil
		},
	}
}

type zchanEnv struct {
	zc   *zchan.Context
	lock bool
}

func (e *zchanEnv) Open(k Kind, ep string, bind bool) (Sock, error) {
	opts := []zchan.Option{zchan.WithContext(e.zc), zchan.WithLinger(benchLinger)}
	if bind {
		opts = append(opts, zchan.WithBind(ep))
	} else {
		opts = append(opts, zchan.WithConnect(ep))
	}
	if e.lock {
		opts = append(opts, zchan.WithLockOSThread(true))
	}
	s, err := zchan.Open(context.Background(), zchanTypes[k], opts...)
	if err != nil {
		return nil, err
	}
	return &zchanSock{s: s}, nil
}

func (e *zchanEnv) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.zc.Term(ctx); err != nil {
		return fmt.Errorf("zmqchan term: %w", err)
	}
	return nil
}

type zchanSock struct{ s *zchan.Socket[zchan.Msg] }

func (z *zchanSock) Send(m [][]byte) error { return z.s.Send(context.Background(), zchan.Msg(m)) }

func (z *zchanSock) Recv() ([][]byte, error) {
	m, ok := <-z.s.In()
	if !ok {
		return nil, fmt.Errorf("%w: %w", errClosed, z.s.Err())
	}
	return m, nil
}

func (z *zchanSock) Close() error { return z.s.Close() }
