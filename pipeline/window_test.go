package pipeline

// An internal test: window is the pool's unexported dispatch logic, pure
// and driven by the times passed in, so it is tested here against a
// simulated worker rather than through a pool's timing.

import (
	"math/rand/v2"
	"testing"
	"time"
)

// simWorker is a worker and its link as the window sees them: tasks take
// d to reach it, it runs them one at a time in order, s each, and each
// answer takes d back. The pool refills it by the window's rule whenever
// an answer arrives, from an endless queue.
type simWorker struct {
	w        window
	s, d     time.Duration
	now      time.Time
	held     int
	lastDone time.Time   // when the worker finishes what it has been sent
	arrivals []time.Time // the answers on their way, in order
	answered int
	maxSize  int
	minSize  int // since the last reset
	busy     time.Duration
}

func newSim(credit int, s, d time.Duration) *simWorker {
	t0 := time.Unix(1_000_000, 0)
	sw := &simWorker{w: newWindow(credit), s: s, d: d, now: t0, lastDone: t0}
	sw.maxSize, sw.minSize = sw.w.size, sw.w.size
	sw.refill()
	return sw
}

func (sw *simWorker) refill() {
	f := sw.w.free(sw.held)
	if f == 0 {
		return
	}
	sw.held += f
	sw.w.sent(sw.now, f, sw.held)
	for range f {
		start := sw.now.Add(sw.d)
		if sw.lastDone.After(start) {
			start = sw.lastDone
		}
		sw.lastDone = start.Add(sw.s)
		sw.busy += sw.s
		sw.arrivals = append(sw.arrivals, sw.lastDone.Add(sw.d))
	}
}

// run simulates for d of simulated time.
func (sw *simWorker) run(t *testing.T, d time.Duration) {
	end := sw.now.Add(d)
	for len(sw.arrivals) > 0 && sw.now.Before(end) {
		sw.now = sw.arrivals[0]
		sw.arrivals = sw.arrivals[1:]
		sw.held--
		sw.answered++
		sw.w.answered(sw.now, 1, sw.held)
		sw.check(t)
		sw.refill()
		sw.check(t)
	}
}

// stall delays every answer on its way by d: the worker's process (or the
// pool's) stood still.
func (sw *simWorker) stall(d time.Duration) {
	for i := range sw.arrivals {
		sw.arrivals[i] = sw.arrivals[i].Add(d)
	}
	sw.lastDone = sw.lastDone.Add(d)
}

func (sw *simWorker) check(t *testing.T) {
	t.Helper()
	w := &sw.w
	if w.size > w.credit || w.size < min(minWindow, w.credit) {
		t.Fatalf("window %d outside [%d, %d]", w.size, min(minWindow, w.credit), w.credit)
	}
	if sw.held > w.credit {
		t.Fatalf("worker holds %d, beyond its credit %d", sw.held, w.credit)
	}
	sw.maxSize = max(sw.maxSize, w.size)
	sw.minSize = min(sw.minSize, w.size)
}

// TestWindowAdapts: a fast worker's window opens to its credit, a slow
// one's stays small, one in between gets about Q's worth of its tasks;
// each is kept busy all the same.
func TestWindowAdapts(t *testing.T) {
	const credit = 64
	for _, tc := range []struct {
		name    string
		s, d    time.Duration
		lo, hi  int // the window at the end
		maxSize int // the largest it ever was
	}{
		// 200,000 tasks/s: rate × Q = 400, capped at the credit.
		{"fast", 5 * time.Microsecond, 50 * time.Microsecond, credit, credit, credit},
		// 10,000 tasks/s, round trip 200 µs: Q is minCover, 2 ms: 20 tasks.
		{"medium", 100 * time.Microsecond, 50 * time.Microsecond, 18, 22, credit},
		// 100 tasks/s, a probe's round trip 10.1 ms: Q 20.2 ms, 3 tasks;
		// never more than the start and the two answers of its first
		// period (slow start).
		{"slow", 10 * time.Millisecond, 50 * time.Microsecond, minWindow, 3, startWindow + 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sw := newSim(credit, tc.s, tc.d)
			start := sw.now
			sw.run(t, 2*time.Second)
			el := sw.now.Sub(start)
			if got := sw.w.size; got < tc.lo || got > tc.hi {
				t.Fatalf("window %d, want %d to %d (rate %.0f/s, Q %v)", got, tc.lo, tc.hi, sw.w.rate, sw.w.cover())
			}
			if sw.maxSize > tc.maxSize {
				t.Fatalf("window reached %d, want at most %d", sw.maxSize, tc.maxSize)
			}
			// Kept busy: the answers are within 5% of what the worker
			// could do in the time.
			if could := int(el / tc.s); sw.answered < could*95/100 {
				t.Fatalf("%d answered in %v, the worker could do %d: the window starves it (size %d)", sw.answered, el, could, sw.w.size)
			}
			t.Logf("window %d (largest %d), rate %.0f/s, Q %v, %d answered in %v", sw.w.size, sw.maxSize, sw.w.rate, sw.w.cover(), sw.answered, el)
		})
	}
}

// TestWindowSlowStart: before its first period is measured, a fast
// worker's window grows with its answers and reaches its credit within a
// few round trips, well inside its first period of Q (so a burst does not
// run at startWindow for a period), while a slow worker grows by no more
// than the answers of its first period: two, since Q is at least twice a
// probe's round trip, which holds one task.
func TestWindowSlowStart(t *testing.T) {
	const credit = 128
	for _, tc := range []struct {
		name    string
		s, d    time.Duration
		by      time.Duration // reaches the credit by then (0: need not)
		maxSize int
	}{
		// Round trip about 100 µs: 8, 16, 32, 64, 128 in five of them.
		{"fast", 5 * time.Microsecond, 50 * time.Microsecond, time.Millisecond, credit},
		{"half Q", time.Millisecond, 50 * time.Microsecond, 0, startWindow + 2},
		{"slow", 10 * time.Millisecond, 50 * time.Microsecond, 0, startWindow + 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sw := newSim(credit, tc.s, tc.d)
			start := sw.now
			var reached time.Duration
			for step := 0; step < 20_000 && sw.now.Sub(start) < time.Second; step++ {
				sw.run(t, tc.s)
				if reached == 0 && sw.w.size == credit {
					reached = sw.now.Sub(start)
				}
			}
			if tc.by > 0 && (reached == 0 || reached > tc.by) {
				t.Fatalf("window reached its credit %d after %v, want by %v (largest %d)", credit, reached, tc.by, sw.maxSize)
			}
			if sw.maxSize > tc.maxSize {
				t.Fatalf("window reached %d, want at most %d", sw.maxSize, tc.maxSize)
			}
			t.Logf("credit reached after %v (0: never); largest %d, window %d at the end", reached, sw.maxSize, sw.w.size)
		})
	}
}

// TestWindowStall: a stall in the middle of a worker's run (no answer for
// 100 ms while it holds tasks: a GC, a descheduled process) shrinks its
// window by at most half, and the window opens again; stall after stall
// shrink it by at most half each, never below minWindow. For a fast
// worker at its credit and one whose window is below it.
func TestWindowStall(t *testing.T) {
	const credit = 64
	for _, tc := range []struct {
		name string
		s    time.Duration
	}{{"fast", 5 * time.Microsecond}, {"medium", 100 * time.Microsecond}} {
		t.Run(tc.name, func(t *testing.T) {
			sw := newSim(credit, tc.s, 50*time.Microsecond)
			sw.run(t, 500*time.Millisecond)
			before := sw.w.size
			sw.stall(100 * time.Millisecond)
			sw.minSize = sw.w.size
			sw.run(t, 500*time.Millisecond)
			if sw.minSize < before/2 {
				t.Fatalf("window fell from %d to %d after one stall, want at least half", before, sw.minSize)
			}
			if sw.w.size < before*9/10 {
				t.Fatalf("window %d after the stall, %d before: want it back", sw.w.size, before)
			}
			t.Logf("window %d before the stall, %d at the smallest after it, %d 500 ms later", before, sw.minSize, sw.w.size)

			prev := sw.w.size
			for range 20 {
				sw.stall(100 * time.Millisecond)
				sw.minSize = sw.w.size
				sw.run(t, 3*time.Millisecond)
				if sw.minSize < max(prev/2, minWindow) {
					t.Fatalf("window fell from %d to %d in one stall", prev, sw.minSize)
				}
				prev = sw.w.size
			}
			t.Logf("window %d after 20 stalls in a row", sw.w.size)
		})
	}
}

// TestWindowBounds: whatever the answers' timing, the window stays within
// [minWindow, credit], what free allows never takes a worker beyond its
// window, and free waits for half the window.
func TestWindowBounds(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, credit := range []int{1, 2, 3, 8, 16, 64, 1 << 16} {
		w := newWindow(credit)
		if w.size != min(credit, startWindow) {
			t.Fatalf("credit %d: start window %d", credit, w.size)
		}
		now := time.Unix(1_000_000, 0)
		held := 0
		for range 20_000 {
			now = now.Add(time.Duration(r.ExpFloat64() * float64(time.Duration(r.IntN(5)+1)*time.Millisecond)))
			if held > 0 && r.IntN(2) == 0 {
				n := r.IntN(held) + 1
				held -= n
				w.answered(now, n, held)
			} else if f := w.free(held); f > 0 {
				if f < (w.size+1)/2 || held+f > w.size {
					t.Fatalf("credit %d: free %d with %d held of a window %d", credit, f, held, w.size)
				}
				n := r.IntN(f) + 1
				held += n
				w.sent(now, n, held)
			}
			if w.size > credit || w.size < min(minWindow, credit) || held > credit {
				t.Fatalf("credit %d: window %d, held %d", credit, w.size, held)
			}
		}
	}
}
