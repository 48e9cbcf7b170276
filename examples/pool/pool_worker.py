"""A pipeline pool worker in Python, written from the worker protocol in
pipeline's package doc: READY with credit, heartbeats both ways, TASK /
RESULT, KILL / BYE, RECONNECT and the liveness rule.

Usage: pool_worker.py ENDPOINT [DELAY_SECONDS]

Its function squares {"N": n, "Sq": n*n} for a task n (JSON, the pool's
default codec for Go ints and structs). It prints "ready" once
registered and "done N" when KILL stops it.
"""
import json
import struct
import sys
import time

import zmq

HEARTBEAT = 0.25  # seconds
LIVENESS = 4
CREDIT = 4


def connect(ctx, endpoint):
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 1000)
    sock.connect(endpoint)
    sock.send_multipart([b"h" + struct.pack(">I", CREDIT), b"python"])
    return sock


def read_tasks(frame):
    """The entries of a TASKS frame: (id, [frames]) for each task."""
    tasks, off = [], 1
    while off < len(frame):
        tid, n = struct.unpack_from(">QI", frame, off)
        off += 12
        value = []
        for _ in range(n):
            (size,) = struct.unpack_from(">I", frame, off)
            off += 4
            value.append(frame[off:off + size])
            off += size
        tasks.append((tid, value))
    return tasks


def main():
    endpoint = sys.argv[1]
    delay = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
    ctx = zmq.Context()
    sock = connect(ctx, endpoint)
    print("ready", flush=True)
    done = 0
    queue = []  # tasks received and not started: (id, frames)
    last_heard = time.monotonic()
    next_beat = time.monotonic() + HEARTBEAT
    backoff = HEARTBEAT
    while True:
        now = time.monotonic()
        if now >= next_beat:
            sock.send(b"p")
            next_beat = now + HEARTBEAT
        if now - last_heard >= HEARTBEAT * LIVENESS:
            # The pool is lost: drop what is not started, reconnect.
            queue.clear()
            sock.close()
            time.sleep(backoff)
            backoff = min(backoff * 2, HEARTBEAT * 32)
            sock = connect(ctx, endpoint)
            last_heard = time.monotonic()
            continue
        timeout = 0 if queue else max(0.0, next_beat - time.monotonic())
        if sock.poll(int(timeout * 1000)):
            frames = sock.recv_multipart()
            last_heard = time.monotonic()
            backoff = HEARTBEAT
            kind = frames[0][:1]
            if kind == b"t":
                queue.extend(read_tasks(frames[0]))
            elif kind == b"p":
                pass
            elif kind == b"k":
                sock.send(b"b")
                sock.close()
                ctx.term()
                print("done", done, flush=True)
                return 0
            elif kind == b"x":
                queue.clear()
                sock.close()
                sock = connect(ctx, endpoint)
            continue
        if queue:
            tid, value = queue.pop(0)
            n = json.loads(value[0])
            if delay:
                time.sleep(delay)
            value = json.dumps({"N": n, "Sq": n * n}).encode()
            # RESULTS of one answer: status 'r', id, one frame.
            sock.send(b"r" + b"r" + struct.pack(">QII", tid, 1, len(value)) + value)
            done += 1


if __name__ == "__main__":
    sys.exit(main())
