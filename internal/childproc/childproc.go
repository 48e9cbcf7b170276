// Package childproc re-executes the running test binary as a child
// process, so that a test can send real signals to a real service and
// watch it exit.
//
// A test package registers its children in TestMain, before anything else:
//
//	func TestMain(m *testing.M) {
//		childproc.Main(map[string]func() int{"service": serviceMain})
//		goleak.VerifyTestMain(m)
//	}
//
// In the parent Main returns at once; in a child it runs the named
// function and exits the process with its result. A test then starts a
// child with Start, reads the lines it prints on stdout with Expect, sends
// it signals, and collects its exit with Wait. Every wait is bounded, and
// a child still running when its test ends is killed and reaped.
package childproc

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// envName carries the child's name in its environment.
const envName = "ZMQCHAN_CHILDPROC"

// Main runs the child named in the environment and exits with its return
// value; in the parent process it returns at once.
func Main(children map[string]func() int) {
	name, ok := os.LookupEnv(envName)
	if !ok {
		return
	}
	f, ok := children[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "childproc: unknown child %q\n", name)
		os.Exit(2)
	}
	os.Exit(f())
}

// Child is a running child process.
type Child struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer

	mu     sync.Mutex
	lines  []string
	next   int
	notify chan struct{} // closed and replaced when a line arrives or stdout ends
	eof    bool

	exited chan struct{} // closed when the process has been reaped
	state  *os.ProcessState
	err    error
}

// Start starts the test binary as the child name, with env ("K=V") added
// to the environment. The child is killed and reaped when t ends, if it is
// still running.
func Start(t testing.TB, name string, env ...string) *Child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), envName+"="+name), env...)
	c := &Child{cmd: cmd, notify: make(chan struct{}), exited: make(chan struct{})}
	cmd.Stderr = &c.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("childproc: stdout: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("childproc: start %s: %v", name, err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.mu.Lock()
			c.lines = append(c.lines, sc.Text())
			close(c.notify)
			c.notify = make(chan struct{})
			c.mu.Unlock()
		}
		c.mu.Lock()
		c.eof = true
		close(c.notify)
		c.mu.Unlock()
		// exec: Wait must follow the last read from the pipe.
		c.err = cmd.Wait()
		c.state = cmd.ProcessState
		close(c.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-c.exited:
		default:
			cmd.Process.Kill()
			<-c.exited
		}
	})
	return c
}

// Pid returns the child's process id.
func (c *Child) Pid() int { return c.cmd.Process.Pid }

// Signal sends sig to the child.
func (c *Child) Signal(sig syscall.Signal) error { return syscall.Kill(c.Pid(), sig) }

// Expect returns the next line the child prints that starts with prefix,
// skipping others, within d. It fails if stdout ends or d passes first.
func (c *Child) Expect(prefix string, d time.Duration) (string, error) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		c.mu.Lock()
		for c.next < len(c.lines) {
			l := c.lines[c.next]
			c.next++
			if strings.HasPrefix(l, prefix) {
				c.mu.Unlock()
				return l, nil
			}
		}
		eof, notify := c.eof, c.notify
		c.mu.Unlock()
		if eof {
			return "", fmt.Errorf("childproc: no line %q before exit; stderr:\n%s", prefix, c.Stderr())
		}
		select {
		case <-notify:
		case <-timer.C:
			return "", fmt.Errorf("childproc: no line %q within %v", prefix, d)
		}
	}
}

// Wait waits up to d for the child to exit and returns its state. If d
// passes first, it kills the child, reaps it and returns an error.
func (c *Child) Wait(d time.Duration) (*os.ProcessState, error) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-c.exited:
		return c.state, nil
	case <-timer.C:
		c.cmd.Process.Kill()
		<-c.exited
		return c.state, fmt.Errorf("childproc: child still running after %v, killed; stderr:\n%s", d, c.Stderr())
	}
}

// Exited returns a channel closed when the child has exited and been
// reaped.
func (c *Child) Exited() <-chan struct{} { return c.exited }

// Stderr returns what the child wrote on stderr so far; complete once it
// has exited.
func (c *Child) Stderr() string {
	select {
	case <-c.exited:
		return c.stderr.String()
	default:
		return "(still running)"
	}
}
