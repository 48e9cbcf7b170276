package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// endpoints hands out fresh endpoints: unique inproc names, ipc paths in a
// private directory, and tcp ports that were free a moment ago.
type endpoints struct {
	dir string
	n   atomic.Int64

	mu    sync.Mutex
	ports map[int]bool // tcp ports handed out already
}

func newEndpoints() (*endpoints, error) {
	dir, err := os.MkdirTemp("", "zmqchan-bench-")
	if err != nil {
		return nil, err
	}
	return &endpoints{dir: dir, ports: make(map[int]bool)}, nil
}

func (e *endpoints) next(transport string) (string, error) {
	n := e.n.Add(1)
	switch transport {
	case "inproc":
		return fmt.Sprintf("inproc://bench-%d", n), nil
	case "ipc":
		return "ipc://" + filepath.Join(e.dir, fmt.Sprintf("%d.sock", n)), nil
	case "tcp":
		// Binding "*" would be simpler, but not every variant reports the
		// port it picked; the race with another process taking the port
		// in between is harmless for a benchmark.
		// The kernel may hand the same free port out twice in a row;
		// ports are not reused within a process.
		e.mu.Lock()
		defer e.mu.Unlock()
		for range 100 {
			l, err := net.Listen("tcp4", "127.0.0.1:0")
			if err != nil {
				return "", err
			}
			port := l.Addr().(*net.TCPAddr).Port
			l.Close()
			if !e.ports[port] {
				e.ports[port] = true
				return fmt.Sprintf("tcp://127.0.0.1:%d", port), nil
			}
		}
		return "", fmt.Errorf("no fresh tcp port")
	case "chan":
		return fmt.Sprintf("chan-%d", n), nil
	}
	return "", fmt.Errorf("unknown transport %q", transport)
}

func (e *endpoints) Close() error { return os.RemoveAll(e.dir) }
