package shutdown_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/shutdown"
	"github.com/zmqchan/zmqchan/zchan"
)

// propCase is one random service: source -> vent (PUSH) -> worker-in
// (PULL) -> worker -> worker-out (PUSH) -> sink (PULL) -> consumer.
type propCase struct {
	tcp            bool
	lossless       bool
	workDelay      time.Duration // the worker's time per message
	consumeDelay   time.Duration // the consumer's
	drain, linger  time.Duration
	hwm, size      int
	smallKernelBuf bool
	after          uint64 // messages delivered before shutdown begins
}

func (c propCase) String() string {
	tr := "inproc"
	if c.tcp {
		tr = "tcp"
	}
	return fmt.Sprintf("%s lossless=%v work=%v consume=%v drain=%v linger=%v hwm=%d size=%d kbuf4k=%v after=%d",
		tr, c.lossless, c.workDelay, c.consumeDelay, c.drain, c.linger, c.hwm, c.size, c.smallKernelBuf, c.after)
}

// TestPropertyAccounting runs random services, over tcp (three cases in
// four) and inproc, with a consumer or a worker up to 1000x slower than
// the source, the lossless drain on or off, drain deadlines from 100ms to
// 2s, lingers from 0 to 1s, HWMs from 10 to 1000, and 1 or 1000-byte
// messages, and shuts each down mid-stream. In every case the count
// closes, sent = delivered + undelivered (Report) + not forwarded by the
// worker + lost in transit (Report), with every link exact; and with the
// lossless drain, unless the drain deadline cut something short
// (ErrDrainTimeout), nothing is lost in transit. Wait's error holds
// nothing but ErrDrainTimeout and ErrLostInTransit.
//
// The first case is fixed (tcp, lossless, a zero linger, a slow worker);
// the others are random. Cases: 10 (about 10s under -race); SHUTDOWN_PROP_CASES sets another
// count and SHUTDOWN_PROP_SEED the seed (logged on failure).
func TestPropertyAccounting(t *testing.T) {
	n := 10
	if v, err := strconv.Atoi(os.Getenv("SHUTDOWN_PROP_CASES")); err == nil && v > 0 {
		n = v
	}
	seed := uint64(time.Now().UnixNano())
	if v, err := strconv.ParseUint(os.Getenv("SHUTDOWN_PROP_SEED"), 10, 64); err == nil {
		seed = v
	}
	r := rand.New(rand.NewPCG(seed, 14))
	pick := func(d ...time.Duration) time.Duration { return d[r.IntN(len(d))] }
	var lostCases, cutCases int
	for i := 0; i < n; i++ {
		c := propCase{
			tcp:            r.IntN(4) != 0,
			lossless:       r.IntN(2) == 0,
			workDelay:      pick(0, 0, 200*time.Microsecond, time.Millisecond),
			consumeDelay:   pick(0, 0, time.Millisecond),
			drain:          pick(100*time.Millisecond, 500*time.Millisecond, 2*time.Second),
			linger:         pick(0, 100*time.Millisecond, time.Second),
			hwm:            []int{10, 100, 1000}[r.IntN(3)],
			size:           []int{1, 1000}[r.IntN(2)],
			smallKernelBuf: r.IntN(2) == 0,
			after:          uint64(10 + r.IntN(300)),
		}
		if i == 0 {
			// The first case is fixed: the one a drain that does not wait
			// for the receivers fails (a zero linger drops what the
			// ventilator still queues when it closes; the deadline is far).
			c = propCase{tcp: true, lossless: true, workDelay: 200 * time.Microsecond, drain: 2 * time.Second,
				hwm: 100, size: 1000, smallKernelBuf: true, after: 100}
		}
		lost, cut := propRun(t, i, c)
		if lost {
			lostCases++
		}
		if cut {
			cutCases++
		}
		if t.Failed() {
			t.Fatalf("case %d failed (seed %d): %v", i, seed, c)
		}
	}
	t.Logf("%d cases (seed %d): %d cut short by the drain deadline, %d lost messages in transit, all accounted for", n, seed, cutCases, lostCases)
}

// propRun runs one case and checks it; it reports whether messages were
// lost in transit and whether the deadline cut the drain short.
func propRun(t *testing.T, i int, c propCase) (lost, cut bool) {
	g, err := shutdown.New(context.Background(), shutdown.WithDrainTimeout(c.drain), shutdown.WithLosslessDrain(c.lossless))
	if err != nil {
		t.Fatal(err)
	}
	tasks, results := testutil.Inproc(t), testutil.Inproc(t)
	if c.tcp {
		tasks, results = "tcp://127.0.0.1:*", "tcp://127.0.0.1:*"
	}
	common := []zchan.Option{zchan.WithLinger(c.linger), zchan.WithSendHWM(c.hwm), zchan.WithRecvHWM(c.hwm)}
	if c.smallKernelBuf {
		common = append(common, smallKernelBuffers())
	}
	o := func(extra ...zchan.Option) []zchan.Option { return append(extra, common...) }
	vent := openIn(t, g, zchan.Push, "vent", o(zchan.WithBind(tasks))...)
	win := openIn(t, g, zchan.Pull, "worker-in", o(zchan.WithConnect(vent.Endpoints()[0]))...)
	sink := openIn(t, g, zchan.Pull, "sink", o(zchan.WithBind(results))...)
	wout := openIn(t, g, zchan.Push, "worker-out", o(zchan.WithConnect(sink.Endpoints()[0]))...)
	msg := strings.Repeat("m", c.size)
	var sent, notForwarded, delivered atomic.Uint64
	midStream := make(chan struct{})
	g.Go("source", func(ctx context.Context) error {
		for vent.Send(ctx, zchan.NewMsg(msg)) == nil {
			sent.Add(1)
		}
		return nil
	})
	g.Add(vent)
	g.Add(win)
	g.Go("worker", func(ctx context.Context) error {
		for m := range win.In() {
			if c.workDelay > 0 {
				time.Sleep(c.workDelay) // the work
			}
			if wout.Send(ctx, m) != nil {
				notForwarded.Add(1)
			}
		}
		return nil
	})
	g.Add(wout)
	g.Add(sink)
	g.Go("consumer", func(ctx context.Context) error {
		for range sink.In() {
			if c.consumeDelay > 0 {
				time.Sleep(c.consumeDelay)
			}
			if delivered.Add(1) == c.after {
				close(midStream)
			}
		}
		return nil
	})
	select {
	case <-midStream:
	case <-time.After(bound):
		g.Shutdown()
		g.Wait()
		t.Fatalf("case %d: %d of %d delivered within %v: %v", i, delivered.Load(), c.after, bound, c)
	}
	g.Shutdown()
	rep, err := wait(t, g)
	cut = errors.Is(err, shutdown.ErrDrainTimeout)
	lost = rep.TotalLost() > 0
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			if !strings.HasPrefix(line, shutdown.ErrDrainTimeout.Error()) && !strings.HasPrefix(line, shutdown.ErrLostInTransit.Error()) {
				t.Errorf("case %d: error %q\n%v", i, line, c)
			}
		}
	}
	if lost != errors.Is(err, shutdown.ErrLostInTransit) {
		t.Errorf("case %d: lost in transit %d, err %v", i, rep.TotalLost(), err)
	}
	if s := sent.Load(); s != delivered.Load()+rep.TotalUndelivered()+notForwarded.Load()+rep.TotalLost() {
		t.Errorf("case %d: sent %d != delivered %d + undelivered %d + not forwarded %d + lost in transit %d\n%v\n%s",
			i, s, delivered.Load(), rep.TotalUndelivered(), notForwarded.Load(), rep.TotalLost(), c, rep)
	}
	for _, l := range rep.Links {
		if !l.Exact {
			t.Errorf("case %d: inexact link %v", i, l)
		}
	}
	if c.lossless && !cut && lost {
		t.Errorf("case %d: lossless drain, no deadline passed, yet %d lost in transit\n%v\n%s", i, rep.TotalLost(), c, rep)
	}
	if t.Failed() {
		t.Logf("case %d: %v\n%s", i, c, rep)
	}
	return lost, cut
}
