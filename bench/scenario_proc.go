package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"time"
)

// idlePairs PUSH/PULL pairs make the idle scenario's 100 sockets.
const idlePairs = 50

// runIdle: idlePairs connected PUSH/PULL pairs, each socket on its own
// goroutine, each pair having passed one message; then nothing happens
// for c.idle while the process's CPU time is measured. Each PULL sits in
// Recv, as a consumer would. A last message per pair ends them.
func runIdle(c *Case, v *Variant, env Env, eps *endpoints) (result, error) {
	r := newRoles(v, env, c.idle+runTimeout(c))
	baseThreads, baseFDs := threads(), fds()
	stop := make(chan struct{})
	var connected sync.WaitGroup
	connected.Add(idlePairs)
	allConnected := make(chan struct{})
	go func() { connected.Wait(); close(allConnected) }()
	for p := 0; p < idlePairs; p++ {
		ep, err := eps.next(c.Transport)
		if err != nil {
			r.fail(err)
			break
		}
		bound, gone := make(chan struct{}), make(chan struct{})
		r.spawn(fmt.Sprintf("pull %d", p), func() error {
			s, err := env.Open(Pull, ep, true)
			if err != nil {
				return err
			}
			defer s.Close()
			close(bound)
			for i := 0; i < 2; i++ {
				m, err := s.Recv()
				if err != nil {
					return err
				}
				if err := check(m, c.Size, uint32(p), uint64(i)); err != nil {
					return err
				}
				if i == 0 {
					connected.Done()
				}
			}
			close(gone)
			return nil
		})
		r.spawn(fmt.Sprintf("push %d", p), func() error {
			if !r.gate(bound) {
				return nil
			}
			s, err := env.Open(Push, ep, false)
			if err != nil {
				return err
			}
			defer s.Close()
			ring := r.newRing(c.Size, uint32(p))
			if err := s.Send(ring.next(0)); err != nil {
				return err
			}
			if !r.gate(stop) {
				return nil
			}
			if err := s.Send(ring.next(1)); err != nil {
				return err
			}
			r.gate(gone)
			return nil
		})
	}
	if err := r.await(allConnected); err != nil {
		return result{}, r.finishWith(stop, err)
	}
	a := snap()
	idle := time.NewTimer(c.idle)
	select {
	case <-idle.C:
	case <-r.abort:
		idle.Stop()
		return result{}, r.finishWith(stop, r.err)
	}
	b := snap()
	th, fd := threads()-baseThreads, fds()-baseFDs
	close(stop)
	if err := r.finish(); err != nil {
		return result{}, err
	}
	w := between(a, b)
	return result{w: w, extra: map[string]float64{
		"cpu_percent": 100 * w.cpu.Seconds() / w.wall.Seconds(),
		"threads":     float64(th),
		"fds":         float64(fd),
	}}, nil
}

// runOpenClose: c.N DEALER sockets, each on its own goroutine, connect to
// one ROUTER; the time to open them all, what they hold while open
// (memory, threads, descriptors), and the time to close them all.
func runOpenClose(c *Case, v *Variant, env Env, eps *endpoints) (result, error) {
	r := newRoles(v, env, runTimeout(c))
	ep, err := eps.next(c.Transport)
	if err != nil {
		return result{}, err
	}
	bound, stop := make(chan struct{}), make(chan struct{})
	r.spawn("router", func() error {
		s, err := env.Open(Router, ep, true)
		if err != nil {
			return err
		}
		defer s.Close()
		close(bound)
		r.gate(stop)
		return nil
	})
	if err := r.await(bound); err != nil {
		return result{}, r.finishWith(stop, err)
	}
	runtime.GC()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	baseThreads, baseFDs, baseRSS := threads(), fds(), rss()
	var opened, closed sync.WaitGroup
	allOpen, allClosed := make(chan struct{}), make(chan struct{})
	opened.Add(c.N)
	closed.Add(c.N)
	go func() { opened.Wait(); close(allOpen) }()
	go func() { closed.Wait(); close(allClosed) }()
	t0 := time.Now()
	for i := 0; i < c.N; i++ {
		r.spawn(fmt.Sprintf("dealer %d", i), func() error {
			defer closed.Done()
			s, err := env.Open(Dealer, ep, false)
			if err != nil {
				opened.Done()
				return err
			}
			opened.Done()
			r.gate(stop)
			return s.Close()
		})
	}
	if err := r.await(allOpen); err != nil {
		return result{}, r.finishWith(stop, err)
	}
	t1 := time.Now()
	runtime.ReadMemStats(&ms1)
	th, fd, mem := threads()-baseThreads, fds()-baseFDs, rss()-baseRSS
	close(stop)
	if err := r.await(allClosed); err != nil {
		return result{}, r.finish()
	}
	t2 := time.Now()
	if err := r.finish(); err != nil {
		return result{}, err
	}
	n := float64(c.N)
	return result{extra: map[string]float64{
		"open_us_per_socket":       us(t1.Sub(t0)) / n,
		"close_us_per_socket":      us(t2.Sub(t1)) / n,
		"open_close_us_per_socket": us(t2.Sub(t0)) / n,
		"rss_bytes_per_socket":     float64(mem) / n,
		"heap_bytes_per_socket":    float64(int64(ms1.HeapAlloc)-int64(ms0.HeapAlloc)) / n,
		"threads":                  float64(th),
		"fds_per_socket":           float64(fd) / n,
	}}, nil
}

// childResult is what a child process reports on its standard output.
type childResult struct {
	Msgs    int                `json:"msgs"`
	Bytes   int64              `json:"bytes"`
	Wall    time.Duration      `json:"wall"`
	CPU     time.Duration      `json:"cpu"`
	Mallocs uint64             `json:"mallocs"`
	Extra   map[string]float64 `json:"extra"`
	Error   string             `json:"error,omitempty"`
}

// runChild runs case c with variant v in a new process of this program.
func runChild(c *Case, v *Variant, quick bool) (result, error) {
	exe, err := os.Executable()
	if err != nil {
		return result{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.idle+runTimeout(c)+30*time.Second)
	defer cancel()
	args := []string{"-child", c.id(), "-child-variant", v.Name}
	if quick {
		args = append(args, "-quick")
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	runErr := cmd.Run()
	var cr childResult
	if err := json.Unmarshal(out.Bytes(), &cr); err != nil {
		return result{}, fmt.Errorf("child: %v: %v %s", runErr, err, bytes.TrimSpace(errb.Bytes()))
	}
	if cr.Error != "" {
		return result{}, fmt.Errorf("%s", cr.Error)
	}
	return result{msgs: cr.Msgs, bytes: cr.Bytes, w: window{wall: cr.Wall, cpu: cr.CPU, mallocs: cr.Mallocs}, extra: cr.Extra}, nil
}

// child is the main of a child process: run one case once, print the
// result as JSON.
func child(caseID, variant string, quick bool) error {
	var c *Case
	for _, k := range cases(quick) {
		if k.id() == caseID {
			c = k
		}
	}
	var v *Variant
	for _, k := range variants() {
		if k.Name == variant {
			v = k
		}
	}
	if c == nil || v == nil {
		return fmt.Errorf("child: no case %q or variant %q", caseID, variant)
	}
	eps, err := newEndpoints()
	if err != nil {
		return err
	}
	defer eps.Close()
	env, err := v.New()
	if err != nil {
		return err
	}
	res, err := c.run(c, v, env, eps)
	cr := childResult{Msgs: res.msgs, Bytes: res.bytes, Wall: res.w.wall, CPU: res.w.cpu, Mallocs: res.w.mallocs, Extra: res.extra}
	if err != nil {
		cr.Error = err.Error()
	}
	return json.NewEncoder(os.Stdout).Encode(cr)
}
