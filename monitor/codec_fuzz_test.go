package monitor_test

import (
	"errors"
	"testing"

	"github.com/zmqchan/zmqchan/monitor"
	"github.com/zmqchan/zmqchan/zchan"
)

// FuzzDecode feeds arbitrary frames to the event codec: it must never
// panic, must fail only with ErrCodec, and what it decodes must encode
// back to the same frames.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{0x00, 0x40, 0x90, 0x01, 0, 0}, []byte("tcp://127.0.0.1:5555"), false) // auth failure, 400
	f.Add([]byte{0x20, 0x00, 0x07, 0x00, 0, 0}, []byte("tcp://0.0.0.0:1"), false)      // accepted, fd 7
	f.Add([]byte{0x00, 0x04, 0, 0, 0, 0}, []byte(""), false)                           // monitor stopped
	f.Add([]byte{0xff, 0xff, 0, 0, 0, 0}, []byte("x"), true)                           // unknown, 3 frames
	f.Fuzz(func(t *testing.T, head, endpoint []byte, extra bool) {
		frames := [][]byte{head, endpoint}
		if extra {
			frames = append(frames, nil)
		}
		ev, err := monitor.Codec.Decode(frames)
		if err != nil {
			if !errors.Is(err, zchan.ErrCodec) {
				t.Fatalf("error %v does not wrap ErrCodec", err)
			}
			return
		}
		back, err := monitor.Codec.Encode(ev)
		if err != nil {
			t.Fatalf("encode %v: %v", ev, err)
		}
		again, err := monitor.Codec.Decode(back)
		if err != nil || again != ev {
			t.Fatalf("decode(encode(%v)) = %v, %v", ev, again, err)
		}
	})
}
