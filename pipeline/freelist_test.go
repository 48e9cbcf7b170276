package pipeline

import "testing"

// TestFreeList checks the free list's rules: a buffer put back is the one
// a later get of no more than its size returns; get makes power-of-two
// buffers of at least freeMin; buffers over freeMax are not kept, and a
// full list keeps the largest.
func TestFreeList(t *testing.T) {
	var f freeList
	b := f.get(700)
	if len(b) != 0 || cap(b) != 1024 {
		t.Fatalf("get(700): len %d cap %d, want 0 and 1024", len(b), cap(b))
	}
	if c := cap(f.get(10)); c != freeMin {
		t.Errorf("get(10): cap %d, want %d", c, freeMin)
	}
	b = append(b, 1, 2, 3)
	f.put(b)
	if g := f.get(2000); cap(g) == cap(b) {
		t.Error("get(2000) returned the 1024-byte buffer")
	}
	if g := f.get(1000); len(g) != 0 || &g[:1][0] != &b[0] {
		t.Error("get(1000) did not return the buffer put back, emptied")
	}
	if g := f.get(1000); &g[:1][0] == &b[0] {
		t.Error("a buffer put back once was returned twice")
	}

	f.put(make([]byte, 0, 2*freeMax))
	f.put(make([]byte, 0, freeMin/2))
	if len(f.bufs) != 0 {
		t.Errorf("kept %d buffers over freeMax or under freeMin", len(f.bufs))
	}
	for range freeKeep {
		f.put(make([]byte, 0, freeMin))
	}
	big := make([]byte, 0, 4*freeMin)
	f.put(big)
	if len(f.bufs) != freeKeep {
		t.Fatalf("kept %d buffers, want %d", len(f.bufs), freeKeep)
	}
	if g := f.get(3 * freeMin); cap(g) != cap(big) {
		t.Errorf("a full list did not keep the larger buffer in place of a smaller one")
	}
}

// TestSentBatch checks that only the buffers of the batch messages of the
// kind named go back to the list.
func TestSentBatch(t *testing.T) {
	var f freeList
	tasks := f.sentBatch(kTask, 1)
	ident := make([]byte, 5, freeMin)
	body := append(make([]byte, 0, freeMin), kTask, 0)
	tasks([][]byte{ident, body})
	tasks([][]byte{ident, append(make([]byte, 0, freeMin), kPing)})
	tasks([][]byte{ident, body, body})
	tasks([][]byte{ident, {}})
	if len(f.bufs) != 1 || &f.bufs[0][:1][0] != &body[0] {
		t.Fatalf("kept %d buffers, want the TASKS body only", len(f.bufs))
	}
	results := f.sentBatch(kResult, 0)
	results([][]byte{append(make([]byte, 0, freeMin), kResult)})
	results([][]byte{append(make([]byte, 0, freeMin), kTask)})
	if len(f.bufs) != 2 {
		t.Errorf("kept %d buffers, want 2", len(f.bufs))
	}
}
