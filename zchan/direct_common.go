package zchan

import (
	"sync/atomic"

	zmq "github.com/pebbe/zmq4"
	"go.uber.org/zap"
)

// pebbeRecv receives one frame through pebbe/zmq4 without blocking and
// appends it to frames; more reports whether another frame of the same
// message follows.
func pebbeRecv(sock *zmq.Socket, frames [][]byte) (_ [][]byte, more bool, err error) {
	f, err := sock.RecvBytes(zmq.DONTWAIT)
	if err != nil {
		return frames, false, errnoErr(err)
	}
	frames = append(frames, f)
	more, err = sock.GetRcvmore()
	return frames, more, errnoErr(err)
}

// pebbeSend sends frames as one message through pebbe/zmq4 without
// blocking, frame by frame. On an error it returns the index of the frame
// libzmq refused: the frames before it were taken.
func pebbeSend(sock *zmq.Socket, frames [][]byte) (int, error) {
	last := len(frames) - 1
	for i, f := range frames {
		flag := zmq.DONTWAIT
		if i < last {
			flag |= zmq.SNDMORE
		}
		if _, err := sock.SendBytes(f, flag); err != nil {
			return i, errnoErr(err)
		}
	}
	return 0, nil
}

// fallbackWarned is set once a fallback warning reached a logger that
// logs warnings: the warning is given once per process, not per socket.
var fallbackWarned atomic.Bool

func warnFallback(log *zap.Logger, why string) {
	if !log.Core().Enabled(zap.WarnLevel) || !fallbackWarned.CompareAndSwap(false, true) {
		return
	}
	log.Warn("zchan: receiving and sending through pebbe/zmq4, not directly (slower: see Stats.DirectPath)", zap.String("why", why))
}

// isClosed reports whether pebbe has closed sock (something other than
// the owner called its Close, against the doc of Do and WithSetup).
func isClosed(sock *zmq.Socket) bool {
	_, err := sock.GetType()
	return err == zmq.ErrorSocketClosed
}
