package pipeline_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/pipeline"
	"github.com/zmqchan/zmqchan/zchan"
)

// numberedPlan is the 4-stage identity chain; opts go to stage 2.
func numberedPlan(s2 ...pipeline.StageOption) pipeline.Plan[int64, int64] {
	p1 := pipeline.Then(pipeline.From[int64](), "s1", stage1)
	p2 := pipeline.Then(p1, "s2", stage2, s2...)
	p3 := pipeline.Then(p2, "s3", stage3)
	return pipeline.Then(p3, "s4", stage4)
}

// runNumbered sends n numbered values through c while a consumer with
// random pauses checks that each comes out once and in order, then shuts
// c down and checks that it drained cleanly.
func runNumbered(t *testing.T, ctx context.Context, c *pipeline.Chain[int64, int64], n int64) {
	t.Helper()
	start := time.Now()
	sendErr := make(chan error, 1)
	go func() {
		for i := int64(0); i < n; i++ {
			if err := c.Send(ctx, i); err != nil {
				sendErr <- fmt.Errorf("send %d: %w", i, err)
				return
			}
		}
		sendErr <- nil
	}()
	rng := rand.New(rand.NewPCG(1, 2))
	for want := int64(0); want < n; want++ {
		if rng.IntN(20000) == 0 { // a pause of up to 20ms, about every 20,000 messages
			pause := time.NewTimer(time.Duration(rng.IntN(20)) * time.Millisecond)
			select {
			case <-pause.C:
			case <-ctx.Done():
				t.Fatalf("timed out pausing at %d", want)
			}
		}
		select {
		case got, ok := <-c.Out():
			if !ok {
				t.Fatalf("out closed at %d: %v", want, c.Err())
			}
			if got != want {
				t.Fatalf("got %d, want %d (lost, duplicated or reordered)", got, want)
			}
		case <-ctx.Done():
			t.Fatalf("timed out at %d of %d", want, n)
		}
	}
	el := time.Since(start)
	if err := <-sendErr; err != nil {
		t.Fatal(err)
	}
	if err := c.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if v, ok := <-c.Out(); ok {
		t.Fatalf("extra value %d after the last", v)
	}
	if st := c.Stats(); st.Undelivered != 0 || st.Sent != uint64(n) || st.Delivered != uint64(n) {
		t.Fatalf("stats %+v, want %d sent and delivered", st, n)
	}
	t.Logf("%d messages through 4 stages in %v: %.0f msgs/s (race=%v)", n, el.Round(time.Millisecond), float64(n)/el.Seconds(), raceEnabled)
}

// TestChainNumbered: numbered messages through a 4-stage inproc chain with
// random consumer pauses; none lost, duplicated or reordered. 1,000,000
// without -race; under -race (several times slower) 200,000.
func TestChainNumbered(t *testing.T) {
	n := int64(1_000_000)
	if raceEnabled {
		n = 200_000
	}
	ctx := testCtx(t, 2*time.Minute)
	c, err := pipeline.Start(ctx, numberedPlan(), pipeline.WithCodec(i64))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	runNumbered(t, ctx, c, n)
}

// TestChainChildProcess runs the same chain with stage 2 in a child
// process (the test binary re-executed, serving the same function) over
// ipc and over tcp.
func TestChainChildProcess(t *testing.T) {
	n := int64(200_000)
	if raceEnabled {
		n = 50_000
	}
	for _, tc := range []struct {
		name string
		ep   func(t *testing.T) (string, string)
	}{
		{"ipc", func(t *testing.T) (string, string) {
			d := t.TempDir()
			return "ipc://" + filepath.Join(d, "in"), "ipc://" + filepath.Join(d, "out")
		}},
		{"tcp", func(*testing.T) (string, string) { return "tcp://127.0.0.1:*", "tcp://127.0.0.1:*" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t, time.Minute)
			in, out := tc.ep(t)
			p1 := pipeline.Then(pipeline.From[int64](), "s1", stage1)
			p2 := pipeline.Then(p1, "s2", stage2, pipeline.Remote(), pipeline.Input(in))
			p3 := pipeline.Then(p2, "s3", stage3, pipeline.Input(out))
			p4 := pipeline.Then(p3, "s4", stage4)
			c, err := pipeline.Start(ctx, p4, pipeline.WithCodec(i64))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			links := c.Links()
			child := startChild(t, "stage", "PIPELINE_IN="+links[1], "PIPELINE_OUT="+links[2])
			runNumbered(t, ctx, c, n)
			// The end of stream went through the child, which then exits 0.
			if err := waitChild(t, child, 30*time.Second); err != nil {
				t.Fatalf("child: %v", err)
			}
		})
	}
}

// TestChainRemoteFailure: a remote stage that fails reports it down the
// chain; Wait returns an error wrapping ErrRemote.
func TestChainRemoteFailure(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	d := t.TempDir()
	p1 := pipeline.Then(pipeline.From[int64](), "s1", stage1)
	p2 := pipeline.Then(p1, "s2", stage2, pipeline.Remote(), pipeline.Input("ipc://"+filepath.Join(d, "in")))
	p3 := pipeline.Then(p2, "s3", stage3, pipeline.Input("ipc://"+filepath.Join(d, "out")))
	c, err := pipeline.Start(ctx, p3, pipeline.WithCodec(i64))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	child := startChild(t, "failstage", "PIPELINE_IN="+c.Links()[1], "PIPELINE_OUT="+c.Links()[2])
	go func() {
		for i := int64(0); i < 10; i++ {
			if c.Send(ctx, i) != nil {
				return
			}
		}
	}()
	for range c.Out() {
	}
	if err := c.Wait(); !errors.Is(err, pipeline.ErrRemote) {
		t.Fatalf("wait: %v, want ErrRemote", err)
	} else {
		t.Logf("wait: %v", err)
	}
	if err := waitChild(t, child, 30*time.Second); err == nil {
		t.Fatal("failing child exited 0")
	}
}

var errStage = errors.New("stage failed")

// TestChainStops: a stage error, a panic or a cancelled lifetime context
// stops every stage; Wait and Close return the first error; Out is closed
// and Send fails.
func TestChainStops(t *testing.T) {
	cause := errors.New("caller gave up")
	for _, tc := range []struct {
		name   string
		s3     pipeline.Stage[int64, int64]
		cancel bool
		want   error
	}{
		{"error", func(_ context.Context, n int64) (int64, error) {
			if n == 2*100 {
				return 0, errStage
			}
			return n - 2, nil
		}, false, errStage},
		{"panic", func(_ context.Context, n int64) (int64, error) {
			if n == 2*100 {
				panic("boom")
			}
			return n - 2, nil
		}, false, pipeline.ErrPanic},
		{"cancel", stage3, true, cause},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t, time.Minute)
			cctx, cancel := context.WithCancelCause(ctx)
			defer cancel(nil)
			p2 := pipeline.Then(pipeline.Then(pipeline.From[int64](), "s1", stage1), "s2", stage2)
			p4 := pipeline.Then(pipeline.Then(p2, "s3", tc.s3), "s4", stage4)
			c, err := pipeline.Start(ctx, p4, pipeline.WithCodec(i64), pipeline.WithLifetime(cctx))
			if err != nil {
				t.Fatal(err)
			}
			sendDone := make(chan error, 1)
			go func() {
				for i := int64(0); ; i++ {
					if err := c.Send(ctx, i); err != nil {
						sendDone <- err
						return
					}
				}
			}()
			got := 0
			for range c.Out() {
				if got++; got == 50 && tc.cancel {
					cancel(cause)
				}
			}
			err = c.Wait()
			if !errors.Is(err, tc.want) {
				t.Fatalf("wait: %v, want %v", err, tc.want)
			}
			if err := <-sendDone; !errors.Is(err, tc.want) {
				t.Fatalf("send: %v, want %v", err, tc.want)
			}
			if err := c.Close(); !errors.Is(err, tc.want) {
				t.Fatalf("close: %v, want %v", err, tc.want)
			}
			// Values after the failing one never come out; values before
			// it may be cut off by the cancellation.
			if !tc.cancel && got > 99 {
				t.Fatalf("got %d values, want at most the 99 before the failure", got)
			}
		})
	}
}

// TestChainShutdownDrains: values sent before Shutdown come out after it,
// in order, and then Out closes.
func TestChainShutdownDrains(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	c, err := pipeline.Start(ctx, numberedPlan(), pipeline.WithCodec(i64))
	if err != nil {
		t.Fatal(err)
	}
	const n = 500 // fits in the links' queues: Send does not block
	for i := int64(0); i < n; i++ {
		if err := c.Send(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	closed := make(chan error, 1)
	go func() { closed <- c.Shutdown(ctx) }()
	var want int64
	for v := range c.Out() {
		if v != want {
			t.Fatalf("got %d, want %d", v, want)
		}
		want++
	}
	if want != n {
		t.Fatalf("got %d values, want %d", want, n)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if err := c.Send(ctx, 1); !errors.Is(err, pipeline.ErrClosed) || !errors.Is(err, zchan.ErrClosed) {
		t.Fatalf("send after shutdown: %v", err)
	}
}

// TestChainShutdownDeadline: a Shutdown whose output nobody reads
// returns context.Cause of its ctx once that ends, closing the chain at
// once; everything sent is accounted for, most of it undelivered.
func TestChainShutdownDeadline(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	c, err := pipeline.Start(ctx, numberedPlan(), pipeline.WithCodec(i64), pipeline.WithLinger(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	for i := int64(0); i < 10; i++ {
		if err := c.Send(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	deadline := errors.New("deadline for the test")
	sctx, cancel := context.WithTimeoutCause(ctx, 200*time.Millisecond, deadline)
	defer cancel()
	start := time.Now()
	if err := c.Shutdown(sctx); !errors.Is(err, deadline) {
		t.Fatalf("shutdown: %v, want the ctx's cause", err)
	}
	t.Logf("shutdown returned after %v", time.Since(start).Round(time.Millisecond))
	select {
	case <-c.Done():
	default:
		t.Fatal("Done not closed when Shutdown returned")
	}
	st := c.Stats()
	if st.Undelivered == 0 || st.Sent != 10 || st.Sent != st.Delivered+st.Skipped+st.Failed+st.Undelivered {
		t.Fatalf("stats %+v: want 10 sent, all accounted for, some undelivered", st)
	}
	if err := c.Wait(); !errors.Is(err, pipeline.ErrClosed) {
		t.Fatalf("wait: %v, want ErrClosed", err)
	}
}

// TestChainCloseUnread: Close with Out unread and Send blocked on back
// pressure returns (within about the linger; logged, not asserted), Send
// returns ErrClosed, and every value sent is accounted for.
func TestChainCloseUnread(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	c, err := pipeline.Start(ctx, numberedPlan(), pipeline.WithCodec(i64))
	if err != nil {
		t.Fatal(err)
	}
	sendErr := make(chan error, 1)
	go func() {
		for i := int64(0); ; i++ {
			if err := c.Send(ctx, i); err != nil {
				sendErr <- err
				return
			}
		}
	}()
	// Wait until Send pushes back (Sent is still between two looks): the
	// chain then holds what it can.
	var last uint64
	if !testutil.Eventually(30*time.Second, func() bool {
		s := c.Stats().Sent
		still := s > 0 && s == last
		last = s
		return still
	}) {
		t.Fatal("the chain never filled up")
	}
	start := time.Now()
	if err := c.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	el := time.Since(start)
	if err := <-sendErr; !errors.Is(err, pipeline.ErrClosed) {
		t.Fatalf("send: %v, want ErrClosed", err)
	}
	st := c.Stats()
	if st.Sent == 0 || st.Sent != st.Delivered+st.Skipped+st.Failed+st.Undelivered {
		t.Fatalf("stats %+v: not accounted for", st)
	}
	t.Logf("close with unread Out took %v; %+v", el.Round(time.Millisecond), st)
}

// TestChainSkip: ErrSkip drops a value without failing the chain.
func TestChainSkip(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	odd := func(_ context.Context, n int) (string, error) {
		if n%2 == 0 {
			return "", pipeline.ErrSkip
		}
		return fmt.Sprint(n), nil
	}
	c, err := pipeline.Start(ctx, pipeline.Then(pipeline.From[int](), "odd", odd))
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for i := range 10 {
			if c.Send(ctx, i) != nil {
				return
			}
		}
		c.Shutdown(ctx)
	}()
	var got []string
	for s := range c.Out() {
		got = append(got, s)
	}
	if fmt.Sprint(got) != "[1 3 5 7 9]" {
		t.Fatalf("got %v", got)
	}
	if err := c.Wait(); err != nil {
		t.Fatal(err)
	}
}

// TestChainInvalid: plans and options Start refuses, leaving nothing open.
func TestChainInvalid(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	p1 := pipeline.Then(pipeline.From[int64](), "s1", stage1)
	for _, tc := range []struct {
		name string
		p    pipeline.Plan[int64, int64]
		opts []pipeline.Option
	}{
		{"no stages", pipeline.From[int64](), nil},
		{"nil function", pipeline.Then(p1, "nil", pipeline.Stage[int64, int64](nil)), nil},
		{"remote on inproc", pipeline.Then(p1, "r", stage2, pipeline.Remote()), nil},
		{"adjacent remote", pipeline.Then(pipeline.Then(p1, "r1", stage2, pipeline.Remote(), pipeline.Input("tcp://127.0.0.1:*")), "r2", stage3, pipeline.Remote(), pipeline.Input("tcp://127.0.0.1:*")), []pipeline.Option{pipeline.WithOutput("tcp://127.0.0.1:*")}},
		{"pool option", p1, []pipeline.Option{pipeline.WithWorkers(2)}},
		{"nil lifetime", p1, []pipeline.Option{pipeline.WithLifetime(nil)}},
		{"nil option", p1, []pipeline.Option{nil}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := pipeline.Start(ctx, tc.p, tc.opts...)
			if !errors.Is(err, pipeline.ErrInvalidOption) {
				if c != nil {
					c.Close()
				}
				t.Fatalf("start: %v, want ErrInvalidOption", err)
			}
		})
	}
	// A bad endpoint fails Start with zchan's error and leaves nothing open.
	if _, err := pipeline.Start(ctx, pipeline.Then(p1, "s2", stage2, pipeline.Input("bogus://x"))); !errors.Is(err, zchan.ErrBadEndpoint) {
		t.Fatalf("bad endpoint: %v", err)
	}
}

// TestChainEndCountsSendUnderWay: a chain that ends (its lifetime's end,
// Close, a stage failing on that very value) while a Send has had its
// value accepted by the first link but has not yet counted it waits for
// that Send before it settles its accounting, so the value is counted in
// Sent and in exactly one of Delivered, Skipped, Failed and Undelivered.
func TestChainEndCountsSendUnderWay(t *testing.T) {
	over := errors.New("lifetime over")
	for _, tc := range []struct {
		name string
		end  func(c *pipeline.Chain[int, int], lcancel context.CancelCauseFunc)
		fail bool // the stage fails on the value, which ends the chain
	}{
		{"lifetime", func(_ *pipeline.Chain[int, int], lcancel context.CancelCauseFunc) { lcancel(over) }, false},
		{"close", func(c *pipeline.Chain[int, int], _ context.CancelCauseFunc) { c.Close() }, false},
		{"failure", func(*pipeline.Chain[int, int], context.CancelCauseFunc) {}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t, time.Minute)
			life, lcancel := context.WithCancelCause(ctx)
			defer lcancel(nil)
			f := func(_ context.Context, n int) (int, error) {
				if tc.fail {
					return 0, errStage
				}
				return n, nil
			}
			c, err := pipeline.Start(ctx, pipeline.Then(pipeline.From[int](), "s", f), pipeline.WithLifetime(life),
				pipeline.WithLinger(20*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			held, release := make(chan struct{}), make(chan struct{})
			pipeline.SetSendHook(c, func() { close(held); <-release }) // one Send only
			sent := make(chan error, 1)
			go func() { sent <- c.Send(ctx, 7) }()
			if endWhileHeld(t, held, release, c.Done(), func() { tc.end(c, lcancel) }) {
				t.Error("the chain was done with a Send under way")
			}
			if err := testutil.MustRecv(t, sent, 30*time.Second, "Send"); err != nil {
				t.Fatalf("send: %v, want nil: the first link accepted the value", err)
			}
			st := c.Stats()
			if st.Sent != 1 || st.Sent != st.Delivered+st.Skipped+st.Failed+st.Undelivered {
				t.Fatalf("stats %+v: want Sent 1 == Delivered + Skipped + Failed + Undelivered", st)
			}
		})
	}
}

// TestChainRemoteDead: a remote stage heartbeats its output link, so a
// chain idle for longer than the liveness bound with a live remote stage
// goes on; once the remote stage's process is killed (SIGKILL), the chain
// ends with an error wrapping ErrDead that names the stage, within the
// liveness bound (asserted only as a bounded wait), not a hang.
func TestChainRemoteDead(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	p1 := pipeline.Then(pipeline.From[int64](), "s1", stage1)
	p2 := pipeline.Then(p1, "s2", stage2, pipeline.Remote(), pipeline.Input("tcp://127.0.0.1:*"))
	p3 := pipeline.Then(p2, "s3", stage3, pipeline.Input("tcp://127.0.0.1:*"))
	p4 := pipeline.Then(p3, "s4", stage4)
	c, err := pipeline.Start(ctx, p4, pipeline.WithCodec(i64))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	links := c.Links()
	child := startChild(t, "stage", "PIPELINE_IN="+links[1], "PIPELINE_OUT="+links[2])
	for i := range int64(10) {
		if err := c.Send(ctx, i); err != nil {
			t.Fatal(err)
		}
		if v := testutil.MustRecv(t, c.Out(), 30*time.Second, "value"); v != i {
			t.Fatalf("got %d, want %d", v, i)
		}
	}
	// Idle for twice the bound: heartbeats keep the remote stage alive.
	bound := pipeline.DefaultHeartbeat * pipeline.DefaultLiveness
	if testutil.Done(c.Done(), 2*bound) {
		t.Fatalf("the chain ended while idle: %v", c.Err())
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	child.Wait()
	if !testutil.Done(c.Done(), bound+30*time.Second) {
		t.Fatal("the chain hangs after its remote stage died")
	}
	if err := c.Err(); !errors.Is(err, pipeline.ErrDead) || !strings.Contains(err.Error(), `"s2"`) {
		t.Fatalf("err %v: want ErrDead naming s2", err)
	}
}

// TestServeChainDead: the chain heartbeats the link into a remote stage,
// so a Serve whose chain is idle for longer than the liveness bound goes
// on; once the chain's process is killed (SIGKILL), Serve returns an error
// wrapping ErrDead that names the chain upstream of it, within the
// liveness bound (asserted only as a bounded wait), not a hang.
func TestServeChainDead(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=chainproc")
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	read := make(chan struct{})
	go func() { // ends when the child's stdout closes
		defer close(read)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-read
		cmd.Wait()
	})
	links := strings.Fields(testutil.MustRecv(t, lines, 30*time.Second, "links"))
	if len(links) != 2 {
		t.Fatalf("links %q", links)
	}
	served := make(chan error, 1)
	go func() { served <- pipeline.Serve(ctx, "s2", stage2, links[0], links[1], pipeline.WithCodec(i64)) }()
	if l := testutil.MustRecv(t, lines, 30*time.Second, "flowed"); l != "flowed" {
		t.Fatalf("child says %q", l)
	}
	// Idle for twice the bound: the chain's heartbeats keep Serve going.
	bound := pipeline.DefaultHeartbeat * pipeline.DefaultLiveness
	select {
	case err := <-served:
		t.Fatalf("Serve ended while its chain was idle: %v", err)
	case <-time.After(2 * bound):
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err = testutil.MustRecv(t, served, bound+30*time.Second, "Serve's end after the chain died")
	if !errors.Is(err, pipeline.ErrDead) || !strings.Contains(err.Error(), `upstream of remote stage "s2"`) {
		t.Fatalf("Serve: %v, want ErrDead naming the chain upstream of s2", err)
	}
}
