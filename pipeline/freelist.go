package pipeline

import (
	"math/bits"
	"sync"
)

// freeList keeps the buffers of a socket's sent batches (TASKS from a
// pool, RESULTS from a worker) for the next ones: zchan.WithSent hands a
// message's frames back once libzmq has copied them. Without it every
// batch's buffer is garbage, and what a pool's garbage collection costs
// grows with the bytes it allocates (measured: about a third of a pool's
// CPU over tcp went to it). One goroutine gets; the owners of the sockets
// that send the batches put (a worker's, one per session, may overlap).
type freeList struct {
	mu   sync.Mutex
	bufs [][]byte
}

const (
	freeKeep = 8       // buffers kept
	freeMin  = 512     // the smallest buffer made
	freeMax  = 1 << 16 // larger buffers are left to the collector
)

// get returns an empty buffer with room for n bytes.
func (f *freeList) get(n int) []byte {
	f.mu.Lock()
	for i, b := range f.bufs {
		if cap(b) >= n {
			last := len(f.bufs) - 1
			f.bufs[i] = f.bufs[last]
			f.bufs[last] = nil
			f.bufs = f.bufs[:last]
			f.mu.Unlock()
			return b[:0]
		}
	}
	f.mu.Unlock()
	// A power of two, so that a buffer fits the batches of about its size.
	return make([]byte, 0, max(freeMin, 1<<bits.Len(uint(n-1))))
}

// put keeps b for a later get, unless b is large or the list is full of
// buffers at least as large.
func (f *freeList) put(b []byte) {
	if cap(b) > freeMax || cap(b) < freeMin {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.bufs) < freeKeep {
		f.bufs = append(f.bufs, b)
		return
	}
	small := 0
	for i, c := range f.bufs {
		if cap(c) < cap(f.bufs[small]) {
			small = i
		}
	}
	if cap(f.bufs[small]) < cap(b) {
		f.bufs[small] = b
	}
}

// sentBatch returns the zchan.WithSent function that puts the buffer of
// each batch message of kind (kTask, kResult) that a socket sent, its
// frame at index at, back in f.
func (f *freeList) sentBatch(kind byte, at int) func([][]byte) {
	return func(frames [][]byte) {
		if len(frames) == at+1 && len(frames[at]) > 0 && frames[at][0] == kind {
			f.put(frames[at])
		}
	}
}
