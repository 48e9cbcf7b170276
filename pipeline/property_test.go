package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/pipeline"
)

// The ways a property case ends its component.
const (
	endShutdown = iota // Shutdown with a generous ctx: everything drains
	endDeadline        // Shutdown with a ctx that may end before the drain
	endClose           // Close: at once
	endLifetime        // the WithLifetime context is cancelled
	endFail            // a stage or worker fails on one value
	nEnds
)

var endNames = [nEnds]string{"shutdown", "deadline", "close", "lifetime", "fail"}

// propertySeed returns the property tests' seed, from PIPELINE_SEED or
// the clock, and logs it so that a failure can be repeated.
func propertySeed(t *testing.T) uint64 {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("PIPELINE_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("PIPELINE_SEED: %v", err)
		}
		seed = v
	}
	t.Logf("seed %d (repeat with PIPELINE_SEED=%d)", seed, seed)
	return seed
}

// caseRand returns case i's random source. Each case has its own, drawn
// from the seed and its index alone, so that PIPELINE_SEED with
// PIPELINE_CASE=i runs case i by itself, as it ran among the others.
func caseRand(seed uint64, i int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, uint64(i)))
}

// propertyRange returns the case indexes to run: [0, propertyCases()),
// or only PIPELINE_CASE when it is set.
func propertyRange(t *testing.T) (from, to int) {
	s := os.Getenv("PIPELINE_CASE")
	if s == "" {
		return 0, propertyCases()
	}
	i, err := strconv.Atoi(s)
	if err != nil || i < 0 {
		t.Fatalf("PIPELINE_CASE %q: want a case index", s)
	}
	return i, i + 1
}

// propertyCases is how many cases of each shape run: several hundred in
// all within about 40s under -race on the shared machine.
func propertyCases() int {
	switch {
	case testing.Short():
		return 50
	case raceEnabled:
		return 600
	}
	return 1500
}

// pcase is one random case: how many values, when and how it ends, how
// the consumer stalls.
type pcase struct {
	n       int           // values to send
	endAt   int           // the end comes once this many were sent (or all)
	end     int           // endShutdown, ...
	tcp     bool          // links over tcp instead of inproc
	stallP  float64       // chance that the consumer stalls before a read
	stall   time.Duration // the longest stall
	failAt  int           // endFail: the value that fails
	timeout time.Duration // endDeadline: Shutdown's ctx
}

func randomCase(rng *rand.Rand) pcase {
	c := pcase{n: rng.IntN(2000), end: rng.IntN(nEnds), tcp: rng.IntN(2) == 0}
	c.endAt = rng.IntN(c.n + 1)
	c.stallP = []float64{0, 0.001, 0.01, 0.1}[rng.IntN(4)]
	c.stall = time.Duration(1+rng.IntN(5)) * time.Millisecond
	c.failAt = rng.IntN(c.n + 1)
	c.timeout = time.Duration(rng.IntN(20)) * time.Millisecond
	return c
}

func (c pcase) String() string {
	tr := "inproc"
	if c.tcp {
		tr = "tcp"
	}
	return fmt.Sprintf("%s n=%d end=%s at %d stall=%.3f×%v fail=%d timeout=%v", tr, c.n, endNames[c.end], c.endAt, c.stallP, c.stall, c.failAt, c.timeout)
}

// drive sends c.n values with send from a goroutine, ends the component
// with end once c.endAt were sent, and reads out with stalls until it is
// closed; it returns how many values the consumer got.
func drive[T any](ctx context.Context, rng *rand.Rand, c pcase, send func(context.Context, int) error, out <-chan T, end func()) (got uint64, err error) {
	reached := make(chan struct{})
	var reach sync.Once
	sent := make(chan error, 1)
	go func() {
		defer close(sent)
		defer reach.Do(func() { close(reached) }) // all sent, or Send failed first
		for i := 0; i < c.n; i++ {
			if i == c.endAt {
				reach.Do(func() { close(reached) })
			}
			if err := send(ctx, i); err != nil {
				if c.end == endShutdown && i < c.endAt {
					sent <- fmt.Errorf("send %d before the end: %w", i, err)
				}
				break
			}
		}
	}()
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		select {
		case <-reached:
		case <-ctx.Done():
			return
		}
		end()
	}()
	stalls := rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64())) // the consumer's own: rng is not safe for concurrent use
	for {
		if c.stallP > 0 && stalls.Float64() < c.stallP {
			tm := time.NewTimer(time.Duration(stalls.Int64N(int64(c.stall))))
			select {
			case <-tm.C:
			case <-ctx.Done():
			}
		}
		select {
		case _, ok := <-out:
			if !ok {
				<-ended
				return got, <-sent
			}
			got++
		case <-ctx.Done():
			return got, fmt.Errorf("output not closed: %w", ctx.Err())
		}
	}
}

// TestChainAccounting is the chain's accounting identity as a property:
// over random numbers of values, random ends (Shutdown, Shutdown past its
// deadline, Close, the lifetime context, a stage failure) at random
// times, random consumer stalls and skips, over inproc and tcp, once the
// chain is done Sent == Delivered + Skipped + Failed + Undelivered, the
// consumer got exactly Delivered, and a drained Shutdown delivered all.
func TestChainAccounting(t *testing.T) {
	seed := propertySeed(t)
	from, to := propertyRange(t)
	start := time.Now()
	for i := from; i < to; i++ {
		rng := caseRand(seed, i)
		c := randomCase(rng)
		if err := chainCase(t, rng, c); err != nil {
			t.Fatalf("case %d (%v; PIPELINE_CASE=%d): %v", i, c, i, err)
		}
	}
	t.Logf("%d cases in %v", to-from, time.Since(start).Round(time.Millisecond))
}

var errProperty = errors.New("the property case's failure")

func chainCase(t *testing.T, rng *rand.Rand, c pcase) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	life, lcancel := context.WithCancelCause(ctx)
	defer lcancel(nil)
	skip := func(_ context.Context, v int) (int, error) {
		if v%7 == 3 {
			return 0, pipeline.ErrSkip
		}
		return v, nil
	}
	failing := func(_ context.Context, v int) (int, error) {
		if c.end == endFail && v == c.failAt {
			return 0, errProperty
		}
		return v, nil
	}
	var opts []pipeline.StageOption
	if c.tcp {
		opts = append(opts, pipeline.Input("tcp://127.0.0.1:*"))
	}
	p := pipeline.Then(pipeline.Then(pipeline.Then(pipeline.From[int](), "a", skip, opts...), "b", failing, opts...), "c", skip, opts...)
	copts := []pipeline.Option{pipeline.WithLinger(20 * time.Millisecond), pipeline.WithLifetime(life)}
	if c.tcp {
		copts = append(copts, pipeline.WithOutput("tcp://127.0.0.1:*"))
	}
	ch, err := pipeline.Start(ctx, p, copts...)
	if err != nil {
		return err
	}
	defer ch.Close()
	var endErr error
	end := func() {
		switch c.end {
		case endShutdown, endFail:
			endErr = ch.Shutdown(ctx)
		case endDeadline:
			sctx, scancel := context.WithTimeout(ctx, c.timeout)
			defer scancel()
			endErr = ch.Shutdown(sctx)
			if errors.Is(endErr, context.DeadlineExceeded) {
				endErr = nil
			}
		case endClose:
			endErr = ch.Close()
		case endLifetime:
			lcancel(errProperty)
		}
	}
	got, err := drive(ctx, rng, c, ch.Send, ch.Out(), end)
	if err != nil {
		return err
	}
	select {
	case <-ch.Done():
	case <-ctx.Done():
		return errors.New("chain not done")
	}
	if endErr != nil && !errors.Is(endErr, errProperty) {
		return fmt.Errorf("end: %w", endErr)
	}
	st := ch.Stats()
	if st.Sent != st.Delivered+st.Skipped+st.Failed+st.Undelivered {
		return fmt.Errorf("stats %+v: Sent != Delivered + Skipped + Failed + Undelivered", st)
	}
	if got != st.Delivered {
		return fmt.Errorf("stats %+v: consumer got %d", st, got)
	}
	if c.end == endShutdown && (st.Undelivered != 0 || st.Sent < uint64(c.endAt)) {
		return fmt.Errorf("stats %+v: a drained Shutdown left values undelivered", st)
	}
	return nil
}

// TestPoolAccounting is the pool's accounting identity as a property, with
// the same random ends, stalls and skips as TestChainAccounting, 1 to 4
// workers, and now and then at-least-once delivery and a credit of 1:
// once the pool is done, Submitted == Results + Skipped + Failed +
// Undelivered, the consumer got exactly Results, and a drained Shutdown
// answered every task and left nothing undelivered.
func TestPoolAccounting(t *testing.T) {
	seed := propertySeed(t)
	from, to := propertyRange(t)
	start := time.Now()
	for i := from; i < to; i++ {
		rng := caseRand(seed, i)
		c := randomCase(rng)
		alo := rng.IntN(4) == 0
		workers := 1 + rng.IntN(4)
		if err := poolCase(t, c, alo, workers, rng); err != nil {
			t.Fatalf("case %d (%v alo=%v workers=%d; PIPELINE_CASE=%d): %v", i, c, alo, workers, i, err)
		}
	}
	t.Logf("%d cases in %v", to-from, time.Since(start).Round(time.Millisecond))
}

func poolCase(t *testing.T, c pcase, alo bool, workers int, rng *rand.Rand) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	life, lcancel := context.WithCancelCause(ctx)
	defer lcancel(nil)
	f := func(_ context.Context, v int) (int, error) {
		switch {
		case c.end == endFail && v == c.failAt:
			return 0, errProperty
		case v%7 == 3:
			return 0, pipeline.ErrSkip
		}
		return v, nil
	}
	opts := []pipeline.Option{pipeline.WithLinger(20 * time.Millisecond), pipeline.WithLifetime(life),
		pipeline.WithWorkers(workers), pipeline.WithWaitForWorkers(workers)}
	if c.tcp {
		tcp := "tcp://127.0.0.1:*"
		opts = append(opts, pipeline.WithEndpoint(tcp))
	}
	if alo {
		opts = append(opts, pipeline.WithAtLeastOnce(), pipeline.WithWorkerCredit(1))
	}
	p, err := pipeline.NewPool(ctx, f, opts...)
	if err != nil {
		return err
	}
	defer p.Close()
	var endErr error
	end := func() {
		switch c.end {
		case endShutdown, endFail:
			endErr = p.Shutdown(ctx)
		case endDeadline:
			sctx, scancel := context.WithTimeout(ctx, c.timeout)
			defer scancel()
			endErr = p.Shutdown(sctx)
			if errors.Is(endErr, context.DeadlineExceeded) {
				endErr = nil
			}
		case endClose:
			endErr = p.Close()
		case endLifetime:
			lcancel(errProperty)
		}
	}
	got, err := drive(ctx, rng, c, p.Submit, p.Results(), end)
	if err != nil {
		return err
	}
	select {
	case <-p.Done():
	case <-ctx.Done():
		return errors.New("pool not done")
	}
	if endErr != nil && !errors.Is(endErr, errProperty) {
		return fmt.Errorf("end: %w", endErr)
	}
	st := p.Stats()
	if st.Submitted != st.Results+st.Skipped+st.Failed+st.Undelivered || st.InFlight != 0 || st.Queued != 0 {
		return fmt.Errorf("stats %+v: Submitted != Results + Skipped + Failed + Undelivered", st)
	}
	if got != st.Results {
		return fmt.Errorf("stats %+v: consumer got %d", st, got)
	}
	if c.end == endShutdown && (st.Undelivered != 0 || st.Submitted < uint64(c.endAt)) {
		return fmt.Errorf("stats %+v: a drained Shutdown left tasks undelivered", st)
	}
	if st.Dead != 0 || st.Lost != 0 || st.Resent != 0 {
		return fmt.Errorf("stats %+v: a worker declared dead", st)
	}
	return nil
}
