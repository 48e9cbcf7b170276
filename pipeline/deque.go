package pipeline

// deque is a first-in first-out queue on a ring that grows by doubling
// and is never copied otherwise: the pool's queue of tasks and its
// results waiting for the consumer. A slice used as a queue (append at
// the back, reslice at the front) reallocates as it slides, a few dozen
// bytes a task, and a pool's garbage collection costs in proportion to
// the bytes it allocates. Its zero value is an empty deque.
type deque[T any] struct {
	buf  []T // len(buf) is 0 or a power of two
	head int
	n    int
}

func (d *deque[T]) len() int { return d.n }

// front returns the first value; the deque must not be empty.
func (d *deque[T]) front() T { return d.buf[d.head] }

// popFront removes and returns the first value; the deque must not be
// empty.
func (d *deque[T]) popFront() T {
	var zero T
	v := d.buf[d.head]
	d.buf[d.head] = zero // let the collector have what it refers to
	d.head = (d.head + 1) & (len(d.buf) - 1)
	d.n--
	return v
}

// pushBack adds v at the back.
func (d *deque[T]) pushBack(v T) {
	d.grow()
	d.buf[(d.head+d.n)&(len(d.buf)-1)] = v
	d.n++
}

// pushFront adds v at the front.
func (d *deque[T]) pushFront(v T) {
	d.grow()
	d.head = (d.head - 1) & (len(d.buf) - 1)
	d.buf[d.head] = v
	d.n++
}

// clear empties the deque and lets its ring go.
func (d *deque[T]) clear() { *d = deque[T]{} }

// grow makes room for one more value.
func (d *deque[T]) grow() {
	if d.n < len(d.buf) {
		return
	}
	buf := make([]T, max(16, 2*len(d.buf)))
	for i := range d.n {
		buf[i] = d.buf[(d.head+i)&(len(d.buf)-1)]
	}
	d.buf, d.head = buf, 0
}
