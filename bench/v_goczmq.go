package main

/*
#cgo pkg-config: libczmq
#include <czmq.h>
static void bench_czmq_init(void) { zsys_set_max_sockets(16384); zsys_init(); }
*/
import "C"

import (
	"fmt"
	"strings"
	"sync"
	"time"

	czmq "github.com/go-zeromq/goczmq/v4"
)

// czmqInit raises czmq's socket limit before its first socket: every
// Channeler holds five sockets (the socket, a PUSH/PULL pair for sends and
// a PAIR pair for commands), and open-close opens 1,000 Channelers.
var czmqInit = sync.OnceFunc(func() { C.bench_czmq_init() })

// goczmqVariant is goczmq's Channeler (the maintained go-zeromq fork): a
// goroutine per socket that polls the socket and an inproc pipe, fed by a
// second goroutine that forwards SendChan over that pipe.
func goczmqVariant() *Variant {
	return &Variant{
		ThirdParty: true,
		Name:       "goczmq",
		Doc:        "goczmq Channeler (github.com/go-zeromq/goczmq/v4): SendChan and RecvChan",
		New: func() (Env, error) {
			czmqInit()
			return &czmqEnv{open: make(map[*czmqSock]struct{})}, nil
		},
	}
}

// czmqEnv tracks its Channelers: they live in czmq's process-wide context,
// so ending the env means destroying each of them.
type czmqEnv struct {
	mu   sync.Mutex
	open map[*czmqSock]struct{}
}

var czmqCtors = map[Kind]func(string, ...czmq.SockOption) *czmq.Channeler{
	Push: czmq.NewPushChanneler, Pull: czmq.NewPullChanneler,
	Req: czmq.NewReqChanneler, Rep: czmq.NewRepChanneler,
	Dealer: czmq.NewDealerChanneler, Router: czmq.NewRouterChanneler,
}

func (e *czmqEnv) Open(k Kind, ep string, bind bool) (Sock, error) {
	prefix := ">"
	if bind {
		prefix = "@"
	}
	c := czmqCtors[k](prefix+ep, czmq.SockSetLinger(int(benchLinger/time.Millisecond)))
	s := &czmqSock{c: c, env: e}
	e.mu.Lock()
	e.open[s] = struct{}{}
	e.mu.Unlock()
	return s, nil
}

// Close destroys every Channeler still open, which closes their RecvChan
// and so unblocks pending Recv calls.
func (e *czmqEnv) Close() error {
	e.mu.Lock()
	var socks []*czmqSock
	for s := range e.open {
		socks = append(socks, s)
	}
	e.mu.Unlock()
	var errs []string
	for _, s := range socks {
		if err := s.Close(); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("goczmq: %s", strings.Join(errs, "; "))
	}
	return nil
}

type czmqSock struct {
	c    *czmq.Channeler
	env  *czmqEnv
	once sync.Once
	err  error
}

func (s *czmqSock) Send(m [][]byte) error {
	select {
	case s.c.SendChan <- m:
		return nil
	case err := <-s.c.ErrChan:
		return err
	}
}

func (s *czmqSock) Recv() ([][]byte, error) {
	select {
	case m, ok := <-s.c.RecvChan:
		if !ok {
			return nil, errClosed
		}
		return m, nil
	case err := <-s.c.ErrChan:
		return nil, err
	}
}

// Close destroys the Channeler. Its actor goroutine may be parked on a bare
// send to RecvChan or ErrChan, which nobody else reads once the caller
// stops: Destroy would then never return. Close drains both channels until
// RecvChan is closed, which the actor does when it exits.
func (s *czmqSock) Close() error {
	s.once.Do(func() {
		exited := make(chan struct{})
		go func() {
			defer close(exited)
			for {
				select {
				case _, ok := <-s.c.RecvChan:
					if !ok {
						return
					}
				case <-s.c.ErrChan:
				}
			}
		}()
		destroyed := make(chan struct{})
		go func() { s.c.Destroy(); close(destroyed) }()
		t := time.NewTimer(10 * time.Second)
		defer t.Stop()
		select {
		case <-exited:
		case <-t.C:
			s.err = fmt.Errorf("goczmq: channeler did not exit")
			return
		}
		select {
		case <-destroyed:
		case <-t.C:
			s.err = fmt.Errorf("goczmq: destroy did not return")
		}
		s.env.mu.Lock()
		delete(s.env.open, s)
		s.env.mu.Unlock()
	})
	return s.err
}
