package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/zmqchan/zmqchan/pipeline"
	"github.com/zmqchan/zmqchan/shutdown"
)

// sink reads the pool's results and events, checks every answer, prints
// the progress line, kills a worker at -kill of the batch, and holds what
// the summary prints. Its fields are the sink stage's own while it runs;
// summary and verdict read them once the group's Wait has returned.
type sink struct {
	c     config
	pr    *printer
	pool  *pipeline.Pool[int, Result]
	fleet *fleet
	sig   context.Context // the signal context: done once a signal began the shutdown

	seen         []uint32 // seen[n]: answers for task n
	distinct     int      // tasks answered at least once
	twice, wrong int      // answers for a task already answered; wrong squares
	byWorker     map[string]int
	start, end   time.Time // first and last answer
	lastN        int       // distinct at the last progress line
	lastT        time.Time
	victim       *proc // the worker killed, once it has been
	killedAt     time.Time
	killedPct    int
	deadAfter    time.Duration // from the SIGKILL to the pool declaring it dead
	otherDeaths  []string      // workers declared dead that the demo did not kill
	lost         int           // tasks reported lost (none, with WithAtLeastOnce)
}

func newSink(sig context.Context, c config, pr *printer, pool *pipeline.Pool[int, Result], fl *fleet) *sink {
	return &sink{sig: sig, c: c, pr: pr, pool: pool, fleet: fl, seen: make([]uint32, c.tasks+1), byWorker: map[string]int{}}
}

// run is the sink stage: it reads until the pool closes Results (or its
// turn in the shutdown comes), and calls done once every task has been
// answered, which begins the group's shutdown.
func (s *sink) run(ctx context.Context, events <-chan pipeline.PoolEvent[int], done func()) error {
	tick := time.NewTicker(s.pr.every)
	defer tick.Stop()
	results := s.pool.Results()
	for {
		select {
		case r, ok := <-results:
			if !ok {
				return nil
			}
			s.take(r)
			if s.victim == nil && s.c.kill > 0 && s.distinct >= int(s.c.kill*float64(s.c.tasks)) {
				s.kill()
			}
		case ev := <-events:
			s.event(ev)
		case <-tick.C:
			if s.end.IsZero() {
				s.status(false)
			}
		case <-ctx.Done():
			return nil
		}
		// Every task answered, or else reported lost (which at-least-once
		// never does): the batch is over either way, and verdict tells.
		if s.distinct+s.lost == s.c.tasks && s.end.IsZero() {
			s.end = time.Now()
			s.status(true)
			done()
		}
	}
}

// take checks and counts one answer.
func (s *sink) take(r Result) {
	now := time.Now()
	if s.start.IsZero() {
		s.start, s.lastT = now, now
	}
	w := r.Worker
	if w == "" {
		w = "python" // pool_worker.py does not name itself in its answers
	}
	s.byWorker[w]++
	if r.N < 1 || r.N > s.c.tasks || r.Sq != r.N*r.N {
		s.wrong++
		return
	}
	if s.seen[r.N]++; s.seen[r.N] == 1 {
		s.distinct++
	} else {
		s.twice++
	}
}

// kill sends SIGKILL to the first Go worker, as a crash would.
func (s *sink) kill() {
	s.victim = s.fleet.procs[0]
	s.killedAt = time.Now()
	s.killedPct = s.distinct * 100 / s.c.tasks
	if err := s.fleet.kill(s.victim); err != nil {
		s.pr.line("SIGKILL %s: %v", s.victim.name, err)
		return
	}
	s.pr.line("%s  SIGKILL %s (pid %d) at %d%%: the tasks it holds (at most its credit, %d) are now nobody's",
		s.clock(), s.victim.name, s.victim.cmd.Process.Pid, s.killedPct, pipeline.DefaultCredit)
}

// event prints a worker's death, or its leaving with tasks in hand, and
// records it. Joins and goodbyes are in the pool's Stats, which the
// summary prints.
func (s *sink) event(ev pipeline.PoolEvent[int]) {
	switch ev.Kind {
	case pipeline.WorkerLeft:
		if len(ev.IDs) > 0 && !s.stopping() {
			if !ev.Resent {
				s.lost += len(ev.IDs)
			}
			s.pr.line("%s  %s left holding %d tasks (re-dispatched: %v)", s.clock(), ev.Worker, len(ev.IDs), ev.Resent)
		}
	case pipeline.WorkerDead:
		if !ev.Resent {
			s.lost += len(ev.IDs)
		}
		ids := slices.Clone(ev.IDs)
		slices.Sort(ids)
		if s.victim != nil && s.deadAfter == 0 && isProc(ev.Worker, s.victim.name) {
			s.deadAfter = time.Since(s.killedAt)
			s.pr.line("%s  %s declared dead %v after the SIGKILL (silent for %d heartbeats of %v): its %d unanswered tasks re-dispatched to the others: %s",
				s.clock(), ev.Worker, s.deadAfter.Round(time.Millisecond), pipeline.DefaultLiveness, pipeline.DefaultHeartbeat, len(ids), idList(ids))
			return
		}
		s.otherDeaths = append(s.otherDeaths, ev.Worker)
		s.pr.line("%s  %s declared dead (silent for the liveness bound, not killed: a loaded machine?): %d tasks re-dispatched",
			s.clock(), ev.Worker, len(ids))
	}
}

// stopping reports whether the shutdown has begun (the batch is over, or
// a signal came): a worker that leaves then is one the pool's KILL
// stopped, and the tasks it held are abandoned, not re-dispatched.
func (s *sink) stopping() bool { return !s.end.IsZero() || s.sig.Err() != nil }

// drainEvents counts the events the sink had not read when Results closed
// (the goodbyes of the pool's KILL come just before).
func (s *sink) drainEvents(events <-chan pipeline.PoolEvent[int]) {
	for {
		select {
		case ev := <-events:
			s.event(ev)
		default:
			return
		}
	}
}

// status prints the progress line: done, throughput over the last
// interval (over the whole batch for the final one), workers, in flight.
func (s *sink) status(final bool) {
	now := time.Now()
	pct := s.distinct * 100 / s.c.tasks
	var rate float64
	switch {
	case final && now.After(s.start):
		rate = float64(s.distinct) / now.Sub(s.start).Seconds()
	case !s.lastT.IsZero() && now.After(s.lastT):
		rate = float64(s.distinct-s.lastN) / now.Sub(s.lastT).Seconds()
	}
	s.lastN, s.lastT = s.distinct, now
	st := s.pool.Stats()
	bar := strings.Repeat("#", pct/5) + strings.Repeat(".", 20-pct/5)
	line := fmt.Sprintf("progress [%s] %3d%%  %d/%d tasks  %5.0f tasks/s  %d workers  %2d in flight", bar, pct, s.distinct, s.c.tasks, rate, st.Workers, st.InFlight)
	if st.Resent > 0 {
		line += fmt.Sprintf("  %d re-sent", st.Resent)
	}
	if s.victim != nil && s.deadAfter == 0 {
		line += fmt.Sprintf("  (%s killed, not yet declared dead)", s.victim.name)
	}
	s.pr.status(line, final)
}

// clock is the time since the first answer, for the event lines.
func (s *sink) clock() string {
	if s.start.IsZero() {
		return "t=0.0s"
	}
	return fmt.Sprintf("t=%.1fs", time.Since(s.start).Seconds())
}

// summary prints the batch, each worker's share, the recovery, the pool's
// accounting and the shutdown Report.
func (s *sink) summary(rep *shutdown.Report, forced []string) {
	s.pr.finish()
	w := s.pr.w
	if !s.end.IsZero() {
		took := s.end.Sub(s.start)
		fmt.Fprintf(w, "batch: %d tasks in %v, %.0f tasks/s\n", s.c.tasks, took.Round(time.Millisecond), float64(s.c.tasks)/took.Seconds())
	} else {
		fmt.Fprintf(w, "batch: stopped with %d of %d tasks answered, %d never submitted\n",
			s.distinct, s.c.tasks, s.c.tasks-int(s.pool.Stats().Submitted))
	}
	fmt.Fprintln(w, "workers:")
	for _, p := range s.fleet.procs {
		how := p.how()
		if p == s.victim {
			how += fmt.Sprintf(" at %d%%", s.killedPct)
		}
		if slices.Contains(forced, p.name) {
			how = "did not exit on KILL: killed after " + reapBound.String()
		}
		fmt.Fprintf(w, "  %-6s  pid %-7d  %6d answers  %s\n", p.name, p.cmd.Process.Pid, s.byWorker[p.name], how)
	}
	st := s.pool.Stats()
	if s.victim != nil {
		if s.deadAfter > 0 {
			fmt.Fprintf(w, "recovery: %s declared dead %v after its SIGKILL; %d tasks re-sent (its credit is %d), %d duplicate answers dropped by the pool\n",
				s.victim.name, s.deadAfter.Round(time.Millisecond), st.Resent, pipeline.DefaultCredit, st.Duplicates)
		} else {
			fmt.Fprintf(w, "recovery: %s was killed, and the pool had not declared it dead when it stopped\n", s.victim.name)
		}
	}
	if len(s.otherDeaths) > 0 {
		fmt.Fprintf(w, "also declared dead, though not killed (each registered again): %s\n", strings.Join(s.otherDeaths, ", "))
	}
	fmt.Fprintf(w, "pool: submitted %d = results %d + skipped %d + failed %d + undelivered %d; workers joined %d, left %d, dead %d\n",
		st.Submitted, st.Results, st.Skipped, st.Failed, st.Undelivered, st.Joined, st.Left, st.Dead)
	fmt.Fprintln(w, "shutdown report:")
	fmt.Fprint(w, rep.Table())
}

// verdict is nil if every task was answered exactly once with its square.
func (s *sink) verdict() error {
	missing := s.c.tasks - s.distinct
	if missing == 0 && s.twice == 0 && s.wrong == 0 {
		fmt.Fprintf(s.pr.w, "exactly once: each of the %d tasks answered once, with the right square\n", s.c.tasks)
		return nil
	}
	return fmt.Errorf("not exactly once: %d tasks unanswered (%d reported lost), %d answered twice, %d wrong answers", missing, s.lost, s.twice, s.wrong)
}

// isProc reports whether the pool's name for a worker (Work registers a
// worker as its WithName, a dot and its number) is process name's.
func isProc(registered, name string) bool {
	return registered == name || strings.HasPrefix(registered, name+".")
}

// idList shows at most ten task ids.
func idList(ids []uint64) string {
	var b strings.Builder
	for i, id := range ids {
		if i == 10 {
			fmt.Fprintf(&b, " ... (%d more)", len(ids)-10)
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprint(&b, id)
	}
	if len(ids) == 0 {
		return "none"
	}
	return "ids " + b.String()
}

// printer writes the progress line and the event lines. On a terminal the
// progress line is rewritten in place (\r) five times a second, and an
// event line replaces it and is followed by it; elsewhere (a pipe, a file,
// a test) each progress line is a line of its own, once a second.
type printer struct {
	w     io.Writer
	tty   bool
	every time.Duration
	dirty bool // a progress line is on the screen, without its newline
}

func newPrinter(w io.Writer) *printer {
	p := &printer{w: w, every: time.Second}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty, p.every = true, 200*time.Millisecond
		}
	}
	return p
}

// status prints a progress line; the final one stays.
func (p *printer) status(line string, final bool) {
	if !p.tty {
		fmt.Fprintln(p.w, line)
		return
	}
	fmt.Fprintf(p.w, "\r\x1b[K%s", line)
	p.dirty = true
	if final {
		p.finish()
	}
}

// line prints a line of its own, above the progress line.
func (p *printer) line(format string, args ...any) {
	if p.dirty {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.dirty = false
	}
	fmt.Fprintf(p.w, format+"\n", args...)
}

// finish ends a progress line left on the screen.
func (p *printer) finish() {
	if p.dirty {
		fmt.Fprintln(p.w)
		p.dirty = false
	}
}
