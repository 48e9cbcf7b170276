package pipeline

import "github.com/zmqchan/zmqchan/zchan"

// SetSendHook makes c's Send call f between the head's accepting a value
// and Sent counting it. Call it before the first Send.
func SetSendHook[In, Out any](c *Chain[In, Out], f func()) { c.testHookSent = f }

// EncodeEntries packs values as the entries of a TASKS frame (ids 1, 2, ...);
// DecodeEntries reads such a frame back, as a worker does.
func EncodeEntries(values [][][]byte) []byte {
	b := []byte{kTask}
	for i, v := range values {
		b = appendEntry(b, uint64(i+1), v)
	}
	return b
}

func DecodeEntries(frame []byte) (ids []uint64, values [][][]byte, err error) {
	ts, err := readTasks(zchan.Msg{frame}, 0)
	for _, t := range ts {
		ids = append(ids, t.id)
		values = append(values, t.frames)
	}
	return ids, values, err
}

// EncodeBytesEntry is Submit's entry for b under the default []byte codec
// (the direct path), and EncodeCodecEntry the same through any codec's
// Encode (the general one); both with id 0.
func EncodeBytesEntry(b []byte) ([]byte, error) { return encodeEntry(zchan.Bytes, b) }

func EncodeCodecEntry(c zchan.Codec[[]byte], b []byte) ([]byte, error) { return encodeEntry(c, b) }

// CountEntries counts a TASKS frame's entries and frames, as readTasks
// does before it allocates.
func CountEntries(frame []byte) (entries, frames int) { return countEntries(frame[1:], false) }
