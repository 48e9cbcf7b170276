package zchan

import (
	"sync/atomic"

	zmq "github.com/pebbe/zmq4"
	"go.uber.org/zap"
)

// pebbeRecvFrame receives one frame through pebbe/zmq4 without blocking.
func pebbeRecvFrame(sock *zmq.Socket) (f []byte, more bool, err error) {
	if f, err = sock.RecvBytes(zmq.DONTWAIT); err != nil {
		return nil, false, errnoErr(err)
	}
	more, err = sock.GetRcvmore()
	return f, more, errnoErr(err)
}

// fallbackWarned is set once a fallback warning reached a logger that
// logs warnings: the warning is given once per process, not per socket.
var fallbackWarned atomic.Bool

func warnFallback(log *zap.Logger, why string) {
	if !log.Core().Enabled(zap.WarnLevel) || !fallbackWarned.CompareAndSwap(false, true) {
		return
	}
	log.Warn("zchan: receiving through pebbe/zmq4, not directly (slower: see Stats.DirectPath)", zap.String("why", why))
}

// isClosed reports whether pebbe has closed sock (something other than
// the owner called its Close, against the doc of Do and WithSetup).
func isClosed(sock *zmq.Socket) bool {
	_, err := sock.GetType()
	return err == zmq.ErrorSocketClosed
}
