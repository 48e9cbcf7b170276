package main

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/examples/internal/exampletest"
	"github.com/zmqchan/zmqchan/zchan"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

// TestPSEnvPub checks the envelopes on the wire with a zchan subscriber to
// everything, and the filtering with the guide's Python psenvsub.
func TestPSEnvPub(t *testing.T) {
	ep := exampletest.TCP(t)
	pub := exampletest.Go(t, "psenvpub", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-bind", ep, "-interval", "10ms"}, &exampletest.Output{})
	})
	py := exampletest.Start(t, time.Minute, python(t), "-c", psenvsubPy, ep, "3")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sub, err := zchan.Open(ctx, zchan.Sub, zchan.WithSubscribe(""), zchan.WithConnect(ep))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	want := map[string]string{"A": "We don't want to see this", "B": "We would like to see this"}
	seen := map[string]bool{}
	for len(seen) < 2 {
		select {
		case m := <-sub.In():
			if len(m) != 2 || want[string(m[0])] != string(m[1]) {
				t.Fatalf("got %q, want an envelope and its content", m)
			}
			seen[string(m[0])] = true
		case <-ctx.Done():
			t.Fatalf("saw only %v", seen)
		}
	}

	if err := py.Wait(t); err != nil {
		t.Fatalf("python psenvsub: %v\n%s", err, py.Stderr.String())
	}
	for i, l := range py.Stdout.Lines() {
		if l != "[B] We would like to see this" {
			t.Errorf("python line %d = %q", i, l)
		}
	}
	if n := len(py.Stdout.Lines()); n != 3 {
		t.Errorf("python printed %d lines, want 3", n)
	}

	pub.Stop()
	if err := pub.Wait(t); err != nil {
		t.Fatalf("run: %v", err)
	}
}

// psenvsubPy is the guide's Python psenvsub, with the endpoint and a
// message count as arguments.
const psenvsubPy = `
import sys
import zmq

context = zmq.Context()
subscriber = context.socket(zmq.SUB)
subscriber.connect(sys.argv[1])
subscriber.setsockopt(zmq.SUBSCRIBE, b"B")
for i in range(int(sys.argv[2])):
    [address, contents] = subscriber.recv_multipart()
    print("[%s] %s" % (address.decode(), contents.decode()))
subscriber.close()
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
