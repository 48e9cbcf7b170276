package pipeline

import (
	"encoding/binary"
	"fmt"

	"github.com/zmqchan/zmqchan/zchan"
)

// Every message on a link starts with a header saying what it is, folded
// into the front of its first frame; the frames of the user's value, as
// its codec made them, follow (the first one behind the header). Folding
// costs one copy of the first frame when sending and saves a whole frame
// per message on every hop: a frame is a libzmq send on one side and a
// receive plus a "more?" query on the other, each several cgo calls,
// which is far dearer than copying a few bytes. A value its codec encodes
// as no frames at all travels as the header alone, with the kind in upper
// case (kData becomes 'D', kTask 'T', kResult 'R'), so it stays distinct
// from a value encoded as one empty frame.
//
// Chain links: kData + value frames; kEnd (the end of the stream, sent by
// Close and forwarded by every stage); kFail, then one frame of error text
// (a remote stage failed).
//
// Pool link (one ROUTER at the pool, one DEALER per worker; the worker
// protocol, in full, is in doc.go): kHello + uint32 credit (READY), then
// optionally a frame with the worker's name; kPing (a heartbeat, both
// ways); TASKS, kTask + one or more task entries in one frame (pool to
// worker); RESULTS, kResult + one or more answer entries in one frame
// (worker to pool); kFail, +id when the failure was on a task, then a
// frame of error text; kBye (goodbye); kKill and kReconnect (pool to
// worker). A task entry is the id (uint64), the number of the value's
// frames (uint32) and each frame as its length (uint32) and its bytes, all
// big-endian; an answer entry is a status byte (kResult, or kSkipped with
// no frames) and then the same. Packing a batch into one frame makes a
// batch one libzmq send and one receive whatever its size: on the pool's
// link, where every task makes two hops, the per-message cost (the
// owner's hand-offs and libzmq's calls) is what bounded throughput.
const (
	kData      = 'd'
	kEnd       = 'e'
	kFail      = 'f'
	kTask      = 't'
	kResult    = 'r'
	kSkipped   = 's'
	kHello     = 'h'
	kBye       = 'b'
	kPing      = 'p'
	kKill      = 'k'
	kReconnect = 'x'
)

// Header lengths: the kind byte, and for pool tasks and results the id.
const (
	dataHdrLen = 1
	idHdrLen   = 9
)

// caseBit turns a lower-case kind into the upper-case kind of the same
// message with a value of no frames.
const caseBit = 'a' - 'A'

var (
	hdrData = []byte{kData}
	endMsg  = zchan.Msg{{kEnd}}
	byeMsg  = zchan.Msg{{kBye}}
	pingMsg = zchan.Msg{{kPing}}
)

// kindOf returns a message's kind, the no-frames form of kData mapped to
// kData, or 0 for a message with no header.
func kindOf(m zchan.Msg) byte {
	if len(m) == 0 || len(m[0]) == 0 {
		return 0
	}
	switch k := m[0][0]; k {
	case kData - caseBit:
		return k + caseBit
	default:
		return k
	}
}

// withHeader builds a message of header h and a value's frames: h is
// copied in front of the first frame; with no frames, the message is h
// alone with its kind in upper case. Neither h nor frames is modified.
func withHeader(h []byte, frames [][]byte) zchan.Msg {
	if len(frames) == 0 {
		first := make([]byte, len(h))
		copy(first, h)
		first[0] -= caseBit
		return zchan.Msg{first}
	}
	first := make([]byte, len(h)+len(frames[0]))
	copy(first, h)
	copy(first[len(h):], frames[0])
	m := make(zchan.Msg, len(frames))
	m[0] = first
	copy(m[1:], frames[1:])
	return m
}

// valueOf returns the value's frames of a received message whose kind
// (checked by the caller) carries a value behind a header of hlen bytes.
// It reuses m, which the caller owns and must not use afterwards except
// through the result.
func valueOf(m zchan.Msg, hlen int) ([][]byte, error) {
	if len(m) == 0 || len(m[0]) < hlen {
		return nil, fmt.Errorf("pipeline: short header: %w", ErrProtocol)
	}
	if m[0][0] == kData-caseBit {
		if len(m) != 1 || len(m[0]) != hlen {
			return nil, fmt.Errorf("pipeline: value of no frames with more: %w", ErrProtocol)
		}
		return m[:0], nil
	}
	m[0] = m[0][hlen:]
	return m, nil
}

func idHeader(kind byte, id uint64) []byte {
	h := make([]byte, idHdrLen)
	h[0] = kind
	binary.BigEndian.PutUint64(h[1:], id)
	return h
}

func idOf(m zchan.Msg) (uint64, error) {
	if len(m) == 0 || len(m[0]) < idHdrLen {
		return 0, fmt.Errorf("pipeline: bad task header: %w", ErrProtocol)
	}
	return binary.BigEndian.Uint64(m[0][1:]), nil
}

// failMsg reports a failure downstream (a chain's remote stage).
func failMsg(err error) zchan.Msg {
	return zchan.Msg{{kFail}, []byte(err.Error())}
}

// helloMsg is a worker's READY: its credit, and its name for the pool's
// logs.
func helloMsg(credit int, name string) zchan.Msg {
	h := make([]byte, 5)
	h[0] = kHello
	binary.BigEndian.PutUint32(h[1:], uint32(credit))
	return zchan.Msg{h, []byte(name)}
}

// creditOf reads a READY's credit.
func creditOf(m zchan.Msg) (int, error) {
	if len(m) == 0 || len(m[0]) != 5 {
		return 0, fmt.Errorf("pipeline: bad READY: %w", ErrProtocol)
	}
	return int(binary.BigEndian.Uint32(m[0][1:])), nil
}

// taskFailMsg is a worker's FAIL: on task id if onTask, with err's text.
func taskFailMsg(err error, id uint64, onTask bool) zchan.Msg {
	if !onTask {
		return zchan.Msg{{kFail}, []byte(err.Error())}
	}
	return zchan.Msg{idHeader(kFail, id), []byte(err.Error())}
}

func remoteErr(where string, m zchan.Msg) error {
	text := "unknown"
	if len(m) > 1 {
		text = string(m[1])
	}
	return fmt.Errorf("pipeline: %s: %w: %s", where, ErrRemote, text)
}

// entryLen is the size of the entry of a value of frames (without the
// status byte of an answer).
func entryLen(frames [][]byte) int {
	n := 12
	for _, f := range frames {
		n += 4 + len(f)
	}
	return n
}

// appendEntry appends a task's (or, behind its status byte, an answer's)
// entry: id, the number of frames, and each frame with its length.
func appendEntry(b []byte, id uint64, frames [][]byte) []byte {
	b = binary.BigEndian.AppendUint64(b, id)
	b = binary.BigEndian.AppendUint32(b, uint32(len(frames)))
	for _, f := range frames {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return b
}

// nextEntry reads the entry at the front of b: its id and its frames,
// which alias b, and what follows it. The frames' slice headers are
// appended to slab (one allocation for a batch, not one per entry), which
// it returns; frames stays valid when a later append moves slab.
func nextEntry(b []byte, slab [][]byte) (id uint64, frames [][]byte, rest []byte, out [][]byte, err error) {
	if len(b) < 12 {
		return 0, nil, nil, slab, fmt.Errorf("pipeline: short entry: %w", ErrProtocol)
	}
	id = binary.BigEndian.Uint64(b)
	n := binary.BigEndian.Uint32(b[8:])
	b = b[12:]
	if uint64(n) > uint64(len(b))/4 {
		return 0, nil, nil, slab, fmt.Errorf("pipeline: entry of %d frames in %d bytes: %w", n, len(b), ErrProtocol)
	}
	start := len(slab)
	for range n {
		if len(b) < 4 {
			return 0, nil, nil, slab, fmt.Errorf("pipeline: short entry: %w", ErrProtocol)
		}
		l := binary.BigEndian.Uint32(b)
		b = b[4:]
		if uint64(l) > uint64(len(b)) {
			return 0, nil, nil, slab, fmt.Errorf("pipeline: frame of %d bytes in %d: %w", l, len(b), ErrProtocol)
		}
		slab = append(slab, b[:l:l])
		b = b[l:]
	}
	return id, slab[start:len(slab):len(slab)], b, slab, nil
}

// countEntries counts the entries in b, the body of a TASKS message (or,
// with status set, of a RESULTS message, whose entries each follow a
// status byte), and their frames, so that the reader allocates its slices
// once at their size: grown by append, they cost twice the bytes, and the
// bytes a pool allocates per task are what its garbage collection costs.
// It stops at the first malformed entry, which nextEntry then reports.
func countEntries(b []byte, status bool) (entries, frames int) {
	for len(b) > 0 {
		if status {
			b = b[1:]
		}
		if len(b) < 12 {
			return entries, frames
		}
		n := binary.BigEndian.Uint32(b[8:])
		b = b[12:]
		if uint64(n) > uint64(len(b))/4 {
			return entries, frames
		}
		for range n {
			if len(b) < 4 {
				return entries, frames
			}
			l := binary.BigEndian.Uint32(b)
			b = b[4:]
			if uint64(l) > uint64(len(b)) {
				return entries, frames
			}
			b = b[l:]
		}
		entries++
		frames += int(n)
	}
	return entries, frames
}

// batchBody returns the entries of a TASKS or RESULTS message, which is
// one frame.
func batchBody(m zchan.Msg) ([]byte, error) {
	if len(m) != 1 || len(m[0]) < 1+12 {
		return nil, fmt.Errorf("pipeline: batch of %d frames: %w", len(m), ErrProtocol)
	}
	return m[0][1:], nil
}
