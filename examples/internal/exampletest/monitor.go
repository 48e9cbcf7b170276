package exampletest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchan/zmqchan/zchan"
)

var monitors atomic.Uint64

// Handshakes returns an option for zchan.Open and zchan.OpenWith that makes
// the socket report each completed ZMTP handshake, and a function that
// waits for the next report. A completed handshake means the connection
// can carry messages and, for a SUB socket, that its subscriptions are on
// their way to the publisher: a test waits for it before it makes a PUB
// peer send something that must not be lost to the slow-joiner effect.
//
// The socket must be opened in zc (the report travels over inproc). The
// wait function fails the test if no report arrives within timeout. The
// reporting socket is closed when the test ends.
func Handshakes(t testing.TB, zc *zchan.Context) (zchan.Option, func(timeout time.Duration)) {
	t.Helper()
	ep := fmt.Sprintf("inproc://exampletest-monitor-%d", monitors.Add(1))
	events, err := zchan.Open(context.Background(), zchan.Pair, zchan.WithContext(zc), zchan.WithConnect(ep), zchan.WithLinger(0))
	if err != nil {
		t.Fatalf("exampletest: monitor: %v", err)
	}
	t.Cleanup(func() { events.Close() })
	opt := zchan.WithSetup(func(s *zmq.Socket) error {
		return s.Monitor(ep, zmq.EVENT_HANDSHAKE_SUCCEEDED)
	})
	wait := func(timeout time.Duration) {
		t.Helper()
		deadline := time.NewTimer(timeout)
		defer deadline.Stop()
		select {
		case _, ok := <-events.In():
			if !ok {
				t.Fatalf("exampletest: monitor ended: %v", events.Err())
			}
		case <-deadline.C:
			t.Fatalf("exampletest: no handshake within %v", timeout)
		}
	}
	return opt, wait
}
