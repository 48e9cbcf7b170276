// Package exampletest is the shared test harness of the programs under
// examples/. It runs a program's run function in process, or a peer as a
// child process, always under a watchdog, and collects what they print so a
// test can wait for a line.
//
// A test package that uses it calls Main from its TestMain:
//
//	func TestMain(m *testing.M) { exampletest.Main(m) }
//
// Main runs the tests under goleak.VerifyTestMain and removes the binaries
// that Build made.
//
// The pieces:
//
//   - Build compiles examples/NAME once per test binary (go build; the build
//     cache makes later builds fast) and returns the binary's path.
//   - TCP returns a free "tcp://127.0.0.1:PORT" endpoint and IPC a short
//     "ipc://" path in a directory removed when the test ends, so tests never
//     use the guide's fixed ports and can run in parallel with other packages.
//   - Go runs a function such as a program's run(ctx, args, out) on a new
//     goroutine with a context that ends after a timeout or at Stop (as
//     Ctrl-C would); Task.Wait fails the test if it has not returned Grace
//     after that (the watchdog, which is also the check that a stopped
//     program does not hang).
//   - Start runs a child process (a built peer, or python3) with its output
//     collected; it is killed at its timeout, Proc.Wait fails the test if it
//     has not exited Grace after a Signal or after the timeout, and the
//     test's cleanup kills it if the test forgot.
//   - Output is an io.Writer, safe for concurrent use, that keeps what was
//     written line by line; WaitFor blocks until a line contains a string.
//
// Everything here is bounded: every wait has a timeout and fails the test
// with the output collected so far when it passes. Nothing sleeps to
// synchronise.
package exampletest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Module is the import path of the module the examples live in.
const Module = "github.com/zmqchan/zmqchan"

// Grace is how long the watchdogs of Go and Start wait, after a function's
// context has ended (Stop, or the timeout given to Go) or after a process
// was sent a signal (Signal) or reached its timeout, for it to return
// before they fail the test. A program that honours its context or its
// signal returns well within it: closing a socket takes at most its 1s
// linger, and the examples bound the zmq context's termination.
const Grace = 5 * time.Second

var (
	buildMu  sync.Mutex
	buildDir string
	builds   = map[string]*buildResult{}
)

type buildResult struct {
	once sync.Once
	path string
	err  error
}

// Main runs the package's tests under goleak.VerifyTestMain, then removes
// the binaries Build made, and exits with the tests' exit code. Call it from
// TestMain.
func Main(m *testing.M, opts ...goleak.Option) {
	opts = append(opts, goleak.Cleanup(func(code int) {
		buildMu.Lock()
		if buildDir != "" {
			os.RemoveAll(buildDir)
		}
		buildMu.Unlock()
		os.Exit(code)
	}))
	goleak.VerifyTestMain(m, opts...)
}

// Build compiles the program examples/name (for example "hwserver") once
// per test binary and returns the path of the binary. Later calls with the
// same name return the same path. A build failure fails the test with the
// compiler's output. The binary is built without -race, so it starts fast;
// its own tests run it in process under -race.
func Build(t testing.TB, name string) string {
	t.Helper()
	buildMu.Lock()
	if buildDir == "" {
		d, err := os.MkdirTemp("", "exampletest-")
		if err != nil {
			buildMu.Unlock()
			t.Fatalf("exampletest: build dir: %v", err)
		}
		buildDir = d
	}
	dir := buildDir
	r := builds[name]
	if r == nil {
		r = &buildResult{}
		builds[name] = r
	}
	buildMu.Unlock()

	r.once.Do(func() {
		out := filepath.Join(dir, filepath.Base(name))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", out, Module+"/examples/"+name)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
		if b, err := cmd.CombinedOutput(); err != nil {
			r.err = fmt.Errorf("go build %s: %w\n%s", name, err, b)
			return
		}
		r.path = out
	})
	if r.err != nil {
		t.Fatalf("exampletest: %v", r.err)
	}
	return r.path
}

// TCP returns a tcp endpoint on the loopback interface with a port that
// was free a moment ago, such as "tcp://127.0.0.1:40123". The same string
// serves to bind and to connect. Another process may take the port in
// between; that is rare enough on a test machine to be acceptable, and a
// bind then fails loudly with an address-in-use error.
func TCP(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("exampletest: free port: %v", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatalf("exampletest: free port: %v", err)
	}
	return "tcp://" + addr
}

// IPC returns an "ipc://" endpoint named name in a fresh directory that is
// removed when the test ends. The directory is short (under os.TempDir),
// because an ipc path is limited to about 100 bytes.
func IPC(t testing.TB, name string) string {
	t.Helper()
	d, err := os.MkdirTemp("", "ex")
	if err != nil {
		t.Fatalf("exampletest: ipc dir: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return "ipc://" + filepath.Join(d, name)
}

// Task is a function running on its own goroutine, started by Go.
type Task struct {
	name   string
	ctx    context.Context // fn's; ends at Stop, at the timeout or at cleanup
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// Go runs fn on a new goroutine with a context that is cancelled after
// timeout, when Stop is called, or when the test ends. fn is typically a
// program's run function:
//
//	task := exampletest.Go(t, "hwserver", 10*time.Second, func(ctx context.Context) error {
//		return run(ctx, []string{"-bind", ep}, out)
//	})
//
// The test's cleanup stops the task and waits for it (at most Grace).
func Go(t testing.TB, name string, timeout time.Duration, fn func(ctx context.Context) error) *Task {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	tk := &Task{name: name, ctx: ctx, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(tk.done)
		tk.err = fn(ctx)
	}()
	t.Cleanup(func() {
		tk.cancel()
		select {
		case <-tk.done:
		case <-time.After(Grace):
			t.Errorf("exampletest: %s did not return %v after cancellation", name, Grace)
		}
	})
	return tk
}

// Stop cancels the task's context, as Ctrl-C would cancel a program's
// signal context. It does not wait; call Wait for that.
func (tk *Task) Stop() { tk.cancel() }

// Done returns a channel closed when the function has returned.
func (tk *Task) Done() <-chan struct{} { return tk.done }

// Wait waits for the function to return and returns its error. If it has
// not returned Grace after its context ended (Stop, as Ctrl-C would, or
// the timeout), Wait fails the test with t.Fatalf: that is the watchdog,
// and the check that a stopped program does not hang.
func (tk *Task) Wait(t testing.TB) error {
	t.Helper()
	select {
	case <-tk.done:
		return tk.err
	case <-tk.ctx.Done():
	}
	watchdog := time.NewTimer(Grace)
	defer watchdog.Stop()
	select {
	case <-tk.done:
		return tk.err
	case <-watchdog.C:
		t.Fatalf("exampletest: watchdog: %s still running %v after it was stopped (%v)", tk.name, Grace, context.Cause(tk.ctx))
		return nil
	}
}

// Proc is a child process started by Start.
type Proc struct {
	// Stdout and Stderr collect what the process writes.
	Stdout, Stderr *Output

	name      string
	cmd       *exec.Cmd
	timeout   time.Duration
	done      chan struct{}
	err       error
	sigOnce   sync.Once
	signalled chan struct{} // closed by the first Signal
}

// Start starts the program path with args as a child process whose output
// goes to p.Stdout and p.Stderr. The process is killed after timeout; the
// test's cleanup kills it if it is still running, waits for it, and logs
// its stderr if the test failed.
func Start(t testing.TB, timeout time.Duration, path string, args ...string) *Proc {
	t.Helper()
	return StartInput(t, timeout, nil, path, args...)
}

// StartInput is Start with stdin read from input (nil: no input). Input
// that is not an *os.File is copied to the process by os/exec, and the
// process is then not seen to exit until input ends: for input that the
// test writes while the process runs, pass the read end of an os.Pipe.
func StartInput(t testing.TB, timeout time.Duration, input io.Reader, path string, args ...string) *Proc {
	t.Helper()
	p := &Proc{
		Stdout:    &Output{},
		Stderr:    &Output{},
		name:      filepath.Base(path),
		timeout:   timeout,
		done:      make(chan struct{}),
		signalled: make(chan struct{}),
	}
	p.cmd = exec.Command(path, args...)
	p.cmd.Stdout = p.Stdout
	p.cmd.Stderr = p.Stderr
	p.cmd.Stdin = input
	p.cmd.Env = append(os.Environ(), "PYTHONUNBUFFERED=1")
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("exampletest: start %s: %v", p.name, err)
	}
	kill := time.AfterFunc(timeout, func() { p.cmd.Process.Kill() })
	go func() {
		defer close(p.done)
		p.err = p.cmd.Wait()
		kill.Stop()
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			select {
			case <-p.done:
			case <-time.After(Grace):
				t.Errorf("exampletest: %s not reaped %v after kill (is its stdin still open?)", p.name, Grace)
			}
		}
		if t.Failed() {
			t.Logf("%s stdout:\n%s", p.name, p.Stdout.String())
			t.Logf("%s stderr:\n%s", p.name, p.Stderr.String())
		}
	})
	return p
}

// Signal sends sig to the process. From then on Wait gives the process
// Grace to exit.
func (p *Proc) Signal(sig os.Signal) error {
	err := p.cmd.Process.Signal(sig)
	if err == nil {
		p.sigOnce.Do(func() { close(p.signalled) })
	}
	return err
}

// Done returns a channel closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Wait waits for the process to exit and returns its exit error (nil for
// exit status 0). If it has not exited Grace after it was sent a signal
// (Signal), or Grace after its timeout (it is killed at the timeout), Wait
// fails the test: that is the watchdog, and the check that a program
// stops promptly on Ctrl-C or SIGTERM.
func (p *Proc) Wait(t testing.TB) error {
	t.Helper()
	timeout := time.NewTimer(p.timeout + Grace)
	defer timeout.Stop()
	var afterSignal <-chan time.Time
	signalled := p.signalled
	for {
		select {
		case <-p.done:
			return p.err
		case <-signalled:
			signalled = nil
			grace := time.NewTimer(Grace)
			defer grace.Stop()
			afterSignal = grace.C
		case <-afterSignal:
			t.Fatalf("exampletest: watchdog: %s still running %v after it was signalled", p.name, Grace)
			return nil
		case <-timeout.C:
			t.Fatalf("exampletest: watchdog: %s still running %v after it was started", p.name, p.timeout+Grace)
			return nil
		}
	}
}

// ExitCode returns the process's exit code once it has exited, -1 if it
// was killed by a signal or has not exited.
func (p *Proc) ExitCode() int {
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	default:
		return -1
	}
}

// Output collects what a program writes and lets a test wait for a line.
// It is safe for concurrent use. Its zero value is an empty Output ready to
// use.
type Output struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed and replaced on every write
}

// Write appends p. It never fails.
func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf.Write(p)
	if o.changed != nil {
		close(o.changed)
		o.changed = nil
	}
	return len(p), nil
}

// String returns everything written so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// Lines returns the complete lines written so far (a last line without a
// newline is left out until its newline arrives).
func (o *Output) Lines() []string {
	o.mu.Lock()
	s := o.buf.String()
	o.mu.Unlock()
	i := strings.LastIndexByte(s, '\n')
	if i < 0 {
		return nil
	}
	return strings.Split(s[:i], "\n")
}

// Count returns how many complete lines contain substr.
func (o *Output) Count(substr string) int {
	n := 0
	for _, l := range o.Lines() {
		if strings.Contains(l, substr) {
			n++
		}
	}
	return n
}

// ErrWaitTimeout reports that WaitFor gave up.
var ErrWaitTimeout = errors.New("exampletest: timed out waiting for output")

// WaitFor waits until a line containing substr has been written, at most
// timeout, and returns the first such line. The last line counts before its
// newline arrives, so that a prompt such as "Press Enter: " can be waited
// for; a program that writes a line in one call (fmt.Fprintf) is never seen
// half-written. On timeout it fails
// the test with what was written so far.
func (o *Output) WaitFor(t testing.TB, substr string, timeout time.Duration) string {
	t.Helper()
	l, err := o.Wait(substr, timeout)
	if err != nil {
		t.Fatalf("%v: want a line with %q; got:\n%s", err, substr, o.String())
	}
	return l
}

// Wait is WaitFor without a test: it returns ErrWaitTimeout instead of
// failing one, for use on goroutines other than the test's.
func (o *Output) Wait(substr string, timeout time.Duration) (string, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		o.mu.Lock()
		ch := o.changed
		if ch == nil {
			ch = make(chan struct{})
			o.changed = ch
		}
		o.mu.Unlock()
		o.mu.Lock()
		all := o.buf.String()
		o.mu.Unlock()
		for l := range strings.SplitSeq(all, "\n") {
			if strings.Contains(l, substr) {
				return l, nil
			}
		}
		select {
		case <-ch:
		case <-deadline.C:
			return "", ErrWaitTimeout
		}
	}
}
