package reqrep_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/reqrep"
	"github.com/zmqchan/zmqchan/zchan"
)

// python finds an interpreter that can import zmq: $PYTHON if set, else
// python3 on PATH, else /usr/bin/python3 (where Debian's python3-zmq
// installs). It is the lookup of zchan's interop test.
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

// runPython runs script with args under the watchdog and returns its
// stdout; the process is killed if the test ends first.
func startPython(t *testing.T, script string, args ...string) (wait func() (string, error)) {
	t.Helper()
	py, err := python()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*watchdog)
	cmd := exec.CommandContext(ctx, py, append([]string{"-c", script}, args...)...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	var once sync.Once
	var werr error
	wait = func() (string, error) {
		once.Do(func() {
			werr = cmd.Wait()
			cancel()
			if werr != nil {
				werr = fmt.Errorf("%v: %s", werr, stderr.String())
			}
		})
		return out.String(), werr
	}
	t.Cleanup(func() { cancel(); wait() })
	return wait
}

// lpclient is the guide's Lazy Pirate client (lpclient.py), in pyzmq: it
// sends sequence numbers on a REQ socket, expects each one back, and on a
// timeout closes the socket, reopens it and resends, up to 3 times.
const lpclient = `
import sys, zmq
endpoint, n, timeout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ctx = zmq.Context()
def connect():
    s = ctx.socket(zmq.REQ); s.setsockopt(zmq.LINGER, 0); s.connect(endpoint); return s
client = connect()
retries_used = 0
for seq in range(1, n + 1):
    request = str(seq).encode()
    client.send(request)
    retries_left = 3
    while True:
        if client.poll(timeout) & zmq.POLLIN:
            reply = client.recv()
            if int(reply) == seq:
                break
            print("malformed reply from server: %r to %d" % (reply, seq)); sys.exit(1)
        retries_left -= 1
        retries_used += 1
        client.close()
        if retries_left == 0:
            print("server seems to be offline, abandoning"); sys.exit(1)
        client = connect()
        client.send(request)
print("ok %d retries %d" % (n, retries_used))
client.close(); ctx.term()
`

// TestPythonLazyPirateClient: the guide's Lazy Pirate client in pyzmq
// against a Go ROUTER server that, like lpserver, is slow now and then:
// the first time it sees request 3, 13, 23, ..., it works past the
// client's timeout. The client retries on a new socket and gets the right
// answer every time; the slow replies go to closed sockets and are
// counted as unroutable (or lost in flight), never delivered wrongly.
func TestPythonLazyPirateClient(t *testing.T) {
	zc := newContext(t)
	var mu sync.Mutex
	seen := map[string]bool{}
	srv := server(t, zc, testutil.Transports()[2], func(ctx context.Context, req string) (string, error) {
		mu.Lock()
		first := !seen[req]
		seen[req] = true
		mu.Unlock()
		if first && strings.HasSuffix(req, "3") {
			if err := wait(ctx, time.Second); err != nil {
				return "", err
			}
		}
		return req, nil
	}, reqrep.WithConcurrency(4))
	out, err := startPython(t, lpclient, strings.Replace(srv.Endpoints()[0], "0.0.0.0", "127.0.0.1", 1), "30", "300")()
	if err != nil {
		t.Fatalf("lpclient: %v\n%s", err, out)
	}
	if strings.TrimSpace(out) != "ok 30 retries 3" {
		t.Errorf("lpclient: %q, want 30 answered after 3 retries", out)
	}
	srv.Shutdown(testContext(t, watchdog))
	st := srv.Stats()
	checkServer(t, st)
	t.Logf("server %+v", st)
}

// slowREP is a pyzmq REP server: it answers "reply to " + the request, two
// seconds late for request "1"; it answers n requests and exits.
const slowREP = `
import sys, time, zmq
ctx = zmq.Context()
s = ctx.socket(zmq.REP)
port = s.bind_to_random_port("tcp://127.0.0.1")
print(port, flush=True)
for _ in range(int(sys.argv[1])):
    req = s.recv()
    if req == b"1":
        time.sleep(2)
    s.send(b"reply to " + req)
s.close(linger=1000); ctx.term()
`

// TestGoClientAgainstPythonREP: the Go client times out request 1 (the
// pyzmq REP server answers it after 2s), then sends request 2 and gets
// reply 2, never reply 1: a DEALER counts reply 1 as stale, a REQ never
// sees it.
func TestGoClientAgainstPythonREP(t *testing.T) {
	for _, typ := range []zchan.Type{zchan.Dealer, zchan.Req} {
		t.Run(typ.String(), func(t *testing.T) {
			py, err := python()
			if err != nil {
				t.Fatal(err)
			}
			ctx := testContext(t, 2*watchdog)
			cmd := exec.CommandContext(ctx, py, "-c", slowREP, "3")
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var exited atomic.Bool
			defer func() {
				if !exited.Load() {
					cmd.Process.Kill()
					cmd.Wait()
				}
			}()
			var port int
			if _, err := fmt.Fscan(stdout, &port); err != nil {
				t.Fatalf("no port from the python server: %v %s", err, stderr.String())
			}
			zc := newContext(t)
			c := client(t, zc, typ, []string{fmt.Sprintf("tcp://127.0.0.1:%d", port)})
			ctx1, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			defer cancel()
			if _, err := c.Request(ctx1, "1"); !errors.Is(err, reqrep.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("request 1: %v, want ErrTimeout", err)
			}
			for _, req := range []string{"2", "3"} {
				if rep, err := c.Request(ctx, req); err != nil || rep != "reply to "+req {
					t.Fatalf("request %s: %q, %v", req, rep, err)
				}
			}
			st := c.Stats()
			if typ == zchan.Dealer && st.StaleReplies != 1 {
				t.Errorf("DEALER: %d stale replies, want 1 (reply 1 arrives before reply 2)", st.StaleReplies)
			}
			if typ == zchan.Req && st.Reopens != 1 {
				t.Errorf("REQ: %d reopens, want 1", st.Reopens)
			}
			err = cmd.Wait()
			exited.Store(true)
			if err != nil {
				t.Fatalf("python REP: %v %s", err, stderr.String())
			}
		})
	}
}
