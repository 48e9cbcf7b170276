package monitor

import (
	"encoding/binary"
	"fmt"
	"syscall"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchan/zmqchan/zchan"
)

// Kind is what happened to a connection or an endpoint. The zero value is
// not a valid kind.
type Kind int

// The kinds of events. Each names the libzmq event (ZMQ_EVENT_*) it comes
// from; HandshakeFailed gathers libzmq's three handshake failures, told
// apart by Event.Failure.
const (
	// Connected: a connect completed at the TCP level (CONNECTED). Value is
	// the connection's file descriptor.
	Connected Kind = iota + 1
	// ConnectDelayed: a connect did not complete at once and is pending
	// (CONNECT_DELAYED). Value is the errno.
	ConnectDelayed
	// ConnectRetried: a connect is being retried (CONNECT_RETRIED). Value
	// is the reconnect interval in milliseconds.
	ConnectRetried
	// Listening: a bind succeeded (LISTENING). Value is the listening
	// descriptor.
	Listening
	// BindFailed: a bind failed (BIND_FAILED). Value is the errno.
	BindFailed
	// Accepted: a listener accepted a connection (ACCEPTED). Value is the
	// connection's descriptor. No ZMTP handshake has happened yet.
	Accepted
	// AcceptFailed: a listener could not accept (ACCEPT_FAILED), typically
	// because the process ran out of descriptors. Value is the errno.
	AcceptFailed
	// Closed: a connection's descriptor was closed (CLOSED). Value is the
	// descriptor.
	Closed
	// CloseFailed: closing a descriptor failed (CLOSE_FAILED). Value is the
	// errno.
	CloseFailed
	// Disconnected: an established session was broken: the peer went away,
	// sent a frame over ZMQ_MAXMSGSIZE, broke the protocol after the
	// handshake, or missed its heartbeats (DISCONNECTED). Value is the
	// descriptor.
	Disconnected
	// HandshakeSucceeded: the ZMTP handshake, including authentication,
	// completed (HANDSHAKE_SUCCEEDED). Messages flow from now on.
	HandshakeSucceeded
	// HandshakeFailed: the ZMTP handshake failed; Failure says why and Value
	// carries the detail (HANDSHAKE_FAILED_NO_DETAIL, _PROTOCOL, _AUTH).
	HandshakeFailed
)

var kindNames = map[Kind]string{
	Connected: "connected", ConnectDelayed: "connect delayed", ConnectRetried: "connect retried",
	Listening: "listening", BindFailed: "bind failed", Accepted: "accepted",
	AcceptFailed: "accept failed", Closed: "closed", CloseFailed: "close failed",
	Disconnected: "disconnected", HandshakeSucceeded: "handshake succeeded",
	HandshakeFailed: "handshake failed",
}

// String returns a lower-case name such as "handshake failed".
func (k Kind) String() string {
	if n, ok := kindNames[k]; ok {
		return n
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Failure says why a handshake failed. The zero value means the event is
// not a handshake failure.
type Failure int

const (
	// FailureOther: the handshake failed for a reason libzmq gives only as
	// an errno in Value (HANDSHAKE_FAILED_NO_DETAIL). A handshake that did
	// not complete within ZMQ_HANDSHAKE_IVL shows as EAGAIN with libzmq
	// 4.3.4; a peer that hung up mid-handshake, as the errno of the read.
	FailureOther Failure = iota + 1
	// FailureProtocol: the peer broke the ZMTP protocol: garbage instead of
	// a greeting, a mechanism mismatch, a malformed command. Value is
	// libzmq's ZMQ_PROTOCOL_ERROR_* code (HANDSHAKE_FAILED_PROTOCOL).
	FailureProtocol
	// FailureAuth: the ZAP handler refused the peer. Value is the ZAP
	// status code, such as 400 (HANDSHAKE_FAILED_AUTH).
	FailureAuth
)

// String returns "auth", "protocol" or "other".
func (f Failure) String() string {
	switch f {
	case FailureOther:
		return "other"
	case FailureProtocol:
		return "protocol"
	case FailureAuth:
		return "auth"
	}
	return fmt.Sprintf("Failure(%d)", int(f))
}

// Event is one thing that happened on the watched socket. It is a plain
// value: safe to copy and keep.
type Event struct {
	// Kind is what happened.
	Kind Kind
	// Failure says why a handshake failed; zero for other kinds.
	Failure Failure
	// Value is the number libzmq attaches to the event: a descriptor, an
	// errno, an interval in milliseconds, a protocol error code or a ZAP
	// status code, as each Kind documents.
	Value uint32
	// Endpoint is the endpoint the socket bound or connected to, as libzmq
	// resolved it ("tcp://127.0.0.1:5555"). For an accepted connection it
	// is the listening endpoint, not the peer's address: libzmq's event
	// format (version 1, the only one in stable libzmq 4.3) does not carry
	// the peer's address.
	Endpoint string
}

// Reason describes a handshake failure ("auth: status 400", "protocol:
// mechanism mismatch", "other: resource temporarily unavailable"), or
// returns "" for other kinds.
func (e Event) Reason() string {
	switch e.Failure {
	case FailureAuth:
		return fmt.Sprintf("auth: status %d", e.Value)
	case FailureProtocol:
		if n, ok := protocolErrors[e.Value]; ok {
			return "protocol: " + n
		}
		return fmt.Sprintf("protocol: error %#08x", e.Value)
	case FailureOther:
		return "other: " + syscall.Errno(e.Value).Error()
	}
	return ""
}

// protocolErrors names libzmq's ZMQ_PROTOCOL_ERROR_* codes.
var protocolErrors = map[uint32]string{
	0x10000000: "ZMTP unspecified",
	0x10000001: "ZMTP unexpected command",
	0x10000002: "ZMTP invalid sequence",
	0x10000003: "ZMTP key exchange",
	0x10000011: "ZMTP malformed command",
	0x10000012: "ZMTP malformed MESSAGE",
	0x10000013: "ZMTP malformed HELLO",
	0x10000014: "ZMTP malformed INITIATE",
	0x10000015: "ZMTP malformed ERROR",
	0x10000016: "ZMTP malformed READY",
	0x10000017: "ZMTP malformed WELCOME",
	0x10000018: "ZMTP invalid metadata",
	0x11000001: "cryptographic error",
	0x11000002: "mechanism mismatch",
	0x20000000: "ZAP unspecified",
	0x20000001: "ZAP malformed reply",
	0x20000002: "ZAP bad request id",
	0x20000003: "ZAP bad version",
	0x20000004: "ZAP invalid status code",
	0x20000005: "ZAP invalid metadata",
}

// String formats the event for logs.
func (e Event) String() string {
	if e.Kind == HandshakeFailed {
		return fmt.Sprintf("%s %s (%s)", e.Kind, e.Endpoint, e.Reason())
	}
	return fmt.Sprintf("%s %s (%d)", e.Kind, e.Endpoint, e.Value)
}

// fromZMQ maps libzmq's event bits to kinds; monitorStopped is handled
// apart: it ends the stream.
var fromZMQ = map[zmq.Event]struct {
	k Kind
	f Failure
}{
	zmq.EVENT_CONNECTED:                  {Connected, 0},
	zmq.EVENT_CONNECT_DELAYED:            {ConnectDelayed, 0},
	zmq.EVENT_CONNECT_RETRIED:            {ConnectRetried, 0},
	zmq.EVENT_LISTENING:                  {Listening, 0},
	zmq.EVENT_BIND_FAILED:                {BindFailed, 0},
	zmq.EVENT_ACCEPTED:                   {Accepted, 0},
	zmq.EVENT_ACCEPT_FAILED:              {AcceptFailed, 0},
	zmq.EVENT_CLOSED:                     {Closed, 0},
	zmq.EVENT_CLOSE_FAILED:               {CloseFailed, 0},
	zmq.EVENT_DISCONNECTED:               {Disconnected, 0},
	zmq.EVENT_HANDSHAKE_SUCCEEDED:        {HandshakeSucceeded, 0},
	zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL: {HandshakeFailed, FailureOther},
	zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL:  {HandshakeFailed, FailureProtocol},
	zmq.EVENT_HANDSHAKE_FAILED_AUTH:      {HandshakeFailed, FailureAuth},
}

// stopped is the decoded MONITOR_STOPPED event: libzmq sends it when the
// watched socket closes or the monitor is detached, and sends nothing
// after it. It never reaches the caller.
const stopped Kind = -1

// codec decodes libzmq's monitor messages, event version 1: frame 1 holds
// the event (uint16) and its value (uint32), little-endian; frame 2 the
// endpoint. Encode produces the same layout, for tests.
type codec struct{}

func (codec) Decode(f [][]byte) (Event, error) {
	if len(f) != 2 || len(f[0]) != 6 {
		return Event{}, fmt.Errorf("monitor: want 2 frames, the first of 6 bytes: %w", zchan.ErrCodec)
	}
	bits := zmq.Event(binary.LittleEndian.Uint16(f[0]))
	value := binary.LittleEndian.Uint32(f[0][2:])
	if bits == zmq.EVENT_MONITOR_STOPPED {
		return Event{Kind: stopped}, nil
	}
	m, ok := fromZMQ[bits]
	if !ok {
		return Event{}, fmt.Errorf("monitor: unknown event %#x: %w", uint16(bits), zchan.ErrCodec)
	}
	return Event{Kind: m.k, Failure: m.f, Value: value, Endpoint: string(f[1])}, nil
}

func (codec) Encode(e Event) ([][]byte, error) {
	var bits zmq.Event
	if e.Kind == stopped {
		bits = zmq.EVENT_MONITOR_STOPPED
	}
	for b, m := range fromZMQ {
		if m.k == e.Kind && m.f == e.Failure {
			bits = b
		}
	}
	if bits == 0 {
		return nil, fmt.Errorf("monitor: encode %v/%v: %w", e.Kind, e.Failure, zchan.ErrCodec)
	}
	head := make([]byte, 6)
	binary.LittleEndian.PutUint16(head, uint16(bits))
	binary.LittleEndian.PutUint32(head[2:], e.Value)
	return [][]byte{head, []byte(e.Endpoint)}, nil
}
