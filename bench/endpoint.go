package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
)

// endpoints hands out fresh endpoints: unique inproc names, ipc paths in a
// private directory, and tcp ports that were free a moment ago.
type endpoints struct {
	dir string
	n   atomic.Int64
}

func newEndpoints() (*endpoints, error) {
	dir, err := os.MkdirTemp("", "zmqchan-bench-")
	if err != nil {
		return nil, err
	}
	return &endpoints{dir: dir}, nil
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
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		return fmt.Sprintf("tcp://127.0.0.1:%d", port), nil
	case "chan":
		return fmt.Sprintf("chan-%d", n), nil
	}
	return "", fmt.Errorf("unknown transport %q", transport)
}

func (e *endpoints) Close() error { return os.RemoveAll(e.dir) }
