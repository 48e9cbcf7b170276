package secure

import (
	"fmt"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchan/zmqchan/zchan"
)

// Limits are the settings that bound what a network peer can make a
// socket hold or wait for. DefaultLimits returns the values Listen uses;
// change a field to override it. A zero field leaves that setting at
// libzmq's (or zchan's) default, which for most of them is no limit. A
// Limits is a plain value: copy it freely.
type Limits struct {
	// MaxMsgSize is ZMQ_MAXMSGSIZE: a peer that sends a frame larger than
	// this many bytes is disconnected as soon as the frame's header
	// arrives, before any of it is buffered. It bounds each frame, not a
	// message: see the package doc. Default 1 MiB.
	MaxMsgSize int64
	// MaxFrames caps the frames of a message this socket delivers or sends
	// (zchan.WithMaxFrames). A longer inbound message is discarded and
	// counted once libzmq has received all of it; it does not bound what
	// libzmq buffers for a message that never ends. Default 64.
	MaxFrames int
	// RecvHWM is ZMQ_RCVHWM: complete messages queued per peer before
	// libzmq stops reading from that peer. Default 100, so one peer queues
	// at most 100 complete messages.
	RecvHWM int
	// SendHWM is ZMQ_SNDHWM: messages queued per peer for sending; a peer
	// that stops reading fills it, and then the socket blocks (or, for
	// ROUTER and PUB, drops) rather than grow. Default 100.
	SendHWM int
	// HandshakeIvl is ZMQ_HANDSHAKE_IVL: a connection that has not
	// completed the ZMTP handshake (and authentication) in this time is
	// closed, so a peer that connects and says nothing, or stops halfway,
	// cannot hold a descriptor and a session for long. Default 5s
	// (libzmq's is 30s).
	HandshakeIvl time.Duration
	// HeartbeatIvl, HeartbeatTimeout and HeartbeatTTL are ZMTP heartbeats
	// (zchan.WithHeartbeat): a PING every HeartbeatIvl; a peer that sends
	// nothing within HeartbeatTimeout after it is disconnected, so a dead,
	// stopped or partitioned peer is dropped within HeartbeatIvl plus
	// HeartbeatTimeout; the peer is told to drop this side after
	// HeartbeatTTL without traffic. Default: off (all zero), because with
	// them libzmq 4.3.4 can abort the process. When a connection's input
	// is stopped by back pressure (its receive pipe at RecvHWM: a consumer
	// slower than its peer, stalled, or stopped with SIGSTOP) and the peer
	// drops the connection, the next heartbeat written on it, its own
	// PING or the PONG to a PING of the peer still in its input, fails
	// the assertion "!_io_error (src/stream_engine_base.cpp:331)"
	// (libzmq#4841; #3937 and #4767 are the same family). So heartbeats on
	// either end of a connection put the receiving end at risk. Measured
	// here (TestHeartbeatNoAbort, 20 runs each, heartbeats every 100 ms on
	// both ends): a busy receiver SIGSTOPped until dropped, then
	// SIGCONTed, aborted in 11 of 20 runs, a stalled consumer whose sender
	// restarted in 6 of 20 (up to 18 of 20 in other runs); with them on
	// the sender only, 1 of 20 and 0 of 20; with the former defaults
	// (every 5 s) on the receiver and every 100 ms on the sender, 5 of 6
	// stalled consumers (every 5 s on both ends: 0 of 3 each, which shows
	// that the abort is rarer with slower heartbeats, not that they are
	// safe); with heartbeats on neither end, 0 of 20 each. Turn them
	// on only where no socket's input can stop for long, and get the
	// liveness of peers from application-level heartbeats instead.
	//
	// A heartbeat disconnect, like any disconnect, loses what libzmq held
	// for that connection: the messages queued for the peer (up to
	// SendHWM) and the bytes in both kernels' buffers. zchan counted them
	// in Stats.MsgsOut when libzmq took them and cannot see them dropped:
	// no counter shows them. Measured here with 1 KiB messages and
	// default kernel buffers: 628 to 684 of 3,500 sent were lost when a
	// stopped receiver was dropped by its sender's heartbeat, and up to
	// 3,843 of 4,065 when the receiver's own heartbeat timed out after
	// SIGCONT and its kernel buffer went with the connection.
	HeartbeatIvl, HeartbeatTimeout, HeartbeatTTL time.Duration
	// ZAPDomain is ZMQ_ZAP_DOMAIN. On a NULL socket (no CURVE) it does
	// two things in libzmq 4.3.4. It refuses peers that speak ZMTP 1.0
	// or 2.0: without it libzmq falls back to ZMTP 1.0 framing for any
	// peer whose first bytes are not a ZMTP 3 greeting, so arbitrary
	// bytes from anyone who can reach the port become messages, and the
	// handshake interval does not apply (the 1.0 handshake has no
	// greeting to wait for). And it makes each handshake ask the ZAP
	// handler of the socket's context, if there is one: an
	// Authenticator lets NULL peers in subject to its IP lists; without
	// a handler libzmq lets them in. A CURVE socket refuses old-protocol
	// peers and asks the handler whatever the domain; the domain is only
	// passed to the handler. Default "zmqchan".
	ZAPDomain string
}

// DefaultLimits returns the limits Listen applies unless overridden:
// MaxMsgSize 1 MiB, MaxFrames 64, RecvHWM and SendHWM 100, HandshakeIvl
// 5s, ZAPDomain "zmqchan", no ZMTP heartbeats. No default turns on a
// libzmq feature known to abort the process.
func DefaultLimits() Limits {
	return Limits{
		MaxMsgSize:   1 << 20,
		MaxFrames:    64,
		RecvHWM:      100,
		SendHWM:      100,
		HandshakeIvl: 5 * time.Second,
		ZAPDomain:    "zmqchan",
	}
}

// Options returns the zchan options that apply l. A negative field, or a
// heartbeat timeout or TTL without an interval, is an error wrapping
// ErrInvalidLimit. Options later in a zchan.Open call override these.
func (l Limits) Options() ([]zchan.Option, error) {
	switch {
	case l.MaxMsgSize < 0, l.MaxFrames < 0, l.RecvHWM < 0, l.SendHWM < 0, l.HandshakeIvl < 0,
		l.HeartbeatIvl < 0, l.HeartbeatTimeout < 0, l.HeartbeatTTL < 0:
		return nil, fmt.Errorf("secure: negative limit in %+v: %w", l, ErrInvalidLimit)
	case l.HeartbeatIvl == 0 && (l.HeartbeatTimeout > 0 || l.HeartbeatTTL > 0):
		return nil, fmt.Errorf("secure: heartbeat timeout or TTL without an interval: %w", ErrInvalidLimit)
	}
	var opts []zchan.Option
	if l.MaxMsgSize > 0 {
		opts = append(opts, zchan.WithMaxMsgSize(l.MaxMsgSize))
	}
	if l.MaxFrames > 0 {
		opts = append(opts, zchan.WithMaxFrames(l.MaxFrames))
	}
	if l.RecvHWM > 0 {
		opts = append(opts, zchan.WithRecvHWM(l.RecvHWM))
	}
	if l.SendHWM > 0 {
		opts = append(opts, zchan.WithSendHWM(l.SendHWM))
	}
	if l.HandshakeIvl > 0 {
		ivl := l.HandshakeIvl
		opts = append(opts, zchan.WithSetup(func(s *zmq.Socket) error { return s.SetHandshakeIvl(ivl) }))
	}
	if l.ZAPDomain != "" {
		domain := l.ZAPDomain
		opts = append(opts, zchan.WithSetup(func(s *zmq.Socket) error { return s.SetZapDomain(domain) }))
	}
	if l.HeartbeatIvl > 0 {
		opts = append(opts, zchan.WithHeartbeat(l.HeartbeatIvl, l.HeartbeatTimeout, l.HeartbeatTTL))
	}
	return opts, nil
}
