package main

import (
	zmq "github.com/pebbe/zmq4"
)

// reactorOutBuffer sizes the Reactor bridge's outbound channel. The
// Reactor reads channels only between polls; unbuffered, a sender would
// get one message through per poll interval. It stays below ringSize.
const reactorOutBuffer = 128

// reactorVariant is pebbe's Reactor used as the bridge: one Reactor per
// socket, a POLLIN handler that hands inbound messages to a channel, and
// an AddChannel handler that sends outbound ones. The Reactor polls its
// sockets with a timeout (1 ms here) and reads its channels in between.
func reactorVariant() *Variant {
	return &Variant{
		Name: "reactor",
		Doc:  "pebbe/zmq4's Reactor, one per socket: a POLLIN handler hands messages to a channel, AddChannel feeds sends (buffered 128); 1 ms poll interval",
		New: func() (Env, error) {
			e, err := newPebbeEnv()
			if err != nil {
				return nil, err
			}
			return &reactorEnv{zc: e.(*pebbeEnv).zc}, nil
		},
	}
}

type reactorEnv struct{ zc *zmq.Context }

func (e *reactorEnv) Close() error { return e.zc.Term() }

func (e *reactorEnv) Open(k Kind, ep string, bind bool) (Sock, error) {
	c := newChanSock()
	c.outI = make(chan any, reactorOutBuffer)
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
		r := zmq.NewReactor()
		var events zmq.State // a PUSH socket is only polled for the timeout
		if k != Push {
			events = zmq.POLLIN
		}
		r.AddSocket(s, events, func(zmq.State) error {
			m, err := recvFrames(s, 0)
			if err != nil {
				return err
			}
			return c.deliver(m)
		})
		if k != Pull {
			r.AddChannel(c.outI, 0, func(v any) error { return sendFrames(s, v.([][]byte), 0) })
		}
		r.AddChannel(c.stopI, 1, func(any) error { return errStop })
		c.err = r.Run(pollInterval)
	}()
	if err := <-ready; err != nil {
		<-c.done
		return nil, err
	}
	return c, nil
}
