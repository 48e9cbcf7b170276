package pipeline_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/zmqchan/zmqchan/internal/childproc"
	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/pipeline"
	"github.com/zmqchan/zmqchan/zchan"
)

// childEnv selects a child role: the test binary re-executes itself with
// it set, and TestMain runs that role instead of the tests.
const childEnv = "PIPELINE_TEST_CHILD"

func TestMain(m *testing.M) {
	childproc.Main(map[string]func() int{
		"worker":   func() int { return runChild("worker") },
		"poolproc": poolProc,
	})
	if role := os.Getenv(childEnv); role != "" {
		os.Exit(runChild(role))
	}
	goleak.VerifyTestMain(m)
}

// runChild runs one child role until it ends and returns the exit code.
// The child's context is bounded, so an orphan cannot outlive the test run
// for long even if the parent's death signal is lost.
func runChild(role string) int {
	bound := 3 * time.Minute // PIPELINE_CHILD_BOUND for the long soak
	if d, err := time.ParseDuration(os.Getenv("PIPELINE_CHILD_BOUND")); err == nil {
		bound = d
	}
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	var err error
	switch role {
	case "stage":
		err = pipeline.Serve(ctx, "s2", stage2, os.Getenv("PIPELINE_IN"), os.Getenv("PIPELINE_OUT"), pipeline.WithCodec(i64))
	case "chainproc":
		err = chainProc(ctx)
	case "failstage":
		err = pipeline.Serve(ctx, "s2", failAt(5), os.Getenv("PIPELINE_IN"), os.Getenv("PIPELINE_OUT"), pipeline.WithCodec(i64))
	case "worker":
		d, _ := time.ParseDuration(os.Getenv("PIPELINE_DELAY"))
		n, _ := strconv.Atoi(os.Getenv("PIPELINE_WORKERS"))
		var st pipeline.WorkStats
		st, err = pipeline.Work(ctx, squareAfter(d), os.Getenv("PIPELINE_POOL"), pipeline.WithWorkers(max(n, 1)),
			pipeline.WithName(os.Getenv("PIPELINE_NAME")))
		fmt.Printf("done %d discarded %d reconnects %d\n", st.Done, st.Discarded, st.Reconnects)
	default:
		err = fmt.Errorf("unknown child role %q", role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	return 0
}

// chainProc is a chain with a Remote stage "s2" over tcp, for a test that
// serves s2 itself: it prints the two links of s2 on a line, then, once
// 10 values have gone through, "flowed", and then idles until it is
// killed (or its bound ends).
func chainProc(ctx context.Context) error {
	p1 := pipeline.Then(pipeline.From[int64](), "s1", stage1)
	p2 := pipeline.Then(p1, "s2", stage2, pipeline.Remote(), pipeline.Input("tcp://127.0.0.1:*"))
	p3 := pipeline.Then(p2, "s3", stage3, pipeline.Input("tcp://127.0.0.1:*"))
	c, err := pipeline.Start(ctx, pipeline.Then(p3, "s4", stage4), pipeline.WithCodec(i64))
	if err != nil {
		return err
	}
	defer c.Close()
	links := c.Links()
	fmt.Println(links[1], links[2])
	for i := range int64(10) {
		if err := c.Send(ctx, i); err != nil {
			return err
		}
		select {
		case <-c.Out():
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	fmt.Println("flowed")
	<-ctx.Done()
	return nil
}

// startChild re-executes the test binary in role, with env added, and
// returns the process; it is killed if the test ends without waiting.
func startChild(t *testing.T, role string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), childEnv+"="+role), env...)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd
}

// waitChild waits for cmd to exit within d and returns its error.
func waitChild(t *testing.T, cmd *exec.Cmd, d time.Duration) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- cmd.Wait() }()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case err := <-errc:
		return err
	case <-timer.C:
		cmd.Process.Kill()
		<-errc
		return fmt.Errorf("child %v did not exit within %v", cmd.Args, d)
	}
}

// i64 is a fixed-width codec for the numbered-message tests.
var i64 zchan.Codec[int64] = i64Codec{}

type i64Codec struct{}

func (i64Codec) Encode(v int64) ([][]byte, error) {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, uint64(v))
	return [][]byte{b}, nil
}

func (i64Codec) Decode(f [][]byte) (int64, error) {
	if len(f) != 1 || len(f[0]) != 8 {
		return 0, fmt.Errorf("i64: bad frames: %w", zchan.ErrCodec)
	}
	return int64(binary.BigEndian.Uint64(f[0])), nil
}

// The four stages of the numbered chain; together they are the identity,
// and each one's output differs from its input, so a skipped stage shows.
func stage1(_ context.Context, n int64) (int64, error) { return n + 1, nil }
func stage2(_ context.Context, n int64) (int64, error) { return n * 2, nil }
func stage3(_ context.Context, n int64) (int64, error) { return n - 2, nil }
func stage4(_ context.Context, n int64) (int64, error) { return n / 2, nil }

// failAt returns stage2, failing on input n.
func failAt(n int64) pipeline.Stage[int64, int64] {
	return func(ctx context.Context, v int64) (int64, error) {
		if v == n+1 { // stage2 sees stage1's output
			return 0, fmt.Errorf("stage2 refuses %d", n)
		}
		return stage2(ctx, v)
	}
}

// testCtx returns a context bounded well within the package's budget.
func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// squareAfter returns the workers' function in the pool tests: it squares
// after a pause of d (honouring ctx), so a batch takes long enough to kill
// a worker in the middle of it.
func squareAfter(d time.Duration) pipeline.Stage[int, Square] {
	return func(ctx context.Context, n int) (Square, error) {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return Square{}, context.Cause(ctx)
		}
		return Square{N: n, Sq: n * n}, nil
	}
}

// Square is a pool test result: the task and its square.
type Square struct{ N, Sq int }

// poolProc is a pool in a child process, as a service runs one: its
// lifetime is SIGINT's context, its workers are other processes. It
// prints its endpoint, "running" once results flow, and at its end what
// it counted, with the number of goodbye warnings it logged.
func poolProc() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	core, logs := observer.New(zap.WarnLevel)
	p, err := pipeline.NewPool(context.Background(), squareAfter(time.Millisecond), pipeline.WithWorkers(0),
		pipeline.WithEndpoint("tcp://127.0.0.1:*"), pipeline.WithWaitForWorkers(3),
		pipeline.WithLifetime(ctx), pipeline.WithLogger(zap.New(core)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "poolproc:", err)
		return 1
	}
	fmt.Println("endpoint", p.Endpoint())
	sent := make(chan struct{})
	go func() { // owned: waited for below; Submit fails once the pool ends
		defer close(sent)
		for i := 0; p.Submit(context.Background(), i) == nil; i++ {
		}
	}()
	n := 0
	for range p.Results() {
		if n++; n == 100 {
			fmt.Println("running")
		}
	}
	<-p.Done()
	<-sent
	st := p.Stats()
	fmt.Printf("ended joined %d left %d dead %d warnings %d\n", st.Joined, st.Left, st.Dead,
		logs.FilterMessageSnippet("goodbye").Len())
	return 0
}

// endUnderWay is how long endWhileHeld gives a component to end, wrongly,
// while a Send or Submit is held: several lingers of the tests that use
// it. It is a bound, not a measurement: a slow machine can only make the
// check miss a regression, never fail a correct component.
const endUnderWay = 250 * time.Millisecond

// endWhileHeld waits until held is closed (a Send or Submit has had its
// value accepted and is held before counting it), runs end on its own
// goroutine, and reports whether done closed within endUnderWay while the
// call was still held. It then closes release, letting the call go on,
// and waits for end to return and done to close.
func endWhileHeld(t *testing.T, held <-chan struct{}, release chan struct{}, done <-chan struct{}, end func()) (doneWhileHeld bool) {
	t.Helper()
	if !testutil.Done(held, 30*time.Second) {
		close(release)
		t.Fatal("the call never had its value accepted")
	}
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		end()
	}()
	doneWhileHeld = testutil.Done(done, endUnderWay)
	close(release)
	if !testutil.Done(ended, 30*time.Second) || !testutil.Done(done, 30*time.Second) {
		t.Fatal("not done once the call went on")
	}
	return doneWhileHeld
}
