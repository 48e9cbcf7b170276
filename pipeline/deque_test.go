package pipeline

import (
	"math/rand/v2"
	"testing"
)

// TestDeque checks the deque against a slice doing the same random pushes
// and pops at both ends, through several growths of the ring.
func TestDeque(t *testing.T) {
	var d deque[int]
	var want []int
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		switch op := r.IntN(10); {
		case op < 5:
			d.pushBack(i)
			want = append(want, i)
		case op < 6:
			d.pushFront(i)
			want = append([]int{i}, want...)
		case len(want) > 0:
			if f := d.front(); f != want[0] {
				t.Fatalf("step %d: front %d, want %d", i, f, want[0])
			}
			if v := d.popFront(); v != want[0] {
				t.Fatalf("step %d: popFront %d, want %d", i, v, want[0])
			}
			want = want[1:]
		}
		if d.len() != len(want) {
			t.Fatalf("step %d: len %d, want %d", i, d.len(), len(want))
		}
	}
	for len(want) > 0 {
		if v := d.popFront(); v != want[0] {
			t.Fatalf("drain: %d, want %d", v, want[0])
		}
		want = want[1:]
	}
	d.pushBack(1)
	d.clear()
	if d.len() != 0 || d.buf != nil {
		t.Fatal("clear left values")
	}
}
