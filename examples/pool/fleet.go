package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/zmqchan/zmqchan/pipeline"
)

// Result is a worker's answer to task n: n and its square, and the name
// of the Go worker process that computed it. The pyzmq worker answers
// {"N": n, "Sq": n*n} (pool_worker.py), which decodes with Worker empty.
type Result struct {
	N      int
	Sq     int
	Worker string `json:"W,omitempty"`
}

// square is the workers' function: n*n after work of simulated work (a
// timer, which stands for a real computation and, unlike one, does not
// depend on how busy the machine's cores are). It honours ctx, so a
// worker told to stop does not finish the task first.
func square(work time.Duration, worker string) pipeline.Stage[int, Result] {
	return func(ctx context.Context, n int) (Result, error) {
		if work > 0 {
			t := time.NewTimer(work)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
				return Result{}, context.Cause(ctx)
			}
		}
		return Result{N: n, Sq: n * n, Worker: worker}, nil
	}
}

// worker is run -worker ENDPOINT: one Paranoid Pirate worker of the demo's
// pool, in a process of its own. It stops on the pool's KILL (Work returns
// nil), or on SIGINT or SIGTERM (it says goodbye first).
func worker(ctx context.Context, endpoint, name string, work time.Duration) error {
	_, err := pipeline.Work(ctx, square(work, name), endpoint, pipeline.WithName(name))
	if err != nil && ctx.Err() != nil {
		return nil // stopped by a signal: Work said goodbye to the pool
	}
	return err
}

// proc is one worker process.
type proc struct {
	name string // as in Result.Worker; the pool registers a Go worker as name + ".0"
	kind string // "Go" or "pyzmq"
	cmd  *exec.Cmd

	exited chan struct{} // closed once the process has been reaped
	err    error         // cmd.Wait's, once exited is closed
	killed atomic.Bool   // the demo sent it SIGKILL
}

// fleet owns the worker processes: it starts them and reaps every one.
type fleet struct {
	procs []*proc
	done  chan struct{} // closed once every process has been reaped
}

// startFleet starts every process of ps, each in a process group of its
// own (so that Ctrl-C in the terminal reaches the demo only, and the
// workers stop on the pool's KILL, in their turn) and with SIGKILL as its
// parent-death signal (so that a demo killed outright leaves no worker
// behind). The parent-death signal fires when the thread that started the
// child ends, not the process, so they are started from a goroutine
// locked to its thread until all of them have been reaped. If one cannot
// be started, those already started are killed and reaped.
func startFleet(ps []*proc) (*fleet, error) {
	f := &fleet{done: make(chan struct{})}
	started := make(chan error, 1)
	go func() { // owned: done is closed once every process is reaped
		defer close(f.done)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var err error
		for _, p := range ps {
			p.exited = make(chan struct{})
			p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
			if err = p.cmd.Start(); err != nil {
				err = fmt.Errorf("start %s worker %s: %w", p.kind, p.name, err)
				break
			}
			f.procs = append(f.procs, p)
			go func() { // owned: waited for through exited, below
				p.err = p.cmd.Wait()
				close(p.exited)
			}()
		}
		if err != nil {
			for _, p := range f.procs {
				p.cmd.Process.Kill()
			}
		}
		started <- err
		for _, p := range f.procs {
			<-p.exited
		}
	}()
	if err := <-started; err != nil {
		<-f.done
		return nil, err
	}
	return f, nil
}

// kill sends SIGKILL to p, as a crash would end it.
func (f *fleet) kill(p *proc) error {
	p.killed.Store(true)
	return p.cmd.Process.Kill()
}

// stop waits up to bound for every process to exit (they do on the pool's
// KILL), then kills those still running, and returns once all are reaped,
// with the names of those it had to kill.
func (f *fleet) stop(bound time.Duration) []string {
	t := time.NewTimer(bound)
	defer t.Stop()
	expired := false
	var forced []string
	for _, p := range f.procs {
		if !expired {
			select {
			case <-p.exited:
				continue
			case <-t.C:
				expired = true
			}
		}
		select {
		case <-p.exited:
		default:
			forced = append(forced, p.name)
			p.cmd.Process.Kill()
		}
	}
	<-f.done // every process reaped, the killed ones too
	return forced
}

// how says how p ended, once it has.
func (p *proc) how() string {
	var ee *exec.ExitError
	switch {
	case p.killed.Load():
		return "killed by the demo (SIGKILL)"
	case p.err == nil:
		return "exited 0 on KILL"
	case errors.As(p.err, &ee):
		return "exited: " + ee.ProcessState.String()
	default:
		return "exited: " + p.err.Error()
	}
}

// findPython returns a python3 that can import zmq, or "". With "auto" it
// looks where internal/testutil does: $PYTHON3, python3 on the PATH, then
// /usr/bin/python3 (Debian's python3-zmq, which a python3 earlier on the
// PATH, such as pyenv's, does not see). "off" is none; anything else is
// the one to use.
func findPython(which string) (string, error) {
	candidates := []string{which}
	switch which {
	case "off":
		return "", nil
	case "auto":
		candidates = []string{os.Getenv("PYTHON3"), "python3", "/usr/bin/python3"}
	}
	for _, name := range candidates {
		if name == "" {
			continue
		}
		p, err := exec.LookPath(name)
		if err == nil && exec.Command(p, "-c", "import zmq").Run() == nil {
			return p, nil
		}
	}
	if which != "auto" {
		return "", fmt.Errorf("-python %s: cannot import zmq", which)
	}
	return "", nil
}
