package testutil

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// Transport makes endpoints to bind for one ZeroMQ transport. The peer
// connects to what the bound socket reports (zchan.Socket.Endpoints), which
// for tcp carries the port the kernel picked.
type Transport struct {
	Name string
	// Bind returns a fresh endpoint to bind, unique in the process.
	Bind func(t testing.TB) string
}

var seq atomic.Uint64

// Inproc returns a unique inproc endpoint. Sockets talking over it must
// share a zmq context.
func Inproc(t testing.TB) string {
	name := strings.NewReplacer("/", "-", " ", "_").Replace(t.Name())
	return fmt.Sprintf("inproc://%s-%d", name, seq.Add(1))
}

// IPC returns a unique ipc endpoint in a directory removed when the test
// ends. The directory is short-named under the system temp dir because a
// Unix socket path must fit in about 107 bytes.
func IPC(t testing.TB) string {
	dir, err := os.MkdirTemp("", "zc")
	if err != nil {
		t.Fatalf("ipc dir: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return "ipc://" + filepath.Join(dir, fmt.Sprintf("s%d", seq.Add(1)))
}

// TCP returns a loopback tcp endpoint with a port the kernel picks at bind.
func TCP(testing.TB) string { return "tcp://127.0.0.1:*" }

// Transports lists inproc, ipc and tcp.
func Transports() []Transport {
	return []Transport{{"inproc", Inproc}, {"ipc", IPC}, {"tcp", TCP}}
}
