package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/pipeline"
	"github.com/zmqchan/zmqchan/zchan"
)

// TestOpenContextBoundsOpening: the context given to Start, NewPool and
// Queue bounds only the opening. Cancelled once they have returned, it
// leaves the chain, the pool and the device running; a context that has
// already ended fails the constructor with its cause, leaving nothing
// open (goleak checks).
func TestOpenContextBoundsOpening(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	octx, ocancel := context.WithCancel(ctx)
	c, err := pipeline.Start(octx, numberedPlan(), pipeline.WithCodec(i64))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p, err := pipeline.NewPool(octx, squareAfter(0), pipeline.WithWorkers(2))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	front := fmt.Sprintf("inproc://lifetime-front-%p", t)
	d, err := pipeline.Queue(octx, front, front+"-back")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ocancel()

	if err := c.Send(ctx, 41); err != nil {
		t.Fatal(err)
	}
	if v := testutil.MustRecv(t, c.Out(), 30*time.Second, "chain output"); v != 41 {
		t.Fatalf("chain: %d", v)
	}
	if err := p.Submit(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if r := testutil.MustRecv(t, p.Results(), 30*time.Second, "pool result"); r.Sq != 9 {
		t.Fatalf("pool: %+v", r)
	}
	rep, err := zchan.OpenWith(ctx, zchan.Rep, zchan.String, zchan.WithConnect(front+"-back"), zchan.WithLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	defer rep.Close()
	req, err := zchan.OpenWith(ctx, zchan.Req, zchan.String, zchan.WithConnect(front), zchan.WithLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	defer req.Close()
	if err := req.Send(ctx, "ping"); err != nil {
		t.Fatal(err)
	}
	if m := testutil.MustRecv(t, rep.In(), 30*time.Second, "request through the queue"); m != "ping" {
		t.Fatalf("queue: %q", m)
	}
	for _, e := range []error{c.Err(), p.Err(), d.Err()} {
		if e != nil {
			t.Fatalf("a component ended with its opening context: %v", e)
		}
	}

	cause := errors.New("gave up opening")
	dead, dcancel := context.WithCancelCause(ctx)
	dcancel(cause)
	if _, err := pipeline.Start(dead, numberedPlan(), pipeline.WithCodec(i64)); !errors.Is(err, cause) {
		t.Fatalf("start with an ended context: %v", err)
	}
	if _, err := pipeline.NewPool(dead, squareAfter(0)); !errors.Is(err, cause) {
		t.Fatalf("new pool with an ended context: %v", err)
	}
	if _, err := pipeline.Streamer(dead, front+"-s1", front+"-s2"); !errors.Is(err, cause) {
		t.Fatalf("streamer with an ended context: %v", err)
	}
}

// panicky is an i64 codec that panics on decoding (or encoding) one value.
type panicky struct {
	decodeAt, encodeAt int64
}

func (c panicky) Encode(v int64) ([][]byte, error) {
	if v == c.encodeAt {
		panic(fmt.Sprintf("encode %d", v))
	}
	return i64.Encode(v)
}

func (c panicky) Decode(f [][]byte) (int64, error) {
	v, err := i64.Decode(f)
	if err == nil && v == c.decodeAt {
		panic(fmt.Sprintf("decode %d", v))
	}
	return v, err
}

// TestCodecPanic: a codec that panics where the pipeline runs it (a
// stage's decoding, Send's encoding, the pool's decoding of a result)
// fails the chain or pool with an error wrapping ErrPanic, which ends it
// in order (Done closes, goleak finds nothing left), and does not crash
// the process.
func TestCodecPanic(t *testing.T) {
	for _, tc := range []struct {
		name  string
		codec panicky
	}{
		{"stage decode", panicky{decodeAt: 5, encodeAt: -1}},
		{"send encode", panicky{decodeAt: -1, encodeAt: 5}},
	} {
		t.Run("chain "+tc.name, func(t *testing.T) {
			ctx := testCtx(t, time.Minute)
			c, err := pipeline.Start(ctx, numberedPlan(), pipeline.WithCodec[int64](tc.codec))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var sendErr error
			for i := int64(0); i < 10 && sendErr == nil; i++ {
				sendErr = c.Send(ctx, i)
			}
			for range c.Out() {
			}
			if err := c.Wait(); !errors.Is(err, pipeline.ErrPanic) || !errors.Is(err, zchan.ErrPanic) {
				t.Fatalf("wait: %v, want ErrPanic", err)
			}
			if tc.codec.encodeAt == 5 && !errors.Is(sendErr, pipeline.ErrPanic) {
				t.Fatalf("send: %v, want ErrPanic", sendErr)
			}
			st := c.Stats()
			if st.Sent != st.Delivered+st.Skipped+st.Failed+st.Undelivered {
				t.Fatalf("stats %+v: not accounted for", st)
			}
		})
	}
	t.Run("pool result decode", func(t *testing.T) {
		ctx := testCtx(t, time.Minute)
		double := func(_ context.Context, n int64) (int64, error) { return 2 * n, nil }
		p, err := pipeline.NewPool(ctx, double, pipeline.WithCodec[int64](panicky{decodeAt: 10, encodeAt: -1}), pipeline.WithWorkers(2))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		go func() {
			for i := int64(0); i < 10; i++ {
				if p.Submit(ctx, i) != nil {
					return
				}
			}
		}()
		for range p.Results() {
		}
		if !testutil.Done(p.Done(), 30*time.Second) {
			t.Fatal("pool not done")
		}
		if err := p.Err(); !errors.Is(err, pipeline.ErrPanic) {
			t.Fatalf("err: %v, want ErrPanic", err)
		}
		if st := p.Stats(); st.Failed == 0 {
			t.Fatalf("stats %+v: the failing value not counted", st)
		}
	})
}

// TestWithLogger: WithLogger gets what has no caller to return to: here,
// that a chain ended with values undelivered.
func TestWithLogger(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	core, logs := observer.New(zap.WarnLevel)
	c, err := pipeline.Start(ctx, numberedPlan(), pipeline.WithCodec(i64), pipeline.WithLogger(zap.New(core)),
		pipeline.WithLinger(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	for i := int64(0); i < 10; i++ {
		if err := c.Send(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Close(); err != nil { // Out unread: all ten abandoned
		t.Fatal(err)
	}
	entries := logs.FilterMessage("pipeline: chain ended with undelivered values").All()
	if len(entries) != 1 || c.Undelivered() != 10 {
		t.Fatalf("undelivered %d, logged %v", c.Undelivered(), logs.All())
	}
	if got := entries[0].ContextMap()["undelivered"]; got != int64(10) {
		t.Fatalf("logged undelivered %v", got)
	}
}
