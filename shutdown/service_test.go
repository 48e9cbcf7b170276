package shutdown_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchan/zmqchan/shutdown"
	"github.com/zmqchan/zmqchan/zchan"
)

// The child services of these tests. Each runs in a re-executed test
// binary (internal/childproc), talks to the parent test through lines on
// stdout, and exits with the code it chose.
//
// Environment:
//
//	SVC_MODE       load (default), slow, slow-exit
//	SVC_TRANSPORT  inproc (default) or tcp (loopback, ports picked at bind)
//	SVC_SETTLE     settle period (default shutdown.DefaultSettle)
//	SVC_DRAIN      drain timeout (load; default 5s)
//	SVC_TERM       term timeout (rawleak)
//	SVC_SLOW       time the worker spends on each message (load; default 0)
//	SVC_LOSSLESS   "off": WithLosslessDrain(false) (load; default on)
//	SVC_SNDHWM     send HWM of the ventilator (load; default libzmq's, 1000)
//	SVC_RCVHWM     receive HWM of the worker's input (load; default 1000)
//	SVC_KBUF       the kernel's socket buffers (ZMQ_SNDBUF, ZMQ_RCVBUF) of
//	               the same two sockets, in bytes (load; default the OS's)
//	SVC_READY      messages the sink must receive before READY (default 1000)
//	SVC_SIZE       bytes of each message the source sends (load; default
//	               its number's digits)

// result is the line "RESULT {json}" a child prints before it exits.
type result struct {
	Sent        uint64 `json:"sent"`
	Delivered   uint64 `json:"delivered"`
	Undelivered uint64 `json:"undelivered"`
	Lost        uint64 `json:"lost"`
	// Transit is what the Report counts as lost in transit (TotalLost).
	Transit   uint64            `json:"transit"`
	Links     []shutdown.Link   `json:"links"`
	PerSocket map[string]uint64 `json:"per_socket"`
	Cause     string            `json:"cause"`
	Err       string            `json:"err"`
	Took      time.Duration     `json:"took"`
	Report    string            `json:"report"`
	// Stats are the counters of each socket, for diagnosis.
	Stats map[string]zchan.Stats `json:"stats"`
}

func printResult(r result) {
	b, _ := json.Marshal(r)
	fmt.Printf("RESULT %s\n", b)
}

// exitCode is the code a service chooses: 128 plus the signal number after
// a signal (the shell's convention), 1 if shutdown reported an error,
// else 0.
func exitCode(cause, err error) int {
	if err != nil {
		return 1
	}
	var se *shutdown.SignalError
	if errors.As(cause, &se) {
		if s, ok := se.Signal.(syscall.Signal); ok {
			return 128 + int(s)
		}
	}
	return 0
}

// serviceMain runs a ventilator, a worker and a sink in one process, under
// sustained load, until a signal. It prints READY once the sink has
// received 1000 messages, and RESULT with the accounting after shutdown.
func serviceMain() int {
	mode := os.Getenv("SVC_MODE")
	var sopts []shutdown.SignalOption
	if mode == "slow-exit" {
		sopts = append(sopts, shutdown.OnSecondSignal(func(s os.Signal) {
			fmt.Println("SECOND", s)
			os.Exit(99)
		}))
	}
	ctx, stop := shutdown.NotifyContext(context.Background(), sopts...)
	defer stop()
	drain := 5 * time.Second
	if mode == "slow" || mode == "slow-exit" {
		drain = time.Minute
	}
	if v := os.Getenv("SVC_DRAIN"); v != "" {
		drain, _ = time.ParseDuration(v)
	}
	settle := shutdown.DefaultSettle
	if v := os.Getenv("SVC_SETTLE"); v != "" {
		settle, _ = time.ParseDuration(v)
	}
	g, err := shutdown.New(ctx, shutdown.WithDrainTimeout(drain), shutdown.WithSettle(settle),
		shutdown.WithLosslessDrain(os.Getenv("SVC_LOSSLESS") != "off"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if err := buildService(ctx, g, mode, os.Getenv("SVC_TRANSPORT")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		g.Shutdown()
		g.Wait()
		return 2
	}
	rep, err := g.Wait()
	r := serviceResult
	r.Sent, r.Delivered, r.Lost = sent.Load(), delivered.Load(), lost.Load()
	r.Undelivered = rep.TotalUndelivered()
	r.PerSocket = rep.Undelivered()
	r.Transit = rep.TotalLost()
	r.Links = rep.Links
	r.Cause = fmt.Sprint(rep.Cause)
	if err != nil {
		r.Err = err.Error()
	}
	r.Took = rep.Took
	r.Report = rep.String()
	r.Stats = make(map[string]zchan.Stats)
	for _, s := range serviceSockets {
		r.Stats[s.Name()] = s.Stats()
	}
	printResult(r)
	return exitCode(rep.Cause, err)
}

var serviceSockets []*zchan.Socket[string]

var (
	sent, delivered, lost atomic.Uint64
	serviceResult         result
)

func buildService(ctx context.Context, g *shutdown.Group, mode, transport string) error {
	zc := g.ZMQ()
	tasks, results := "inproc://tasks", "inproc://results"
	if transport == "tcp" {
		tasks, results = "tcp://127.0.0.1:*", "tcp://127.0.0.1:*"
	}
	if mode == "slow" || mode == "slow-exit" {
		// A stage that takes 30s to stop: the shutdown it is part of is
		// slow, and only a second signal ends the process sooner.
		if err := g.Go("slow", func(ctx context.Context) error {
			<-ctx.Done()
			// The cause is the shutdown's: the first signal seen.
			fmt.Println("STOPPING", context.Cause(ctx))
			t := time.NewTimer(30 * time.Second)
			defer t.Stop()
			<-t.C
			return nil
		}); err != nil {
			return err
		}
	}
	// The link a slow worker makes slow: its in-flight bound.
	var ventOpts, winOpts []zchan.Option
	if v, err := strconv.Atoi(os.Getenv("SVC_SNDHWM")); err == nil {
		ventOpts = append(ventOpts, zchan.WithSendHWM(v))
	}
	if v, err := strconv.Atoi(os.Getenv("SVC_RCVHWM")); err == nil {
		winOpts = append(winOpts, zchan.WithRecvHWM(v))
	}
	if v, err := strconv.Atoi(os.Getenv("SVC_KBUF")); err == nil {
		kbuf := zchan.WithSetup(func(s *zmq.Socket) error {
			if err := s.SetSndbuf(v); err != nil {
				return err
			}
			return s.SetRcvbuf(v)
		})
		ventOpts = append(ventOpts, kbuf)
		winOpts = append(winOpts, kbuf)
	}
	slow, _ := time.ParseDuration(os.Getenv("SVC_SLOW"))
	size, _ := strconv.Atoi(os.Getenv("SVC_SIZE"))
	ready := uint64(1000)
	if v, err := strconv.ParseUint(os.Getenv("SVC_READY"), 10, 64); err == nil {
		ready = v
	}
	vent, err := zchan.OpenWith(ctx, zchan.Push, zchan.String, append(ventOpts, zchan.WithContext(zc), zchan.WithName("ventilator"), zchan.WithBind(tasks))...)
	if err != nil {
		return err
	}
	win, err := zchan.OpenWith(ctx, zchan.Pull, zchan.String, append(winOpts, zchan.WithContext(zc), zchan.WithName("worker-in"), zchan.WithConnect(vent.Endpoints()[0]))...)
	if err != nil {
		return err
	}
	sink, err := zchan.OpenWith(ctx, zchan.Pull, zchan.String, zchan.WithContext(zc), zchan.WithName("sink"), zchan.WithBind(results))
	if err != nil {
		return err
	}
	wout, err := zchan.OpenWith(ctx, zchan.Push, zchan.String, zchan.WithContext(zc), zchan.WithName("worker-out"), zchan.WithConnect(sink.Endpoints()[0]))
	if err != nil {
		return err
	}
	serviceSockets = []*zchan.Socket[string]{vent, win, wout, sink}
	steps := []func() error{
		func() error {
			return g.Go("source", func(ctx context.Context) error {
				for i := 0; ; i++ {
					if vent.Send(ctx, fmt.Sprintf("%0*d", size, i)) != nil {
						return nil
					}
					sent.Add(1)
				}
			})
		},
		func() error { return g.Add(vent) },
		func() error { return g.Add(win) },
		func() error {
			return g.Go("worker", func(ctx context.Context) error {
				for v := range win.In() {
					if slow > 0 {
						time.Sleep(slow) // the work: a slow consumer
					}
					if wout.Send(ctx, v+"!") != nil {
						lost.Add(1)
					}
				}
				return nil
			})
		},
		func() error { return g.Add(wout) },
		func() error { return g.Add(sink) },
		func() error {
			return g.Go("consumer", func(ctx context.Context) error {
				for range sink.In() {
					if delivered.Add(1) == ready {
						fmt.Println("READY")
					}
				}
				return nil
			})
		},
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	if mode == "slow" || mode == "slow-exit" {
		fmt.Println("READY")
	}
	return nil
}

// leaked keeps the raw socket of rawLeakMain reachable, as a socket a
// user forgot would be: unreachable, pebbe's finalizer would close it.
var leaked *zmq.Socket

// rawLeakMain opens, in the group's context, a raw pebbe/zmq4 socket it
// never closes, so that zmq_ctx_term can never finish. It prints READY,
// waits for a signal, and prints RESULT with Wait's error.
func rawLeakMain() int {
	ctx, stop := shutdown.NotifyContext(context.Background())
	defer stop()
	term, _ := time.ParseDuration(os.Getenv("SVC_TERM"))
	g, err := shutdown.New(ctx, shutdown.WithTermTimeout(term))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	s, err := zchan.Open(context.Background(), zchan.Pair, zchan.WithContext(g.ZMQ()), zchan.WithName("pair"),
		zchan.WithSetup(func(s *zmq.Socket) error {
			zctx, err := s.Context()
			if err != nil {
				return err
			}
			leaked, err = zctx.NewSocket(zmq.PUSH)
			return err
		}))
	if err == nil {
		err = g.Add(s)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		g.Shutdown()
		g.Wait()
		return 2
	}
	fmt.Println("READY")
	rep, err := g.Wait()
	r := result{Cause: fmt.Sprint(rep.Cause), Took: rep.Took, Report: rep.String()}
	if err != nil {
		r.Err = err.Error()
	}
	printResult(r)
	return exitCode(rep.Cause, err)
}
