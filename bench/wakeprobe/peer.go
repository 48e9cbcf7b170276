package main

/*
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

// The peer stands for libzmq's I/O thread: a thread outside the Go
// runtime, blocked in poll(2), that answers every signal on ping with a
// signal on pong, as the I/O thread answers a message with a mailbox
// signal.
struct peer { int ping, pong; };

static void *peer_run(void *arg) {
	struct peer *p = arg;
	struct pollfd pfd = { .fd = p->ping, .events = POLLIN };
	uint64_t v;
	for (;;) {
		if (read(p->ping, &v, sizeof v) != sizeof v) {
			if (errno == EAGAIN) {
				poll(&pfd, 1, -1);
				continue;
			}
			return 0; // ping closed: stop
		}
		if (v == UINT64_C(0xfffffffffffffffe)) {
			return 0; // the stop value
		}
		v = 1;
		(void)write(p->pong, &v, sizeof v);
	}
}

static int peer_start(int ping, int pong, pthread_t *t) {
	static struct peer p;
	p.ping = ping;
	p.pong = pong;
	return pthread_create(t, 0, peer_run, &p);
}

static void peer_join(pthread_t t) { pthread_join(t, 0); }
*/
import "C"

import "fmt"

type peer struct{ t C.pthread_t }

// startPeer starts the C thread; it reads ping and writes pong.
func startPeer(ping, pong int) (*peer, error) {
	p := &peer{}
	if rc := C.peer_start(C.int(ping), C.int(pong), &p.t); rc != 0 {
		return nil, fmt.Errorf("pthread_create: %d", int(rc))
	}
	return p, nil
}

func (p *peer) join() { C.peer_join(p.t) }
