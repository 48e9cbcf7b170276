package pipeline

import (
	"math"
	"time"
)

// The adaptive window's constants (see window).
const (
	// minWindow is the smallest window: two, so that a slow worker has
	// its next task in hand when it finishes one (with one, it would wait
	// a round trip between tasks), and holds back at most two at a batch's
	// end.
	minWindow = 2
	// startWindow is a new worker's window (or its credit, if smaller):
	// small, so that a slow worker never holds many tasks before it has
	// been measured (at most this plus the one or two answers of its
	// first period, see slow start), and large enough to batch from the
	// first send.
	startWindow = 8
	// minCover is the least time a window covers (Q): a worker's answers
	// take a round trip to come back and its next tasks another, and on a
	// shared machine one scheduler tick delays either by about a
	// millisecond.
	minCover = 2 * time.Millisecond
	// rateWeight is the weight of a new period's rate in the smoothed
	// rate (an EWMA): a quarter, so one odd period moves the window by at
	// most about a quarter.
	rateWeight = 0.25
)

// window is one worker's adaptive window: how many tasks the pool keeps
// out to it, at most its credit and at least minWindow (or the credit, if
// smaller). It is
//
//	clamp(ceil(rate × Q), minWindow, credit)
//
// where rate is the worker's answer rate (tasks answered per second,
// measured only while it held tasks, and smoothed) and Q the time the
// window must cover: the longer of minCover and twice the shortest round
// trip seen from a send to a worker that held nothing to its first answer
// (the link both ways plus one task). The pool refills a worker once half
// its window is free, so a window of rate × Q keeps a worker busy while its
// answers go back and its next batch comes. A fast worker's window opens up
// to its credit, where the batches are large; a slow one's stays small, so
// it holds back little at a batch's end and takes little with it if it
// dies: what a worker holds is about Q's worth of its work.
//
// A new worker starts at startWindow and, until its first period has been
// measured, grows its window by each answer (slow start): a fast worker's
// reaches its credit in a few round trips, a slow one's grows by the one
// or two answers of its first period.
//
// The rate is measured over periods of Q of busy time each, ended by an
// answer, so a stall of any length (a GC, a descheduled process) is one
// period: a window shrinks by at most half per period, and a process-wide
// stall does not collapse the windows. It grows at once when the rate says
// so.
//
// window is pure logic: the loop passes the time in and owns it. Its zero
// value is not usable: make one with newWindow.
type window struct {
	credit int
	size   int

	rate   float64       // smoothed answers per second while busy; 0 until measured
	minRTT time.Duration // shortest probe round trip; 0 until measured
	probe  time.Time     // when a probe was sent (to a worker that held nothing); zero if none out

	held  int           // what the worker holds, as last told
	last  time.Time     // the last event
	busy  time.Duration // busy time (held > 0) in the current period
	count int           // answers in the current period
}

func newWindow(credit int) window {
	return window{credit: credit, size: min(credit, startWindow)}
}

// cover is Q: the time the window must cover.
func (w *window) cover() time.Duration { return max(minCover, 2*w.minRTT) }

// advance adds the time since the last event to the period's busy time if
// the worker held tasks meanwhile.
func (w *window) advance(now time.Time) {
	if w.held > 0 && now.After(w.last) {
		w.busy += now.Sub(w.last)
	}
	w.last = now
}

// sent records n tasks sent at now; the worker holds held (them included).
func (w *window) sent(now time.Time, n, held int) {
	w.advance(now)
	if held == n && w.probe.IsZero() {
		w.probe = now // it held nothing: the first answer is one of these
	}
	w.held = held
}

// answered records n answers at now; the worker holds held after them.
func (w *window) answered(now time.Time, n, held int) {
	w.advance(now)
	w.held = held
	if !w.probe.IsZero() {
		if d := now.Sub(w.probe); d > 0 && (w.minRTT == 0 || d < w.minRTT) {
			w.minRTT = d
		}
		w.probe = time.Time{}
	}
	w.count += n
	if w.busy < w.cover() {
		if w.rate == 0 {
			// Slow start, as TCP's: until its first period is measured, a
			// worker's window grows by what it answers, so a fast worker's
			// doubles every round trip and a burst does not run at
			// startWindow for a whole period; a slow worker's grows by the
			// one or two answers of its first period (Q is at least twice
			// a probe's round trip, which holds one task).
			w.size = min(w.credit, w.size+n)
		}
		return
	}
	r := float64(w.count) / w.busy.Seconds()
	if w.rate == 0 {
		w.rate = r
	} else {
		w.rate += rateWeight * (r - w.rate)
	}
	w.busy, w.count = 0, 0
	w.resize()
}

// resize sets the window from the rate: at once up, by at most half down.
func (w *window) resize() {
	want := w.credit
	if t := math.Ceil(w.rate * w.cover().Seconds()); t < float64(w.credit) {
		want = int(t)
	}
	want = max(want, (w.size+1)/2, minWindow)
	w.size = min(want, w.credit)
}

// free is how many more tasks the worker may be sent now: its window less
// what it holds, or 0 until half the window is free (so that each message
// carries a batch, not the one task an answer just freed).
func (w *window) free(held int) int {
	f := w.size - held
	if f < (w.size+1)/2 {
		return 0
	}
	return f
}
