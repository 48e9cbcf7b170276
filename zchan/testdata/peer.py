"""A pyzmq peer for zchan's interop tests (zchan/interop_test.go).

Usage: peer.py MODE ENDPOINT COUNT

The peer connects to ENDPOINT (which the Go test has bound), does its part
COUNT times, and exits 0; on a wrong message or a silence of 20 s it prints
why on stderr and exits non-zero. Modes:

  push    PUSH: sends [b"seq", b"<i>", b"", b"<i> bytes of x"] for i < COUNT
  pull    PULL: receives the same messages from Go and checks them
  rep     REP: answers each request [f...] with [b"re", f...]
  router  ROUTER: answers each [id, f...] with [id, b"echo", f...]
  slowdealer  DEALER with RCVHWM 10: sends [b"hi"], waits for a line on
          stdin, then receives [b"<i>"] for i < COUNT, in order
"""

import sys

import zmq


def fail(msg):
    print("peer.py: " + msg, file=sys.stderr)
    sys.exit(1)


def numbered(i):
    return [b"seq", str(i).encode(), b"", b"x" * i]


def main():
    if len(sys.argv) != 4:
        fail("usage: peer.py MODE ENDPOINT COUNT")
    mode, endpoint, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    types = {"push": zmq.PUSH, "pull": zmq.PULL, "rep": zmq.REP, "router": zmq.ROUTER,
             "slowdealer": zmq.DEALER}
    if mode not in types:
        fail("unknown mode " + mode)
    ctx = zmq.Context()
    s = ctx.socket(types[mode])
    s.setsockopt(zmq.LINGER, 5000)
    s.setsockopt(zmq.RCVTIMEO, 20000)
    s.setsockopt(zmq.SNDTIMEO, 20000)
    if mode == "slowdealer":
        s.setsockopt(zmq.RCVHWM, 10)
        s.setsockopt(zmq.RCVBUF, 4096)
    s.connect(endpoint)
    if mode == "slowdealer":
        s.send(b"hi")
        sys.stdin.readline()
        try:
            for i in range(count):
                m = s.recv_multipart()
                if m != [str(i).encode()]:
                    fail("slowdealer: message %d: got %r" % (i, m[:2]))
        except zmq.Again:
            fail("slowdealer: nothing for 20s at message %d of %d" % (i, count))
        s.close()
        ctx.term()
        return
    try:
        for i in range(count):
            if mode == "push":
                s.send_multipart(numbered(i))
            elif mode == "pull":
                m = s.recv_multipart()
                if m != numbered(i):
                    fail("message %d: got %r" % (i, m[:3]))
            elif mode == "rep":
                s.send_multipart([b"re"] + s.recv_multipart())
            else:
                m = s.recv_multipart()
                s.send_multipart([m[0], b"echo"] + m[1:])
    except zmq.Again:
        fail("%s: nothing for 20s at message %d of %d" % (mode, i, count))
    s.close()
    ctx.term()


if __name__ == "__main__":
    main()
