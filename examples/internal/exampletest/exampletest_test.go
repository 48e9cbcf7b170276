package exampletest_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

func TestOutputWaitFor(t *testing.T) {
	var o exampletest.Output
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Each line in one call, as WaitFor's doc asks (a line written in
		// two calls can be seen half-written: a stress run saw "second ").
		fmt.Fprint(&o, "first line\n")
		fmt.Fprint(&o, "second line\n")
		fmt.Fprint(&o, "Press Enter: ")
	}()
	if got := o.WaitFor(t, "second", 10*time.Second); got != "second line" {
		t.Errorf("WaitFor = %q, want %q", got, "second line")
	}
	// A last line without its newline (a prompt) counts for WaitFor, not
	// for Count.
	if got := o.WaitFor(t, "Enter", 10*time.Second); got != "Press Enter: " {
		t.Errorf("WaitFor = %q, want the prompt", got)
	}
	<-done
	if n := o.Count("line"); n != 2 {
		t.Errorf("Count = %d, want 2", n)
	}
	if n := o.Count("Enter"); n != 0 {
		t.Errorf("Count of the prompt = %d, want 0", n)
	}
	if _, err := o.Wait("absent", 10*time.Millisecond); !errors.Is(err, exampletest.ErrWaitTimeout) {
		t.Errorf("Wait for an absent line: %v, want ErrWaitTimeout", err)
	}
}

func TestGoStop(t *testing.T) {
	tk := exampletest.Go(t, "blocker", time.Minute, func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	})
	tk.Stop()
	if err := tk.Wait(t); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait = %v, want context.Canceled", err)
	}
}

func TestStart(t *testing.T) {
	p := exampletest.Start(t, time.Minute, "sh", "-c", "echo hello; exit 3")
	err := p.Wait(t)
	if err == nil || p.ExitCode() != 3 {
		t.Errorf("Wait = %v, exit code %d; want exit code 3", err, p.ExitCode())
	}
	p.Stdout.WaitFor(t, "hello", 10*time.Second)
}

func TestEndpoints(t *testing.T) {
	if ep := exampletest.TCP(t); !strings.HasPrefix(ep, "tcp://127.0.0.1:") {
		t.Errorf("TCP = %q", ep)
	}
	if ep := exampletest.IPC(t, "x.ipc"); !strings.HasPrefix(ep, "ipc:///") || len(ep) > 100 {
		t.Errorf("IPC = %q", ep)
	}
}

func TestBuild(t *testing.T) {
	a := exampletest.Build(t, "hwserver")
	b := exampletest.Build(t, "hwserver")
	if a != b {
		t.Errorf("second Build = %q, want the first one's %q", b, a)
	}
	p := exampletest.Start(t, time.Minute, a, "-h")
	p.Wait(t) // exit status of -h is the program's business
	if !strings.Contains(p.Stderr.String(), "Usage") && !strings.Contains(p.Stderr.String(), "usage") {
		t.Errorf("hwserver -h printed no usage:\n%s", p.Stderr.String())
	}
}

// fatalTB records a Fatalf and ends the calling goroutine, as testing.T
// does, so that a test can watch the watchdog fire.
type fatalTB struct {
	testing.TB
	msg chan string // buffered 1
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg <- fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// watchdog runs wait with a fatalTB and returns what it reported, or ""
// if wait returned without failing.
func watchdog(t *testing.T, wait func(testing.TB)) string {
	t.Helper()
	f := &fatalTB{TB: t, msg: make(chan string, 1)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		wait(f)
	}()
	select {
	case <-done:
	case <-time.After(3 * exampletest.Grace):
		t.Fatalf("Wait still blocked %v after a stop it should have reported", 3*exampletest.Grace)
	}
	select {
	case m := <-f.msg:
		return m
	default:
		return ""
	}
}

// TestGoWatchdogAfterStop: a function that ignores its context after Stop
// (a program that hangs on Ctrl-C) fails the test Grace after the Stop,
// not at the end of its much longer timeout.
func TestGoWatchdogAfterStop(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	tk := exampletest.Go(t, "hang", time.Hour, func(context.Context) error {
		<-release
		return nil
	})
	defer close(release)
	tk.Stop()
	if m := watchdog(t, func(tb testing.TB) { tk.Wait(tb) }); !strings.Contains(m, "after it was stopped") {
		t.Errorf("Wait after Stop of a hanging function reported %q, want the watchdog", m)
	}
}

// TestStartWatchdogAfterSignal: a process that ignores SIGTERM fails the
// test Grace after the signal, not at the end of its timeout.
func TestStartWatchdogAfterSignal(t *testing.T) {
	t.Parallel()
	// The shell says it is ready once the trap is set; exec keeps the
	// ignored disposition, so sleep ignores SIGTERM too.
	p := exampletest.Start(t, time.Hour, "sh", "-c", `trap "" TERM; echo ready; exec sleep 3600`)
	p.Stdout.WaitFor(t, "ready", 30*time.Second)
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if m := watchdog(t, func(tb testing.TB) { p.Wait(tb) }); !strings.Contains(m, "after it was signalled") {
		t.Errorf("Wait after SIGTERM to a process that ignores it reported %q, want the watchdog", m)
	}
}
