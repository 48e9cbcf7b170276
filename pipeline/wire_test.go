package pipeline_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/pipeline"
	"github.com/zmqchan/zmqchan/zchan"
)

// shapes are zchan.Msg values whose frames a link must keep exactly: no
// frames, one or two empty frames, frames that look like headers, and
// several frames.
var shapes = []zchan.Msg{
	{},
	{{}},
	{{}, {}},
	zchan.NewMsg("d"),
	zchan.NewMsg("D"),
	zchan.NewMsg("t12345678", "r"),
	zchan.NewMsg("a", "", "bc"),
	zchan.NewMsg("last"),
}

// shapeOf names a value's frames, telling no frames from an empty one.
func shapeOf(m zchan.Msg) string { return fmt.Sprintf("%d%q", len(m), [][]byte(m)) }

func msgIdentity(_ context.Context, m zchan.Msg) (zchan.Msg, error) { return m, nil }

// TestChainFrameShapes: every value of shapes comes out of a two-stage
// chain of zchan.Msg with the frames it went in with, in order.
func TestChainFrameShapes(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	p := pipeline.Then(pipeline.Then(pipeline.From[zchan.Msg](), "a", msgIdentity), "b", msgIdentity)
	c, err := pipeline.Start(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, m := range shapes {
		if err := c.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	for i, m := range shapes {
		select {
		case got, ok := <-c.Out():
			if !ok {
				t.Fatalf("out closed at %d: %v", i, c.Err())
			}
			if shapeOf(got) != shapeOf(m) {
				t.Fatalf("value %d: got %s, want %s", i, shapeOf(got), shapeOf(m))
			}
		case <-ctx.Done():
			t.Fatalf("timed out at %d", i)
		}
	}
	if err := c.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestPoolFrameShapes: every value of shapes comes back from a pool of
// zchan.Msg workers with the frames it went in with (results in any
// order).
func TestPoolFrameShapes(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	p, err := pipeline.NewPool(ctx, msgIdentity, pipeline.WithWorkers(2), pipeline.WithWaitForWorkers(2))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	want := map[string]int{}
	for _, m := range shapes {
		want[shapeOf(m)]++
		if err := p.Submit(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	for i := range shapes {
		select {
		case got, ok := <-p.Results():
			if !ok {
				t.Fatalf("results closed at %d: %v", i, p.Err())
			}
			s := shapeOf(got)
			if want[s] == 0 {
				t.Fatalf("result %d: unexpected %s", i, s)
			}
			want[s]--
		case <-ctx.Done():
			t.Fatalf("timed out at %d", i)
		}
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestEntriesRoundTrip: a batch of every shape (no frames, empty frames,
// several frames) packed into one TASKS frame reads back as the same
// values in the same order, with their ids.
func TestEntriesRoundTrip(t *testing.T) {
	values := make([][][]byte, len(shapes))
	for i, m := range shapes {
		values[i] = m
	}
	ids, got, err := pipeline.DecodeEntries(pipeline.EncodeEntries(values))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(values) {
		t.Fatalf("%d values back, want %d", len(got), len(values))
	}
	for i := range values {
		if ids[i] != uint64(i+1) || shapeOf(got[i]) != shapeOf(values[i]) {
			t.Fatalf("entry %d: id %d %s, want %d %s", i, ids[i], shapeOf(got[i]), i+1, shapeOf(values[i]))
		}
	}
}

// FuzzEntries: arbitrary bytes as a TASKS frame never panic, a frame
// that reads back re-encodes to the same bytes, and its entries and
// frames are those the reader counted before allocating.
func FuzzEntries(f *testing.F) {
	f.Add(pipeline.EncodeEntries([][][]byte{{[]byte("a")}, {}, {{}, []byte("bc")}}))
	f.Add([]byte("t"))
	f.Add([]byte("t\x00\x00\x00\x00\x00\x00\x00\x01\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, frame []byte) {
		ids, values, err := pipeline.DecodeEntries(frame)
		if err != nil {
			if !errors.Is(err, pipeline.ErrProtocol) {
				t.Fatalf("error %v not ErrProtocol", err)
			}
			return
		}
		nframes := 0
		for _, v := range values {
			nframes += len(v)
		}
		if e, n := pipeline.CountEntries(frame); e != len(values) || n != nframes {
			t.Fatalf("counted %d entries and %d frames, read %d and %d", e, n, len(values), nframes)
		}
		if frame[0] != 't' {
			return // the kind is the caller's to check (kindOf)
		}
		for i, id := range ids {
			if id != uint64(i+1) {
				return // ids other than 1, 2, ...: a valid frame EncodeEntries does not make
			}
		}
		if again := pipeline.EncodeEntries(values); string(again) != string(frame) {
			t.Fatalf("re-encoded %q, want %q", again, frame)
		}
	})
}

// rawBytes is the []byte codec under another name: Submit takes its
// general path for it.
type rawBytes struct{}

func (rawBytes) Encode(b []byte) ([][]byte, error) { return [][]byte{b}, nil }
func (rawBytes) Decode(f [][]byte) ([]byte, error) { return zchan.Bytes.Decode(f) }

// TestBytesEntry: Submit writes a []byte task under the default codec
// straight into its entry, skipping Encode; the entry is the one Encode
// and appendEntry make, for empty, short and long values.
func TestBytesEntry(t *testing.T) {
	for _, b := range [][]byte{nil, {}, []byte("a"), bytes.Repeat([]byte("xy"), 3000)} {
		direct, err := pipeline.EncodeBytesEntry(b)
		if err != nil {
			t.Fatal(err)
		}
		general, err := pipeline.EncodeCodecEntry(rawBytes{}, b)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(direct, general) {
			t.Fatalf("%d bytes: direct entry %x, general %x", len(b), direct, general)
		}
		_, values, err := pipeline.DecodeEntries(append([]byte{'t'}, direct...))
		if err != nil || len(values) != 1 || len(values[0]) != 1 || !bytes.Equal(values[0][0], b) {
			t.Fatalf("%d bytes: decoded %q, %v", len(b), values, err)
		}
	}
}
