package main

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

// TestPSEnvSub subscribes to the guide's Python psenvpub: only the B
// envelopes may come through, each printed with its key.
func TestPSEnvSub(t *testing.T) {
	ep := exampletest.TCP(t)
	exampletest.Start(t, time.Minute, python(t), "-c", psenvpubPy, ep, "0.01")

	var out exampletest.Output
	sub := exampletest.Go(t, "psenvsub", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-connect", ep, "-count", "3"}, &out)
	})
	if err := sub.Wait(t); err != nil {
		t.Fatalf("run: %v", err)
	}
	lines := out.Lines()
	if len(lines) != 3 {
		t.Errorf("got %d lines, want 3:\n%s", len(lines), out.String())
	}
	for i, l := range lines {
		if l != "[B] We would like to see this" {
			t.Errorf("line %d = %q", i, l)
		}
	}
}

// TestPSEnvSubStop stops a subscriber that is receiving, with no -count,
// as Ctrl-C would: it must return nil promptly (the watchdog of Wait).
func TestPSEnvSubStop(t *testing.T) {
	ep := exampletest.TCP(t)
	exampletest.Start(t, time.Minute, python(t), "-c", psenvpubPy, ep, "0.01")
	var out exampletest.Output
	sub := exampletest.Go(t, "psenvsub", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-connect", ep}, &out)
	})
	out.WaitFor(t, "[B]", 30*time.Second)
	sub.Stop()
	if err := sub.Wait(t); err != nil {
		t.Fatalf("run: %v", err)
	}
}

// TestPSEnvSubStopUnconnected stops a subscriber with no publisher: it
// must return nil promptly too.
func TestPSEnvSubStopUnconnected(t *testing.T) {
	sub := exampletest.Go(t, "psenvsub", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-connect", exampletest.TCP(t)}, &exampletest.Output{})
	})
	sub.Stop()
	if err := sub.Wait(t); err != nil {
		t.Fatalf("run: %v", err)
	}
}

// psenvpubPy is the guide's Python psenvpub, with the endpoint and the
// interval between rounds (in seconds) as arguments.
const psenvpubPy = `
import sys
import time
import zmq

context = zmq.Context()
publisher = context.socket(zmq.PUB)
publisher.bind(sys.argv[1])
while True:
    publisher.send_multipart([b"A", b"We don't want to see this"])
    publisher.send_multipart([b"B", b"We would like to see this"])
    time.sleep(float(sys.argv[2]))
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
