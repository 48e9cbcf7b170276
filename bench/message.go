package main

import (
	"encoding/binary"
)

// ringSize is how many message buffers a sender cycles through. A variant
// that kept a message longer than ringSize sends would see it overwritten,
// and the receiver's order check would fail: the benchmark catches it.
const ringSize = 256

// ring holds a sender's reusable messages of one frame each, so that the
// benchmark itself allocates nothing per message.
type ring struct {
	msgs  [][][]byte
	i     int
	fresh bool
}

// newRing returns the ring of a sender of this run. For a variant that
// hands the receiver the sender's own buffers (plain channels), every
// message is a fresh copy, as a Go program would have to make it.
func (r *roles) newRing(size int, sender uint32) *ring {
	g := newRing(size, sender)
	g.fresh = r.v.SharesBuffers
	return g
}

func newRing(size int, sender uint32) *ring {
	r := &ring{msgs: make([][][]byte, ringSize)}
	for i := range r.msgs {
		b := make([]byte, size)
		for j := 16; j < size; j++ {
			b[j] = byte(j)
		}
		binary.LittleEndian.PutUint32(b[8:], sender)
		r.msgs[i] = [][]byte{b}
	}
	return r
}

// next returns the message numbered seq.
func (r *ring) next(seq uint64) [][]byte {
	m := r.msgs[r.i]
	r.i = (r.i + 1) % len(r.msgs)
	if r.fresh {
		m = [][]byte{append([]byte(nil), m[0]...)}
	}
	binary.LittleEndian.PutUint64(m[0], seq)
	return m
}

// check verifies that m is the message numbered seq from sender, of size
// bytes in one frame.
func check(m [][]byte, size int, sender uint32, seq uint64) error {
	if len(m) != 1 {
		return mismatch("want 1 frame, got %d", len(m))
	}
	b := m[0]
	if len(b) != size {
		return mismatch("want %d bytes, got %d", size, len(b))
	}
	if s := binary.LittleEndian.Uint32(b[8:]); s != sender {
		return mismatch("want sender %d, got %d", sender, s)
	}
	if got := binary.LittleEndian.Uint64(b); got != seq {
		return mismatch("sender %d: want message %d, got %d", sender, seq, got)
	}
	return nil
}

// header returns the sender and sequence number of a message.
func header(m [][]byte) (sender uint32, seq uint64, ok bool) {
	if len(m) != 1 || len(m[0]) < 16 {
		return 0, 0, false
	}
	return binary.LittleEndian.Uint32(m[0][8:]), binary.LittleEndian.Uint64(m[0]), true
}
