package pipeline

import (
	"encoding/binary"
	"fmt"

	"github.com/zmqchan/zmqchan/zchan"
)

// Every message on a link starts with a header frame saying what it is;
// the frames of the user's value, as its codec made them, follow. The
// header costs one small frame per message and keeps user frames opaque.
//
// Chain links: kData + value frames; kEnd (the end of the stream, sent by
// Close and forwarded by every stage); kFail + one frame of error text (a
// remote stage failed).
//
// Pool tasks: kTask+id (9 bytes) + value frames. Pool results: kResult+id
// + value frames; kSkipped+id; kHello and kBye (a remote worker joined or
// stopped); kFail + error text. Control: the single frame "KILL".
const (
	kData    = 'd'
	kEnd     = 'e'
	kFail    = 'f'
	kTask    = 't'
	kResult  = 'r'
	kSkipped = 's'
	kHello   = 'h'
	kBye     = 'b'
)

var (
	hdrData  = []byte{kData}
	endMsg   = zchan.Msg{{kEnd}}
	helloMsg = zchan.Msg{{kHello}}
	byeMsg   = zchan.Msg{{kBye}}
	killMsg  = zchan.Msg{[]byte("KILL")}
)

func kindOf(m zchan.Msg) byte {
	if len(m) == 0 || len(m[0]) == 0 {
		return 0
	}
	return m[0][0]
}

func withHeader(h []byte, frames [][]byte) zchan.Msg {
	m := make(zchan.Msg, 0, len(frames)+1)
	m = append(m, h)
	return append(m, frames...)
}

func idHeader(kind byte, id uint64) []byte {
	h := make([]byte, 9)
	h[0] = kind
	binary.BigEndian.PutUint64(h[1:], id)
	return h
}

func idOf(m zchan.Msg) (uint64, error) {
	if len(m) == 0 || len(m[0]) != 9 {
		return 0, fmt.Errorf("pipeline: bad task header: %w", ErrProtocol)
	}
	return binary.BigEndian.Uint64(m[0][1:]), nil
}

func failMsg(err error) zchan.Msg {
	return zchan.Msg{{kFail}, []byte(err.Error())}
}

func remoteErr(where string, m zchan.Msg) error {
	text := "unknown"
	if len(m) > 1 {
		text = string(m[1])
	}
	return fmt.Errorf("pipeline: %s: %w: %s", where, ErrRemote, text)
}

// closeCount closes s and returns how many messages it could not hand on:
// zchan's count, plus what is left unread in its In buffer, which nobody
// will read now that its reader has stopped.
func closeCount(s *zchan.Socket[zchan.Msg]) uint64 {
	s.Close()
	n := s.Stats().Undelivered
	for range s.In() { // closed by the owner once it has exited
		n++
	}
	return n
}
