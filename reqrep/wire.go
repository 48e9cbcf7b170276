package reqrep

import (
	"bytes"
	"encoding/binary"
	"strings"
	"sync"

	"github.com/zmqchan/zmqchan/zchan"
)

// The wire format (see the package doc, "Wire format").
const (
	// idLen is the length of a DEALER client's request id frame.
	idLen = 8
	// errorMarker is the first frame of an error reply's body; the second
	// frame is the server's message. It begins with a zero byte, which no
	// text reply does.
	errorMarker = "\x00reqrep:error"
)

// request is the memory of one DEALER request [id, "", body...], in one
// allocation for a body of up to two frames.
type request struct {
	id     [idLen]byte
	frames [4][]byte
}

// empty is the delimiter frame every request shares: libzmq copies it and
// nothing writes to it.
var empty = []byte{}

// newRequest returns the message of request id with body frames.
func newRequest(id uint64, frames [][]byte) zchan.Msg {
	r := new(request)
	binary.BigEndian.PutUint64(r.id[:], id)
	return append(append(r.frames[:0], r.id[:], empty), frames...)
}

// waiters holds the channels on which a DEALER caller waits for its reply
// to be handed over by another caller (capacity 1: see Client.route). A
// channel is put back only empty and once no one can send on it.
var waiters = sync.Pool{New: func() any { return make(chan [][]byte, 1) }}

// splitReply splits a DEALER client's reply [id, "", body...] into its
// request id and body; ok is false for anything else.
func splitReply(m zchan.Msg) (id uint64, body [][]byte, ok bool) {
	if len(m) < 2 || len(m[0]) != idLen || len(m[1]) != 0 {
		return 0, nil, false
	}
	return binary.BigEndian.Uint64(m[0]), m[2:], true
}

// splitEnvelope splits a message a ROUTER received into its envelope (the
// frames up to and including the first empty one: the peer's identity,
// any identities brokers added, the client's request id, the delimiter)
// and its body. ok is false when there is no empty frame: the envelope is
// then the peer's identity alone.
func splitEnvelope(m zchan.Msg) (env, body [][]byte, ok bool) {
	for i, f := range m {
		if len(f) == 0 {
			return m[: i+1 : i+1], m[i+1:], true
		}
	}
	return m[:1:1], nil, false
}

// errorBody is the body of an error reply carrying msg.
func errorBody(msg string) [][]byte {
	return [][]byte{[]byte(errorMarker), []byte(msg)}
}

// remoteError returns the error an error reply carries, or nil if body is
// not one.
func remoteError(body [][]byte) error {
	if len(body) != 2 || !bytes.Equal(body[0], []byte(errorMarker)) {
		return nil
	}
	msg := strings.TrimPrefix(string(body[1]), "reqrep: ")
	return newErr(ErrRemote, nil, "server: %s", msg)
}
