package exampletest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
		fmt.Fprint(&o, "first line\nsecond ")
		fmt.Fprint(&o, "line\n")
	}()
	if got := o.WaitFor(t, "second", 10*time.Second); got != "second line" {
		t.Errorf("WaitFor = %q, want %q", got, "second line")
	}
	<-done
	if n := o.Count("line"); n != 2 {
		t.Errorf("Count = %d, want 2", n)
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
