package zchan_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/zchan"
)

// python finds an interpreter that can import zmq: $PYTHON if set, else
// python3 on PATH, else /usr/bin/python3 (where Debian's python3-zmq
// installs, which a python3 of pyenv or a virtualenv earlier on PATH does
// not see).
var python = sync.OnceValues(func() (string, error) {
	cands := []string{"python3", "/usr/bin/python3"}
	if p := os.Getenv("PYTHON"); p != "" {
		cands = []string{p}
	}
	var tried []string
	for _, p := range cands {
		out, err := exec.Command(p, "-c", "import zmq").CombinedOutput()
		if err == nil {
			return p, nil
		}
		tried = append(tried, fmt.Sprintf("%s: %v %s", p, err, bytes.TrimSpace(out)))
	}
	return "", fmt.Errorf("no python3 with the zmq module (tried %q); run scripts/deps.sh --test to install python3-zmq", tried)
})

// peer is a pyzmq process running testdata/peer.py.
type peer struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr bytes.Buffer
	exited chan struct{} // closed when the process has exited; err is set
	err    error
}

// startPeer runs testdata/peer.py mode endpoint n as a child process. It
// fails the test (it does not skip it) when no python3 with zmq is there.
// A peer still running when the test ends is killed.
func startPeer(t *testing.T, mode, endpoint string, n int) *peer {
	t.Helper()
	py, err := python()
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{exited: make(chan struct{})}
	p.cmd = exec.Command(py, "testdata/peer.py", mode, endpoint, strconv.Itoa(n))
	p.cmd.Stderr = &p.stderr
	p.cmd.WaitDelay = time.Second
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", py, err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		if !testutil.Done(p.exited, 0) {
			p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// wait waits for the peer to exit and fails the test if it did not exit 0.
func (p *peer) wait(t *testing.T) {
	t.Helper()
	if !testutil.Done(p.exited, watchdog) {
		t.Fatalf("python peer still running after %v", watchdog)
	}
	if p.err != nil {
		t.Fatalf("python peer: %v\n%s", p.err, p.stderr.String())
	}
}

// numbered is message i of the interop streams, as testdata/peer.py makes
// and checks it.
func numbered(i int) zchan.Msg {
	return zchan.Msg{[]byte("seq"), []byte(strconv.Itoa(i)), {}, bytes.Repeat([]byte("x"), i)}
}

// TestInteropPython talks to a pyzmq peer (another ZeroMQ binding, in
// another process) over tcp: python PUSH to zchan PULL and zchan PUSH to
// python PULL with numbered multipart messages (an empty frame among
// them), zchan REQ to python REP, and zchan DEALER to python ROUTER. Every
// message must arrive once, in order, frame for frame.
func TestInteropPython(t *testing.T) {
	const n = 300
	tcp := testutil.Transport{Name: "tcp", Bind: testutil.TCP}
	open := func(t *testing.T, typ zchan.Type) *zchan.Socket[zchan.Msg] {
		return open(t, testContext(t, time.Minute), typ, zchan.Frames, zchan.WithBind(tcp.Bind(t)))
	}
	t.Run("python PUSH to PULL", func(t *testing.T) {
		pull := open(t, zchan.Pull)
		p := startPeer(t, "push", pull.Endpoints()[0], n)
		for i := range n {
			if m := testutil.MustRecv(t, pull.In(), watchdog, fmt.Sprintf("message %d", i)); !equalMsg(m, numbered(i)) {
				t.Fatalf("message %d: got %q", i, m)
			}
		}
		p.wait(t)
	})
	t.Run("PUSH to python PULL", func(t *testing.T) {
		push := open(t, zchan.Push)
		p := startPeer(t, "pull", push.Endpoints()[0], n)
		ctx := testContext(t, watchdog)
		if err := testutil.MustRecv(t, sendAll(ctx, push, numbered, n), watchdog, "sender"); err != nil {
			t.Fatal(err)
		}
		p.wait(t)
	})
	t.Run("REQ to python REP", func(t *testing.T) {
		req := open(t, zchan.Req)
		p := startPeer(t, "rep", req.Endpoints()[0], n)
		ctx := testContext(t, watchdog)
		for i := range n {
			if err := req.Send(ctx, numbered(i)); err != nil {
				t.Fatal(err)
			}
			m := testutil.MustRecv(t, req.In(), watchdog, fmt.Sprintf("reply %d", i))
			if want := append(zchan.NewMsg("re"), numbered(i)...); !equalMsg(m, want) {
				t.Fatalf("reply %d: got %q", i, m)
			}
		}
		p.wait(t)
	})
	t.Run("DEALER to python ROUTER", func(t *testing.T) {
		dealer := open(t, zchan.Dealer)
		p := startPeer(t, "router", dealer.Endpoints()[0], n)
		ctx := testContext(t, watchdog)
		errc := sendAll(ctx, dealer, numbered, n)
		for i := range n {
			m := testutil.MustRecv(t, dealer.In(), watchdog, fmt.Sprintf("echo %d", i))
			if want := append(zchan.NewMsg("echo"), numbered(i)...); !equalMsg(m, want) {
				t.Fatalf("echo %d: got %q", i, m)
			}
		}
		if err := testutil.MustRecv(t, errc, watchdog, "sender"); err != nil {
			t.Fatal(err)
		}
		p.wait(t)
	})
}
