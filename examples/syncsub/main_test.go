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

// TestSyncSub runs two subscribers against the guide's Python syncpub: each
// must check in only once subscribed, so that it counts every update.
func TestSyncSub(t *testing.T) {
	pubEP, syncEP := exampletest.TCP(t), exampletest.TCP(t)
	const subs, updates = 2, 5000
	pub := exampletest.Start(t, time.Minute, python(t), "-c", syncpubPy, pubEP, syncEP, "2", "5000")

	var outs [subs]exampletest.Output
	var tasks [subs]*exampletest.Task
	for i := range subs {
		tasks[i] = exampletest.Go(t, "syncsub", time.Minute, func(ctx context.Context) error {
			return run(ctx, []string{"-connect", pubEP, "-sync", syncEP}, &outs[i])
		})
	}
	for i, tk := range tasks {
		if err := tk.Wait(t); err != nil {
			t.Fatalf("syncsub %d: %v", i, err)
		}
		if got := outs[i].Lines(); len(got) != 1 || got[0] != "Received 5000 updates" {
			t.Errorf("syncsub %d printed %q, want [Received 5000 updates]", i, got)
		}
	}
	if err := pub.Wait(t); err != nil {
		t.Fatalf("python syncpub: %v\n%s", err, pub.Stderr.String())
	}
}

// TestSyncSubInterrupted stops a subscriber whose publisher never answers:
// it must return promptly with the interruption, not hang.
func TestSyncSubInterrupted(t *testing.T) {
	var out exampletest.Output
	tk := exampletest.Go(t, "syncsub", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-connect", exampletest.TCP(t), "-sync", exampletest.TCP(t)}, &out)
	})
	tk.Stop()
	if err := tk.Wait(t); err == nil {
		t.Fatalf("run: no error after cancellation\n%s", out.String())
	}
}

// syncpubPy is the guide's Python syncpub with endpoints, subscriber count
// and update count as arguments.
const syncpubPy = `
import sys
import zmq

context = zmq.Context()
publisher = context.socket(zmq.PUB)
publisher.sndhwm = 1100000
publisher.bind(sys.argv[1])
syncservice = context.socket(zmq.REP)
syncservice.bind(sys.argv[2])

expected = int(sys.argv[3])
subscribers = 0
while subscribers < expected:
    msg = syncservice.recv()
    syncservice.send(b'')
    subscribers += 1
    print("+1 subscriber (%d/%d)" % (subscribers, expected))

for i in range(int(sys.argv[4])):
    publisher.send(b"Rhubarb")
publisher.send(b"END")
publisher.close()
syncservice.close()
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
