package zchanold

/*
#cgo !windows pkg-config: libzmq
#include <zmq.h>
#include <errno.h>
#include <stdlib.h>

// One receive buffer per owner, in C memory: no Go pointer crosses into
// libzmq and nothing escapes to the Go heap per call.
typedef struct {
	zmq_msg_t msg;
	void *data;
	size_t size;
	int more;
} zchan_rx;

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

// zchan_recv receives one frame into rx and returns 0, or -errno; on
// success the frame (data, size, more) stays in rx until zchan_release.
// The size is a size_t: zmq_msg_recv's int return clips frames of 2 GiB
// and more.
static int zchan_recv(void *s, zchan_rx *rx, int flags) {
	int rc;
	zmq_msg_init(&rx->msg);
	do {
		rc = zmq_msg_recv(&rx->msg, s, flags);
	} while (rc == -1 && errno == EINTR);
	if (rc == -1) {
		int e = errno;
		zmq_msg_close(&rx->msg);
		return -e;
	}
	rx->more = zmq_msg_more(&rx->msg);
	rx->data = zmq_msg_data(&rx->msg);
	rx->size = zmq_msg_size(&rx->msg);
	return 0;
}

// zchan_release releases the frame received into rx, once Go has copied
// it out.
static void zchan_release(zchan_rx *rx) {
	zmq_msg_close(&rx->msg);
	rx->data = NULL;
}

static zchan_rx *zchan_rx_new(void) { return calloc(1, sizeof(zchan_rx)); }
*/
import "C"

import (
	"reflect"
	"syscall"
	"unsafe"

	zmq "github.com/pebbe/zmq4"
)

// The owner's hot path (ZMQ_EVENTS and receiving) calls libzmq directly
// instead of through pebbe/zmq4, which allocates on every getsockopt and
// every receive attempt (its arguments escape to the Go heap) and makes
// six cgo calls per received frame where two do. Everything else
// (creating, configuring, binding, sending, closing) still goes through
// pebbe. The direct path needs libzmq's socket handle, which pebbe keeps
// in an unexported field: directOK checks, once, that the field is where
// this code reads it, and every socket checks that the handle answers
// ZMQ_TYPE as pebbe says; when either check fails, the owner uses pebbe
// for everything, only slower.
var directOK = func() bool {
	t := reflect.TypeFor[zmq.Socket]()
	f, ok := t.FieldByName("soc")
	return ok && f.Offset == 0 && f.Type == reflect.TypeFor[unsafe.Pointer]()
}()

// direct is the owner's handle on libzmq for the hot path. Only the owner
// uses it; the zero value (h nil) means use pebbe.
type direct struct {
	h  unsafe.Pointer
	rx *C.zchan_rx
}

// newDirect returns the direct path for sock, or the zero direct.
func newDirect(sock *zmq.Socket, pebbeOnly bool) direct {
	if !directOK || pebbeOnly {
		return direct{}
	}
	h := *(*unsafe.Pointer)(unsafe.Pointer(sock))
	if h == nil {
		return direct{}
	}
	want, err := sock.GetType()
	if err != nil || int(C.zchan_type(h)) != int(want) {
		return direct{}
	}
	rx := C.zchan_rx_new()
	if rx == nil {
		return direct{}
	}
	return direct{h: h, rx: rx}
}

// free releases the receive buffer; the owner calls it before closing the
// socket.
func (d *direct) free() {
	if d.rx != nil {
		C.free(unsafe.Pointer(d.rx))
	}
	*d = direct{}
}

func (d *direct) events(sock *zmq.Socket) (zmq.State, error) {
	if d.h == nil {
		return sock.GetEvents()
	}
	rc := int(C.zchan_events(d.h))
	if rc < 0 {
		return 0, errnoErr(-rc)
	}
	return zmq.State(rc), nil
}

// recvFrame receives one frame without blocking; more reports whether
// another frame of the same message follows.
func (d *direct) recvFrame(sock *zmq.Socket) (f []byte, more bool, err error) {
	if d.h == nil {
		if f, err = sock.RecvBytes(zmq.DONTWAIT); err != nil {
			return nil, false, err
		}
		more, err = sock.GetRcvmore()
		return f, more, err
	}
	if rc := int(C.zchan_recv(d.h, d.rx, C.int(zmq.DONTWAIT))); rc < 0 {
		return nil, false, errnoErr(-rc)
	}
	// Go copies the frame out of libzmq's buffer: no Go pointer is passed
	// to C, so cgo has no pointer check to make.
	n := int(d.rx.size)
	f = make([]byte, n)
	if n > 0 {
		copy(f, unsafe.Slice((*byte)(d.rx.data), n))
	}
	more = d.rx.more != 0
	C.zchan_release(d.rx)
	return f, more, nil
}

// errnoErr converts an errno the way pebbe does, so zmq.AsErrno and
// errors.Is work on it alike.
func errnoErr(e int) error {
	return zmq.Errno(syscall.Errno(e))
}
