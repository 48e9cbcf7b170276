package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/examples/internal/exampletest"
	"github.com/zmqchan/zmqchan/zchan"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

// TestMTServer serves Go REQ clients and the guide's Python hwclient at
// once, then stops on cancellation (what Ctrl-C does) and exits cleanly.
func TestMTServer(t *testing.T) {
	ep := exampletest.TCP(t)
	var out exampletest.Output
	srv := exampletest.Go(t, "mtserver", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-bind", ep, "-workers", "3", "-work", "10ms"}, &out)
	})

	const clients, requests = 4, 3
	py := exampletest.Start(t, time.Minute, python(t), "-c", hwclientPy, ep, "5")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- client(ctx, ep, c, requests)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}

	if err := py.Wait(t); err != nil {
		t.Fatalf("python hwclient: %v\n%s", err, py.Stderr.String())
	}
	py.Stdout.WaitFor(t, "Received reply 4 [World]", time.Second)

	srv.Stop()
	if err := srv.Wait(t); err != nil {
		t.Fatalf("run: %v", err)
	}
	if got, want := out.Count("Received request: [Hello]"), clients*requests+5; got != want {
		t.Errorf("%d requests logged, want %d:\n%s", got, want, out.String())
	}
}

// client is the guide's hwclient written with zchan: n requests, each
// answered "World".
func client(ctx context.Context, ep string, id, n int) error {
	req, err := zchan.OpenWith(ctx, zchan.Req, zchan.String, zchan.WithConnect(ep))
	if err != nil {
		return err
	}
	defer req.Close()
	for i := range n {
		if err := req.Send(ctx, "Hello"); err != nil {
			return fmt.Errorf("client %d request %d: %w", id, i, err)
		}
		select {
		case rep := <-req.In():
			if rep != "World" {
				return fmt.Errorf("client %d reply %d = %q, want World", id, i, rep)
			}
		case <-ctx.Done():
			return fmt.Errorf("client %d reply %d: %w", id, i, ctx.Err())
		}
	}
	return nil
}

func TestMTServerFlags(t *testing.T) {
	for _, args := range [][]string{{"-workers", "0"}, {"-work", "-1s"}, {"-bind", "nonsense"}} {
		if err := run(context.Background(), args, &exampletest.Output{}); err == nil {
			t.Errorf("run %v: no error", args)
		}
	}
}

// hwclientPy is the guide's Python hwclient, with the endpoint and the
// number of requests as arguments.
const hwclientPy = `
import sys
import zmq

context = zmq.Context()
socket = context.socket(zmq.REQ)
socket.connect(sys.argv[1])
for request in range(int(sys.argv[2])):
    socket.send(b"Hello")
    message = socket.recv()
    print("Received reply %d [%s]" % (request, message.decode()))
socket.close()
context.term()
`

// python returns a python3 that can import zmq: $PYTHON3 if set, else
// python3 on the PATH, else /usr/bin/python3 (Debian's python3-zmq, which
// scripts/deps.sh --test installs, is not seen by a pyenv or virtualenv
// python3 that comes first on the PATH).
func python(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("PYTHON3"), "python3", "/usr/bin/python3"} {
		if name == "" {
			continue
		}
		p, err := exec.LookPath(name)
		if err == nil && exec.Command(p, "-c", "import zmq").Run() == nil {
			return p
		}
	}
	t.Fatal("no python3 with the zmq module: run scripts/deps.sh --test")
	return ""
}
