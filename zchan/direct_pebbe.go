//go:build !(unix && cgo) || zchan_nodirect

package zchan

import (
	"unsafe"

	zmq "github.com/pebbe/zmq4"
	"go.uber.org/zap"
)

// Built without the direct path (the zchan_nodirect tag, or a platform
// where direct.go does not build): the owner's hot path goes through
// pebbe/zmq4 like everything else.

// directBuilt says that direct.go is left out.
const directBuilt = false

// layoutOK is false: the direct path is not built in.
const layoutOK = false

type direct struct{ h unsafe.Pointer } // h is always nil

func newDirect(*zmq.Socket, bool, *zap.Logger) direct { return direct{} }

func (d *direct) free() {}

func (d *direct) events(sock *zmq.Socket) (zmq.State, error) {
	ev, err := sock.GetEvents()
	return ev, errnoErr(err)
}

func (d *direct) recv(sock *zmq.Socket, frames [][]byte, _ int) ([][]byte, bool, error) {
	return pebbeRecv(sock, frames)
}

func (d *direct) send(sock *zmq.Socket, frames [][]byte) (int, error) { return pebbeSend(sock, frames) }
