//go:build unix && cgo && !zchan_nodirect

package zchan

/*
#cgo pkg-config: libzmq
#include <zmq.h>
#include <errno.h>
#include <stdlib.h>

// ZCHAN_BATCH is how many frames of one message zchan_recvm receives in
// one call, and zchan_send4 sends: a message of up to that many frames
// (every message of this package's reqrep, a ROUTER's included) crosses
// into libzmq once each way instead of once or twice per frame.
#define ZCHAN_BATCH 4

// One buffer per owner, in C memory: nothing escapes to the Go heap per
// call, and the frames received stay in libzmq's memory until Go has
// copied them out.
typedef struct {
	zmq_msg_t msg[ZCHAN_BATCH];
	void *data[ZCHAN_BATCH];
	size_t size[ZCHAN_BATCH];
	int n;      // frames held in msg, from a zchan_recvm to its zchan_releasem
	int more;   // another frame of the message follows the last one held
	int failed; // after a zchan_send4 failed: the index of the frame libzmq refused
} zchan_io;

// zchan_events returns ZMQ_EVENTS, or -errno.
static int zchan_events(void *s) {
	int ev = 0;
	size_t size = sizeof ev;
	int rc;
	do {
		rc = zmq_getsockopt(s, ZMQ_EVENTS, &ev, &size);
	} while (rc == -1 && errno == EINTR);
	return rc == -1 ? -errno : ev;
}

// zchan_type returns ZMQ_TYPE, or -errno.
static int zchan_type(void *s) {
	int t = 0;
	size_t size = sizeof t;
	if (zmq_getsockopt(s, ZMQ_TYPE, &t, &size) == -1) {
		return -errno;
	}
	return t;
}

// zchan_recvm receives, without blocking, up to max (at most ZCHAN_BATCH)
// frames of one message into io, stopping after the last frame of the
// message. It returns 0, or -errno of the frame that failed; either way
// io->n frames (those before a failure) are held until zchan_releasem.
// The sizes are size_t: zmq_msg_recv's int return clips frames of 2 GiB
// and more.
static int zchan_recvm(void *s, zchan_io *io, int max) {
	io->n = 0;
	io->more = 0;
	for (int i = 0; i < max; i++) {
		int rc;
		zmq_msg_init(&io->msg[i]);
		do {
			rc = zmq_msg_recv(&io->msg[i], s, ZMQ_DONTWAIT);
		} while (rc == -1 && errno == EINTR);
		if (rc == -1) {
			int e = errno;
			zmq_msg_close(&io->msg[i]);
			return -e;
		}
		io->data[i] = zmq_msg_data(&io->msg[i]);
		io->size[i] = zmq_msg_size(&io->msg[i]);
		io->more = zmq_msg_more(&io->msg[i]);
		io->n = i + 1;
		if (!io->more) {
			break;
		}
	}
	return 0;
}

// zchan_releasem releases the frames zchan_recvm left in io, once Go has
// copied them out.
static void zchan_releasem(zchan_io *io) {
	for (int i = 0; i < io->n; i++) {
		zmq_msg_close(&io->msg[i]);
		io->data[i] = NULL;
	}
	io->n = 0;
}

// zchan_send4 sends n (1 to ZCHAN_BATCH) frames without blocking, with
// SNDMORE on all but the last, and on the last too when more is set (the
// message goes on in the next call). It returns 0, or -errno of the frame
// libzmq refused, whose index it leaves in io->failed: libzmq has taken
// the frames before it. The frames are Go memory, read during the call
// only (zmq_send copies them).
static int zchan_send4(void *s, zchan_io *io, int n, int more,
		const char *p0, size_t n0, const char *p1, size_t n1,
		const char *p2, size_t n2, const char *p3, size_t n3) {
	const char *p[ZCHAN_BATCH] = {p0, p1, p2, p3};
	size_t len[ZCHAN_BATCH] = {n0, n1, n2, n3};
	for (int i = 0; i < n; i++) {
		int flags = ZMQ_DONTWAIT;
		if (i < n - 1 || more) {
			flags |= ZMQ_SNDMORE;
		}
		int rc;
		do {
			rc = zmq_send(s, p[i], len[i], flags);
		} while (rc == -1 && errno == EINTR);
		if (rc == -1) {
			io->failed = i;
			return -errno;
		}
	}
	return 0;
}

static zchan_io *zchan_io_new(void) { return calloc(1, sizeof(zchan_io)); }
*/
import "C"

import (
	"reflect"
	"unsafe"

	zmq "github.com/pebbe/zmq4"
	"go.uber.org/zap"
)

// The owner's hot path (ZMQ_EVENTS, receiving and sending) calls libzmq
// directly instead of through pebbe/zmq4, which allocates on every
// getsockopt and every receive attempt (its arguments escape to the Go
// heap), makes six cgo calls per received frame where two per message of
// up to four frames do, and one per frame sent where one per message of up
// to four frames does. Everything else (creating, configuring, binding,
// closing) still goes through pebbe. The direct path needs libzmq's socket handle, which pebbe keeps
// in an unexported field: layoutOK checks, once, that the field is where
// this code reads it, and every socket checks that the handle answers
// ZMQ_TYPE as pebbe says; when either check fails, the owner uses pebbe
// for everything, only slower, and says so once per process. The build
// tag zchan_nodirect leaves this file out (direct_pebbe.go stands in).
var layoutOK = func() bool {
	t := reflect.TypeFor[zmq.Socket]()
	f, ok := t.FieldByName("soc")
	return ok && f.Offset == 0 && f.Type == reflect.TypeFor[unsafe.Pointer]()
}()

// directBuilt says that this file is built in.
const directBuilt = true

// handle returns libzmq's handle of sock; pebbe's Close sets it to nil.
// Only valid when layoutOK.
func handle(sock *zmq.Socket) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(sock))
}

// direct is the owner's handle on libzmq for the hot path. Only the owner
// uses it; the zero value (h nil) means use pebbe.
type direct struct {
	h  unsafe.Pointer
	io *C.zchan_io
}

// newDirect returns the direct path for sock, or the zero direct (and a
// warning, once per process, when the direct path was wanted but failed
// its checks).
func newDirect(sock *zmq.Socket, pebbeOnly bool, log *zap.Logger) direct {
	if pebbeOnly {
		return direct{}
	}
	if !layoutOK {
		warnFallback(log, "pebbe/zmq4's Socket layout is not the one this package reads")
		return direct{}
	}
	h := handle(sock)
	want, err := sock.GetType()
	if h == nil || err != nil || int(C.zchan_type(h)) != int(want) {
		warnFallback(log, "libzmq's socket handle does not answer ZMQ_TYPE as pebbe/zmq4 does")
		return direct{}
	}
	io := C.zchan_io_new()
	if io == nil {
		return direct{}
	}
	return direct{h: h, io: io}
}

// free releases the buffer; the owner calls it before closing the socket.
func (d *direct) free() {
	if d.io != nil {
		C.free(unsafe.Pointer(d.io))
	}
	*d = direct{}
}

// live reports whether the direct path may still be used on sock: not
// once something (a Do function, against its doc) closed it.
func (d *direct) live(sock *zmq.Socket) bool { return d.h != nil && handle(sock) == d.h }

func (d *direct) events(sock *zmq.Socket) (zmq.State, error) {
	if !d.live(sock) {
		ev, err := sock.GetEvents()
		return ev, errnoErr(err)
	}
	rc := int(C.zchan_events(d.h))
	if rc < 0 {
		return 0, errnoErr(zmq.Errno(-rc))
	}
	return zmq.State(rc), nil
}

// oneBuffer is the size up to which the frames of one receive share one
// allocation: above it each frame has its own, so that a caller keeping a
// small frame (an id) does not keep a large one alive with it.
const oneBuffer = 4096

// recv receives, without blocking, the next frames of the message being
// received (at most max, at most ZCHAN_BATCH) and appends them to frames;
// more reports whether further frames of the message follow. On an error
// frames holds the frames received before it.
func (d *direct) recv(sock *zmq.Socket, frames [][]byte, max int) (_ [][]byte, more bool, err error) {
	if !d.live(sock) {
		return pebbeRecv(sock, frames)
	}
	rc := int(C.zchan_recvm(d.h, d.io, C.int(min(max, C.ZCHAN_BATCH))))
	if n := int(d.io.n); n > 0 {
		// Go copies the frames out of libzmq's buffers: no Go pointer is
		// passed to C, so cgo has no pointer check to make.
		total := 0
		for i := range n {
			total += int(d.io.size[i])
		}
		var buf []byte
		if total <= oneBuffer {
			buf = make([]byte, total)
		}
		if frames == nil {
			frames = make([][]byte, 0, n)
		}
		for i := range n {
			sz := int(d.io.size[i])
			var f []byte
			if buf != nil {
				f, buf = buf[:sz:sz], buf[sz:] // capped: an append to f cannot reach the next frame
			} else {
				f = make([]byte, sz)
			}
			if sz > 0 {
				copy(f, unsafe.Slice((*byte)(d.io.data[i]), sz))
			}
			frames = append(frames, f)
		}
		more = d.io.more != 0
		C.zchan_releasem(d.io)
	}
	if rc < 0 {
		return frames, false, errnoErr(zmq.Errno(-rc))
	}
	return frames, more, nil
}

// send sends frames as one message without blocking, ZCHAN_BATCH frames
// per call into libzmq. On an error it returns the index of the frame
// libzmq refused: the frames before it were taken.
func (d *direct) send(sock *zmq.Socket, frames [][]byte) (int, error) {
	if !d.live(sock) {
		return pebbeSend(sock, frames)
	}
	for i := 0; i < len(frames); i += C.ZCHAN_BATCH {
		chunk := frames[i:min(i+C.ZCHAN_BATCH, len(frames))]
		var p [C.ZCHAN_BATCH]*C.char
		var n [C.ZCHAN_BATCH]C.size_t
		for j, f := range chunk {
			// *C.char, not unsafe.Pointer: memory without pointers, which
			// cgo does not check.
			p[j], n[j] = (*C.char)(unsafe.Pointer(unsafe.SliceData(f))), C.size_t(len(f))
		}
		more := C.int(0)
		if i+len(chunk) < len(frames) {
			more = 1
		}
		if rc := int(C.zchan_send4(d.h, d.io, C.int(len(chunk)), more, p[0], n[0], p[1], n[1], p[2], n[2], p[3], n[3])); rc < 0 {
			return i + int(d.io.failed), errnoErr(zmq.Errno(-rc))
		}
	}
	return 0, nil
}
