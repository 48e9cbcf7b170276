//go:build linux

package secure

/*
#include <features.h>
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
#include <malloc.h>
static long long zmqchan_c_heap(void) {
	struct mallinfo2 mi = mallinfo2();
	return (long long)(mi.uordblks + mi.hblkhd);
}
#else
static long long zmqchan_c_heap(void) { return -1; }
#endif
*/
import "C"

import (
	"os"
	"strconv"
	"strings"
)

// cHeap returns the bytes the C heap has handed out and not taken back
// (glibc's mallinfo2: arena chunks in use plus mmapped chunks). libzmq
// keeps every message it buffers there, and Go's own heap is not part of
// it. It returns -1 where glibc older than 2.33, or another libc, has no
// mallinfo2.
func cHeap() int64 { return int64(C.zmqchan_c_heap()) }

// rss returns the process's resident set size from /proc/self/statm, or
// -1.
func rss() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return -1
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return -1
	}
	return pages * int64(os.Getpagesize())
}
