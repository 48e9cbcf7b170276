package zchan_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/zmqchan/zmqchan/zchan"
)

// The fuzz targets below run their seed corpus (f.Add plus
// testdata/fuzz/<name>) under plain go test; go test -fuzz=<name> explores
// further. Their properties: decoding arbitrary frames never panics and
// fails only with ErrCodec; decode(encode(v)) == v; and real sockets
// deliver any multipart message intact, or refuse or discard it by the
// frame cap, never half of it.

// fuzzSplit cuts data into frames: each frame is a length byte (mod 64)
// followed by up to that many bytes, so the fuzzer controls the number of
// frames, their sizes and empty frames alike.
func fuzzSplit(data []byte) [][]byte {
	var frames [][]byte
	for len(data) > 0 {
		n := int(data[0]) % 64
		data = data[1:]
		n = min(n, len(data))
		frames = append(frames, bytes.Clone(data[:n]))
		data = data[n:]
	}
	return frames
}

func fuzzEqual(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

func FuzzFrames(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{3, 'a', 'b', 'c', 0, 1, 'x'})
	f.Fuzz(func(t *testing.T, data []byte) {
		frames := fuzzSplit(data)
		m, err := zchan.Frames.Decode(frames)
		if err != nil || !fuzzEqual(m, frames) {
			t.Fatalf("Decode(%q) = %q, %v", frames, m, err)
		}
		back, err := zchan.Frames.Encode(m)
		if err != nil || !fuzzEqual(back, frames) {
			t.Fatalf("Encode(Decode(%q)) = %q, %v", frames, back, err)
		}
	})
}

// FuzzSingleFrame covers Bytes and String: any number of frames other
// than one is a decode error; one frame decodes to its content, and
// encoding gives it back.
func FuzzSingleFrame(f *testing.F) {
	f.Add([]byte{5, 'h', 'e', 'l', 'l', 'o'})
	f.Add([]byte{1, 0xff, 1, 0xfe})
	f.Fuzz(func(t *testing.T, data []byte) {
		frames := fuzzSplit(data)
		b, errB := zchan.Bytes.Decode(frames)
		s, errS := zchan.String.Decode(frames)
		if len(frames) != 1 {
			if !errors.Is(errB, zchan.ErrCodec) || !errors.Is(errS, zchan.ErrCodec) {
				t.Fatalf("%d frames: errors %v, %v; want ErrCodec", len(frames), errB, errS)
			}
			return
		}
		if errB != nil || errS != nil || !bytes.Equal(b, frames[0]) || s != string(frames[0]) {
			t.Fatalf("one frame %q: %q %v, %q %v", frames[0], b, errB, s, errS)
		}
		eb, err := zchan.Bytes.Encode(b)
		if err != nil || !fuzzEqual(eb, frames) {
			t.Fatalf("Bytes round trip of %q: %q, %v", b, eb, err)
		}
		es, err := zchan.String.Encode(s)
		if err != nil || !fuzzEqual(es, frames) {
			t.Fatalf("String round trip of %q: %q, %v", s, es, err)
		}
	})
}

// fuzzValue is what the JSON codec carries in these tests: numbers,
// strings, slices, maps and pointers.
type fuzzValue struct {
	N int64           `json:"n"`
	S string          `json:"s"`
	F []float64       `json:"f"`
	M map[string]bool `json:"m"`
	P *uint8          `json:"p"`
}

// FuzzJSONDecode feeds arbitrary frames to the JSON codec: no panic,
// errors only with ErrCodec, and what decodes survives a round trip.
func FuzzJSONDecode(f *testing.F) {
	f.Add([]byte(`{"n":1,"s":"a","f":[1.5,-2],"m":{"k":true},"p":7}`))
	f.Add([]byte(`{"n":1e400}`))
	f.Add([]byte(`[`))
	c := zchan.JSON[fuzzValue]()
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, frames := range [][][]byte{{data}, fuzzSplit(data)} {
			v, err := c.Decode(frames)
			if err != nil {
				if !errors.Is(err, zchan.ErrCodec) {
					t.Fatalf("error %v does not wrap ErrCodec", err)
				}
				continue
			}
			enc, err := c.Encode(v)
			if err != nil {
				t.Fatalf("Encode(%+v): %v", v, err)
			}
			again, err := c.Decode(enc)
			if err != nil || !reflect.DeepEqual(again, v) {
				t.Fatalf("decode(encode(%+v)) = %+v, %v", v, again, err)
			}
		}
	})
}

// FuzzJSONRoundTrip builds values and checks decode(encode(v)) == v; a
// value JSON cannot carry (NaN, infinities) must fail to encode with
// ErrCodec.
func FuzzJSONRoundTrip(f *testing.F) {
	f.Add(int64(0), "", 0.0, false)
	f.Add(int64(math.MinInt64), "héllo\x00", math.Inf(1), true)
	f.Add(int64(42), "\xff", 1e-300, true)
	c := zchan.JSON[fuzzValue]()
	f.Fuzz(func(t *testing.T, n int64, s string, x float64, withMap bool) {
		v := fuzzValue{N: n, S: s, F: []float64{x}}
		if withMap {
			v.M = map[string]bool{s: true}
			p := uint8(n)
			v.P = &p
		}
		enc, err := c.Encode(v)
		if math.IsNaN(x) || math.IsInf(x, 0) {
			if !errors.Is(err, zchan.ErrCodec) {
				t.Fatalf("Encode with %v: %v, want ErrCodec", x, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("Encode(%+v): %v", v, err)
		}
		got, err := c.Decode(enc)
		if err != nil {
			t.Fatalf("Decode(Encode(%+v)): %v", v, err)
		}
		if !utf8.ValidString(s) {
			// encoding/json replaces invalid UTF-8 with U+FFFD: compare
			// with what it makes of the string.
			b, _ := json.Marshal(s)
			var fixed string
			if err := json.Unmarshal(b, &fixed); err != nil {
				t.Fatal(err)
			}
			v.S = fixed
			if v.M != nil {
				v.M = map[string]bool{fixed: true}
			}
		}
		if !reflect.DeepEqual(got, v) {
			t.Fatalf("decode(encode(%+v)) = %+v", v, got)
		}
	})
}

// Frame caps of FuzzFraming: the sender refuses more than fuzzSendCap
// frames, the receiver discards more than fuzzRecvCap.
const (
	fuzzSendCap = 16
	fuzzRecvCap = 8
)

var fuzzSeq atomic.Uint64

// FuzzFraming sends fuzzed multipart messages over a real inproc PAIR and
// follows each with a sentinel: a message within both caps arrives
// intact, then the sentinel; one over the receiver's cap is discarded
// whole and counted, so the sentinel comes next; one over the sender's cap
// is refused by Send with ErrTooManyFrames; an empty one with
// ErrEmptyMessage.
func FuzzFraming(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0})
	f.Add([]byte{2, 'h', 'i', 0, 3, 'y', 'o', 'u'})
	f.Add(bytes.Repeat([]byte{1, 'x'}, fuzzRecvCap+1))
	f.Add(bytes.Repeat([]byte{0}, fuzzSendCap+1))

	ctx := context.Background()
	zc, err := zchan.NewContext()
	if err != nil {
		f.Fatal(err)
	}
	ep := fmt.Sprintf("inproc://fuzz-framing-%d", fuzzSeq.Add(1))
	recv, err := zchan.Open(ctx, zchan.Pair, zchan.WithContext(zc), zchan.WithBind(ep), zchan.WithMaxFrames(fuzzRecvCap))
	if err != nil {
		f.Fatal(err)
	}
	send, err := zchan.Open(ctx, zchan.Pair, zchan.WithContext(zc), zchan.WithConnect(ep), zchan.WithMaxFrames(fuzzSendCap))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() {
		send.Close()
		recv.Close()
		tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := zc.Term(tctx); err != nil {
			f.Error(err)
		}
	})
	next := func(t *testing.T) zchan.Msg {
		t.Helper()
		select {
		case m, ok := <-recv.In():
			if !ok {
				t.Fatalf("receiver ended: %v", recv.Err())
			}
			return m
		case <-time.After(10 * time.Second):
			t.Fatal("nothing received within 10s")
		}
		return nil
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		frames := fuzzSplit(data)
		over := recv.Stats().TooManyFrames
		err := send.Send(ctx, frames)
		switch {
		case len(frames) == 0:
			if !errors.Is(err, zchan.ErrEmptyMessage) {
				t.Fatalf("empty message: %v", err)
			}
			return
		case len(frames) > fuzzSendCap:
			if !errors.Is(err, zchan.ErrTooManyFrames) {
				t.Fatalf("%d frames: %v, want ErrTooManyFrames", len(frames), err)
			}
			return
		case err != nil:
			t.Fatal(err)
		}
		sentinel := zchan.NewMsg(fmt.Sprintf("sentinel %d", fuzzSeq.Add(1)))
		if err := send.Send(ctx, sentinel); err != nil {
			t.Fatal(err)
		}
		if len(frames) <= fuzzRecvCap {
			if m := next(t); !fuzzEqual(m, frames) {
				t.Fatalf("sent %q, received %q", frames, m)
			}
		}
		if m := next(t); !fuzzEqual(m, sentinel) {
			t.Fatalf("received %q, want the sentinel", m)
		}
		if len(frames) > fuzzRecvCap && recv.Stats().TooManyFrames != over+1 {
			t.Fatalf("%d frames over the cap not counted", len(frames))
		}
	})
}
