package main

// Temporary, with internal/zchanold: zmqchan-old runs zchan as it was at
// 3cf7a39, before the owner rewrite of issue 10, beside zmqchan in the same
// run, so that each row can be compared new against old. This file mirrors
// v_zchan.go (default options only); delete both once the comparison is
// recorded.

import (
	"context"
	"fmt"
	"time"

	zchan "github.com/zmqchan/zmqchan/bench/internal/zchanold"
)

// oldName is the variant that runs the frozen copy of zchan.
const oldName = "zmqchan-old"

var zchanOldTypes = map[Kind]zchan.Type{
	Push: zchan.Push, Pull: zchan.Pull, Req: zchan.Req, Rep: zchan.Rep,
	Dealer: zchan.Dealer, Router: zchan.Router,
}

func zchanOldVariant() *Variant {
	return &Variant{
		Name: oldName, Doc: "zmqchan as it was at 3cf7a39, before the owner rewrite (issue 10), default options; temporary",
		New: func() (Env, error) {
			zc, err := zchan.NewContext()
			if err != nil {
				return nil, err
			}
			return &zchanOldEnv{zc: zc}, nil
		},
	}
}

type zchanOldEnv struct{ zc *zchan.Context }

func (e *zchanOldEnv) Open(k Kind, ep string, bind bool) (Sock, error) {
	opts := []zchan.Option{zchan.WithContext(e.zc), zchan.WithLinger(benchLinger)}
	if bind {
		opts = append(opts, zchan.WithBind(ep))
	} else {
		opts = append(opts, zchan.WithConnect(ep))
	}
	s, err := zchan.Open(context.Background(), zchanOldTypes[k], opts...)
	if err != nil {
		return nil, err
	}
	return &zchanOldSock{s: s}, nil
}

func (e *zchanOldEnv) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.zc.Term(ctx); err != nil {
		return fmt.Errorf("zmqchan-old term: %w", err)
	}
	return nil
}

type zchanOldSock struct{ s *zchan.Socket[zchan.Msg] }

func (z *zchanOldSock) Send(m [][]byte) error {
	return z.s.Send(context.Background(), zchan.Msg(m))
}

func (z *zchanOldSock) Recv() ([][]byte, error) {
	m, ok := <-z.s.In()
	if !ok {
		return nil, fmt.Errorf("%w: %w", errClosed, z.s.Err())
	}
	return m, nil
}

func (z *zchanOldSock) Close() error { return z.s.Close() }
