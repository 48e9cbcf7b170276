package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/zmqchan/zmqchan/zchan"
)

// WorkStats is what Work's workers did, summed over them.
type WorkStats struct {
	// Done counts results sent to the pool, Skipped the ErrSkip answers
	// sent, Failed the tasks whose function or codec failed (each one ends
	// its worker).
	Done, Skipped, Failed uint64
	// Discarded counts tasks taken and not answered: held or running when
	// KILL came or ctx ended, or held when the pool was lost and the worker
	// reconnected (the pool has given them up by then, see the protocol).
	Discarded uint64
	// Reconnects counts the times a worker lost the pool (silent for the
	// liveness bound, or a RECONNECT from it) and registered again.
	Reconnects uint64
	// Duration is how long Work ran.
	Duration time.Duration
}

// workCounters are one Work call's (or one local worker's) counts.
type workCounters struct {
	done, skipped, failed, discarded, reconnects atomic.Uint64
}

func (c *workCounters) stats(d time.Duration) WorkStats {
	return WorkStats{Done: c.done.Load(), Skipped: c.skipped.Load(), Failed: c.failed.Load(),
		Discarded: c.discarded.Load(), Reconnects: c.reconnects.Load(), Duration: d}
}

// workerConf is what one worker needs besides its function.
type workerConf struct {
	name     string
	endpoint string
	o        *options
	// onFail, if set, is told a failure of the function before the worker
	// reports it on the link: a local worker hands the pool the error
	// itself (errors.Is works on it), not only its text.
	onFail func(error)
}

type workerTask struct {
	id      uint64
	frames  [][]byte
	session uint64
}

// workerReply is the runner's failure on task id.
type workerReply struct {
	id   uint64
	fail error
}

// errPoolLost ends a worker's session: the pool was silent for the
// liveness bound or told it to register again.
var errPoolLost = errors.New("pipeline: pool lost")

// runWorker is one worker: the Paranoid Pirate of the guide, with credit.
// Its link goroutine (the caller's) owns the DEALER: it registers with
// READY, reads every message from the pool as it arrives (each TASKS
// message, a batch, goes into a queue of the credit's size, which the pool
// never overfills), sends a heartbeat every interval, and watches the
// pool's liveness. The function runs on the runner goroutine, which sends
// the answers itself, so a long task delays neither the heartbeats nor the
// reading of KILL. It returns killed on KILL, or an error: the function's
// failure, or context.Cause(ctx) once ctx has ended. Either way it has
// said goodbye (or reported the failure) within the linger and closed its
// socket.
func runWorker(ctx context.Context, c *workerConf, pr proc, st *workCounters) (killed bool, err error) {
	o := c.o
	fctx, fcancel := context.WithCancelCause(ctx) // the function's
	// A batch holds one task or more and a worker at most its credit of
	// tasks, so credit batches always fit.
	tasks := make(chan []workerTask, o.credit)
	replies := make(chan workerReply, 1)
	var ws workerSession
	free := new(freeList) // the buffers of the RESULTS messages sent
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		runTasks(fctx, pr, tasks, replies, &ws, st, free)
	}()
	var sock *zchan.Socket[zchan.Msg]
	defer func() {
		fcancel(ErrClosed)
		wg.Wait()
		for len(tasks) > 0 {
			st.discarded.Add(uint64(len(<-tasks)))
		}
		if sock != nil {
			sock.Close()
		}
	}()

	bound := o.heartbeat * time.Duration(o.liveness)
	backoff := o.heartbeat
	var session uint64
	for first := true; ; first = false {
		if !first {
			// The pool was lost: what is queued is the old session's, given
			// up by the pool (the answers of a task running now still go).
			sock.Close()
			sock = nil
			for len(tasks) > 0 {
				st.discarded.Add(uint64(len(<-tasks)))
			}
			st.reconnects.Add(1)
			o.logger.Info("pipeline: worker lost the pool, reconnecting", zap.String("worker", c.name),
				zap.String("endpoint", c.endpoint), zap.Duration("after", backoff))
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return false, context.Cause(ctx)
			}
			backoff = min(2*backoff, 32*o.heartbeat)
		}
		session++
		var err error
		sock, err = zchan.Open(ctx, zchan.Dealer, o.sockOpts(c.name, zchan.WithConnect(c.endpoint),
			zchan.WithSent(free.sentBatch(kResult, 0)))...)
		if err != nil {
			return false, err
		}
		ws.start(sock, session)
		killed, heard, err := runSession(ctx, c, sock, session, bound, tasks, replies, &ws, st)
		if heard {
			backoff = o.heartbeat
		}
		if errors.Is(err, errPoolLost) && ctx.Err() == nil {
			continue
		}
		fcancel(ErrClosed)
		// Goodbye, or the failure, within the linger (ctx may have ended).
		bctx, bcancel := context.WithTimeout(context.Background(), o.linger)
		var fe *taskFailure
		switch {
		case errors.As(err, &fe):
			_ = sock.Send(bctx, taskFailMsg(fe.r.fail, fe.r.id, true))
			err = fe.r.fail
		case err != nil && ctx.Err() == nil:
			_ = sock.Send(bctx, taskFailMsg(err, 0, false))
		default:
			_ = sock.Send(bctx, byeMsg)
		}
		bcancel()
		if killed {
			return true, nil
		}
		if err == nil {
			err = context.Cause(ctx)
		}
		return false, err
	}
}

// workerSession is what the link goroutine and the runner share of the
// current session: its socket (the runner sends the answers on it), its
// number (the runner drops the tasks of a session that has ended: the
// pool has given them up), and how many of its tasks the worker holds,
// which the pool must keep within the credit.
type workerSession struct {
	sock atomic.Pointer[zchan.Socket[zchan.Msg]]
	n    atomic.Uint64
	held atomic.Int64
}

func (ws *workerSession) start(sock *zchan.Socket[zchan.Msg], n uint64) {
	ws.held.Store(0)
	ws.sock.Store(sock)
	ws.n.Store(n)
}

// taskFailure carries the runner's failure out of runSession.
type taskFailure struct{ r workerReply }

func (f *taskFailure) Error() string { return f.r.fail.Error() }
func (f *taskFailure) Unwrap() error { return f.r.fail }

// runSession registers on sock and serves the pool until KILL (killed),
// ctx's end, a failure, or the pool's loss (errPoolLost). heard reports
// whether the pool said anything at all.
func runSession(ctx context.Context, c *workerConf, sock *zchan.Socket[zchan.Msg], session uint64, bound time.Duration,
	tasks chan []workerTask, replies chan workerReply, ws *workerSession, st *workCounters) (killed, heard bool, err error) {
	o := c.o
	// sctx ends when the pool has been silent for the bound: the watchdog
	// also cuts short a Send stuck behind a pool that stopped reading.
	sctx, scancel := context.WithCancelCause(ctx)
	defer scancel(nil)
	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	var dog *time.Timer
	var dogMu sync.Mutex
	dogMu.Lock()
	dog = time.AfterFunc(bound, func() {
		dogMu.Lock()
		defer dogMu.Unlock()
		if idle := time.Since(time.Unix(0, last.Load())); idle >= bound {
			scancel(errPoolLost)
		} else {
			dog.Reset(bound - idle)
		}
	})
	dogMu.Unlock()
	defer dog.Stop()

	if err := sock.Send(sctx, helloMsg(o.credit, c.name)); err != nil {
		return false, false, sessionErr(ctx, sctx, err)
	}
	tick := time.NewTicker(o.heartbeat)
	defer tick.Stop()
	for {
		select {
		case m, ok := <-sock.In():
			if !ok {
				return false, heard, fmt.Errorf("pipeline: worker %s: %w", c.name, sock.Err())
			}
			heard = true
			last.Store(time.Now().UnixNano())
			switch kindOf(m) {
			case kTask:
				b, err := readTasks(m, session)
				if err != nil {
					return false, heard, fmt.Errorf("pipeline: worker %s: %w", c.name, err)
				}
				if ws.held.Add(int64(len(b))) > int64(o.credit) {
					return false, heard, fmt.Errorf("pipeline: worker %s: task beyond credit %d: %w", c.name, o.credit, ErrProtocol)
				}
				tasks <- b // never blocks: credit batches fit
			case kPing:
			case kKill:
				return true, heard, nil
			case kReconnect:
				return false, heard, errPoolLost
			default:
				return false, heard, fmt.Errorf("pipeline: worker %s: message kind %q: %w", c.name, kindOf(m), ErrProtocol)
			}
		case r := <-replies: // the runner's failure
			st.failed.Add(1)
			if c.onFail != nil {
				c.onFail(r.fail)
			}
			return false, heard, &taskFailure{r}
		case <-tick.C:
			if err := sock.Send(sctx, pingMsg); err != nil {
				return false, heard, sessionErr(ctx, sctx, err)
			}
		case <-sctx.Done():
			return false, heard, sessionErr(ctx, sctx, nil)
		}
	}
}

// readTasks reads a TASKS message: one task or more.
func readTasks(m zchan.Msg, session uint64) ([]workerTask, error) {
	body, err := batchBody(m)
	if err != nil {
		return nil, err
	}
	entries, nframes := countEntries(body, false)
	var (
		b    = make([]workerTask, 0, entries)
		slab = make([][]byte, 0, nframes)
	)
	for len(body) > 0 {
		var id uint64
		var frames [][]byte
		var rest []byte
		id, frames, rest, slab, err = nextEntry(body, slab)
		if err != nil {
			return nil, err
		}
		b = append(b, workerTask{id: id, frames: frames, session: session})
		body = rest
	}
	return b, nil
}

// sessionErr is why a session's send failed or its context ended.
func sessionErr(ctx, sctx context.Context, err error) error {
	switch {
	case ctx.Err() != nil:
		return context.Cause(ctx)
	case sctx.Err() != nil:
		return context.Cause(sctx)
	}
	return err
}

// flushAfter bounds how long a worker keeps answers before sending them:
// it sends what it has when it runs out of tasks, or once it has spent
// this long on the tasks of the answers it holds. Batching answers saves
// a message per answer when tasks are short (a message costs the two
// sides several µs); the bound keeps a slow task from holding back the
// answers done before it by more than this.
const flushAfter = 100 * time.Microsecond

// runTasks is a worker's runner: it runs the function on each task and
// sends the answers on the session's socket itself (zchan's Send is safe
// for concurrent use, and a hop through the link goroutine would cost a
// goroutine hand-off per message), several in one RESULTS message when it
// has them (see flushAfter), until fctx ends or the function fails, whose
// failure it hands to the link goroutine after sending the answers before
// it. The RESULTS buffers come from free, where the socket puts them back
// once sent (see freeList). Answers whose socket has closed meanwhile (the session ended), and
// tasks of a session that has ended, are discarded: the pool has given
// them up.
func runTasks(fctx context.Context, pr proc, tasks <-chan []workerTask, replies chan<- workerReply,
	ws *workerSession, st *workCounters, free *freeList) {
	var (
		buf           []byte // kResult and the answers not yet sent
		scratch       [1][]byte
		done, skipped uint64 // the answers in buf
		since         time.Time
	)
	flush := func() {
		if done+skipped == 0 {
			return
		}
		if err := ws.sock.Load().Send(fctx, zchan.Msg{buf}); err != nil {
			st.discarded.Add(done + skipped)
		} else {
			st.done.Add(done)
			st.skipped.Add(skipped)
		}
		buf, done, skipped = nil, 0, 0
	}
	for {
		var b []workerTask
		select {
		case b = <-tasks:
		default:
			flush() // nothing in hand: send what is done
			select {
			case b = <-tasks:
			case <-fctx.Done():
				return
			}
		}
		for i, t := range b {
			if t.session != ws.n.Load() {
				st.discarded.Add(1)
				continue
			}
			if done+skipped == 0 {
				since = time.Now()
			}
			res, err := pr(fctx, t.frames, &scratch)
			if done+skipped == 0 {
				// Room for as many answers of this size as there are
				// tasks left in the batch: a buffer from the free list,
				// or one allocation per RESULTS.
				buf = append(free.get(1+(len(b)-i)*(1+entryLen(res))), kResult)
			}
			switch {
			case errors.Is(err, ErrSkip):
				buf = appendEntry(append(buf, kSkipped), t.id, nil)
				skipped++
			case err != nil && fctx.Err() != nil:
				// Stopped while running: the stop, not a failure.
				st.discarded.Add(uint64(len(b)-i) + done + skipped)
				return
			case err != nil:
				flush()
				st.discarded.Add(uint64(len(b) - i - 1))
				select {
				case replies <- workerReply{id: t.id, fail: err}:
				case <-fctx.Done():
				}
				return
			default:
				buf = appendEntry(append(buf, kResult), t.id, res)
				done++
			}
			if t.session == ws.n.Load() {
				ws.held.Add(-1)
			}
			if time.Since(since) >= flushAfter {
				flush()
			}
		}
	}
}

// Work runs workers for a pool that runs elsewhere (NewPool with
// WithEndpoint on ipc or tcp), with the same function and codecs: the
// guide's Paranoid Pirate worker. Each worker (WithWorkers, default 1)
// connects a DEALER to endpoint, registers with its credit
// (WithWorkerCredit), and runs the tasks the pool sends, one at a time,
// until the pool sends KILL, ctx ends, or f fails. It heartbeats the pool
// and, when the pool has been silent for the liveness bound
// (WithHeartbeat) or tells it to, drops the tasks it has not started,
// reconnects and registers again, backing off from one heartbeat interval
// up to 32. A worker that stops on KILL or ctx says goodbye; a failure is
// reported to the pool, whose Err then wraps ErrRemote with its text.
//
// Work blocks until every worker has stopped. It returns what they did
// (WorkStats) and nil if all stopped on KILL, else the first error
// (context.Cause(ctx) if ctx ended first). A worker whose pool is gone
// for good keeps trying to reconnect until ctx ends. Work closes its
// sockets and terminates its zchan.Context (its own unless WithContext),
// waiting up to about the linger for its last messages to leave.
//
// Applies: WithContext, WithName, WithLogger, WithCodec, WithLinger,
// WithWorkers, WithWorkerCredit, WithHeartbeat.
func Work[Task, Result any](ctx context.Context, f Stage[Task, Result], endpoint string, opts ...Option) (WorkStats, error) {
	start := time.Now()
	o, err := newOptions(forWork, opts)
	if err != nil {
		return WorkStats{}, err
	}
	if f == nil {
		return WorkStats{}, fmt.Errorf("pipeline: work: nil function: %w", ErrInvalidOption)
	}
	if endpoint == "" {
		return WorkStats{}, fmt.Errorf("pipeline: work: empty endpoint: %w", ErrInvalidOption)
	}
	if o.zctx == nil {
		zc, err := zchan.NewContext()
		if err != nil {
			return WorkStats{}, err
		}
		o.zctx = zc
		defer termBounded(zc, o.linger)
	}
	name := o.name
	if name == "" {
		name = "work"
	}
	p := makeProc(name, f, codecFor[Task](&o), codecFor[Result](&o))
	var (
		wg       sync.WaitGroup
		st       workCounters
		errOnce  sync.Once
		firstErr error
	)
	for i := 0; i < o.workers; i++ {
		c := &workerConf{name: fmt.Sprintf("%s.%d", name, i), endpoint: endpoint, o: &o}
		wg.Go(func() {
			if killed, err := runWorker(ctx, c, p, &st); !killed {
				errOnce.Do(func() { firstErr = err })
			}
		})
	}
	wg.Wait()
	return st.stats(time.Since(start)), firstErr
}
