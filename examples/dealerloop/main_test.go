package main

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

const received = "msg size is: 11, msg is: hello world"

// TestDealerLoop runs the receiver against our sender and against the
// note's sender written in Python, over ipc.
func TestDealerLoop(t *testing.T) {
	t.Run("go", func(t *testing.T) {
		ep := exampletest.IPC(t, "dealer.ipc")
		var sout exampletest.Output
		sender := exampletest.Go(t, "sender", time.Minute, func(ctx context.Context) error {
			return run(ctx, []string{"-role", "sender", "-endpoint", ep, "-interval", "20ms"}, &sout)
		})
		runReceiver(t, ep)
		sender.Stop()
		if err := sender.Wait(t); err != nil {
			t.Fatalf("sender: %v", err)
		}
		if n := sout.Count("sending msg..."); n < 3 {
			t.Errorf("sender printed %d lines, want at least 3:\n%s", n, sout.String())
		}
	})
	t.Run("python", func(t *testing.T) {
		ep := exampletest.IPC(t, "dealer.ipc")
		exampletest.Start(t, time.Minute, python(t), "-c", senderPy, ep, "0.02")
		runReceiver(t, ep)
	})
}

// runReceiver runs the receiver until it has three messages and checks what
// it printed.
func runReceiver(t *testing.T, ep string) {
	t.Helper()
	var out exampletest.Output
	rcv := exampletest.Go(t, "receiver", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-role", "receiver", "-endpoint", ep, "-count", "3", "-report", "5ms"}, &out)
	})
	if err := rcv.Wait(t); err != nil {
		t.Fatalf("receiver: %v\n%s", err, out.String())
	}
	if n := out.Count(received); n != 3 {
		t.Errorf("receiver printed %d messages, want 3:\n%s", n, out.String())
	}
	for _, l := range out.Lines() {
		if l != received && !strings.HasPrefix(l, "status: ") {
			t.Errorf("unexpected line %q", l)
		}
	}
	t.Logf("%d status lines", out.Count("status: "))
}

// TestDealerLoopStop stops a receiver with no sender and a sender with no
// receiver, as Ctrl-C would: both must return nil promptly.
func TestDealerLoopStop(t *testing.T) {
	for _, role := range []string{"receiver", "sender"} {
		ep := exampletest.IPC(t, "dealer.ipc")
		tk := exampletest.Go(t, role, time.Minute, func(ctx context.Context) error {
			return run(ctx, []string{"-role", role, "-endpoint", ep}, &exampletest.Output{})
		})
		tk.Stop()
		if err := tk.Wait(t); err != nil {
			t.Errorf("%s: %v", role, err)
		}
	}
}

func TestDealerLoopFlags(t *testing.T) {
	for _, args := range [][]string{{}, {"-role", "both"}, {"-role", "sender", "-interval", "0s"}} {
		if err := run(context.Background(), args, &exampletest.Output{}); err == nil {
			t.Errorf("run %v: no error", args)
		}
	}
}

// senderPy is the note's sender (C++ there), in Python: a DEALER that
// connects and sends "hello world" every interval.
const senderPy = `
import sys
import time
import zmq

ctx = zmq.Context()
socket = ctx.socket(zmq.DEALER)
socket.connect(sys.argv[1])
while True:
    socket.send(b"hello world")
    print("sending msg...")
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
