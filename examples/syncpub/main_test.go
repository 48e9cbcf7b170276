package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/examples/internal/exampletest"
	"github.com/zmqchan/zmqchan/zchan"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

// TestSyncPub publishes to three of the guide's Python syncsub at once:
// every one of them must count every update. (syncsub's own test runs it
// against the guide's Python syncpub.)
func TestSyncPub(t *testing.T) {
	pubEP, syncEP := exampletest.TCP(t), exampletest.TCP(t)
	var out exampletest.Output
	pub := exampletest.Go(t, "syncpub", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-bind", pubEP, "-sync", syncEP, "-subscribers", "3", "-updates", "5000"}, &out)
	})

	py := python(t)
	var subs []*exampletest.Proc
	for range 3 {
		subs = append(subs, exampletest.Start(t, time.Minute, py, "-c", syncsubPy, pubEP, syncEP))
	}
	if err := pub.Wait(t); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if got, want := out.Lines(), []string{"Waiting for subscribers", "Broadcasting messages"}; !slices.Equal(got, want) {
		t.Errorf("syncpub printed %q, want %q", got, want)
	}
	for i, p := range subs {
		if err := p.Wait(t); err != nil {
			t.Errorf("subscriber %d: %v\n%s", i, err, p.Stderr.String())
			continue
		}
		if got := p.Stdout.Lines(); len(got) != 1 || got[0] != "Received 5000 updates" {
			t.Errorf("subscriber %d printed %q, want [Received 5000 updates]", i, got)
		}
	}
}

// TestSyncPubInterrupted stops a publisher that is still waiting for its
// subscribers: it must return promptly and report the interruption.
func TestSyncPubInterrupted(t *testing.T) {
	var out exampletest.Output
	tk := exampletest.Go(t, "syncpub", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-bind", exampletest.TCP(t), "-sync", exampletest.TCP(t)}, &out)
	})
	out.WaitFor(t, "Waiting for subscribers", 10*time.Second)
	tk.Stop()
	if err := tk.Wait(t); err == nil {
		t.Fatalf("run: no error after cancellation\n%s", out.String())
	}
}

// TestMalformedCheckIn sends a check-in of two frames, which the String
// codec cannot decode: syncpub does not answer it with a made-up reply
// (WithEmptyReplyOnCodecError is off), it fails with ErrCodec.
func TestMalformedCheckIn(t *testing.T) {
	syncEP := exampletest.TCP(t)
	var out exampletest.Output
	tk := exampletest.Go(t, "syncpub", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-bind", exampletest.TCP(t), "-sync", syncEP, "-subscribers", "1", "-updates", "1"}, &out)
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, err := zchan.Open(ctx, zchan.Req, zchan.WithConnect(syncEP), zchan.WithLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	defer req.Close()
	if err := req.Send(ctx, zchan.NewMsg("", "extra")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-tk.Done():
	case rep := <-req.In():
		t.Fatalf("malformed check-in answered with %q", rep)
	case <-ctx.Done():
		t.Fatal("syncpub neither answered nor ended")
	}
	if err := tk.Wait(t); !errors.Is(err, zchan.ErrCodec) {
		t.Fatalf("run after a malformed check-in: %v, want ErrCodec", err)
	}
}

// syncsubPy is the guide's Python syncsub, with the endpoints as
// arguments. Its one-second sleep is the guide's way of letting the
// subscription reach the publisher.
const syncsubPy = `
import sys
import time
import zmq

context = zmq.Context()
subscriber = context.socket(zmq.SUB)
subscriber.connect(sys.argv[1])
subscriber.setsockopt(zmq.SUBSCRIBE, b'')
time.sleep(1)

syncclient = context.socket(zmq.REQ)
syncclient.connect(sys.argv[2])
syncclient.send(b'')
syncclient.recv()

nbr = 0
while True:
    msg = subscriber.recv()
    if msg == b"END":
        break
    nbr += 1
print("Received %d updates" % nbr)
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
