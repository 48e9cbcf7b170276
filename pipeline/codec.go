package pipeline

import (
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/zmqchan/zmqchan/zchan"
)

// codecFor returns the codec for T: the last WithCodec of that type, or
// the default for T.
func codecFor[T any](o *options) zchan.Codec[T] {
	for i := len(o.codecs) - 1; i >= 0; i-- {
		if c, ok := o.codecs[i].(zchan.Codec[T]); ok {
			return c
		}
	}
	var v T
	switch any(v).(type) {
	case []byte:
		return any(zchan.Bytes).(zchan.Codec[T])
	case string:
		return any(zchan.String).(zchan.Codec[T])
	case zchan.Msg:
		return any(zchan.Frames).(zchan.Codec[T])
	}
	return zchan.JSON[T]()
}

// encode runs c.Encode. Its error wraps zchan.ErrCodec, or ErrPanic if
// the codec panicked. An empty result is a value of no frames, which a
// link carries as its header alone (see wire.go).
func encode[T any](c zchan.Codec[T], v T) (f [][]byte, err error) {
	defer recoverPanic(&err, "encode")
	f, err = c.Encode(v)
	if err != nil {
		return nil, codecErr("encode", err)
	}
	return f, nil
}

// encodeEntry encodes v as a task's entry (see appendEntry) with id 0,
// for the caller to set with setEntryID: the entry is made outside the
// pool's lock, its id under it. Raw bytes under the default codec for
// []byte are written straight, without the [][]byte that Encode
// allocates (a third of Submit's allocations).
func encodeEntry[T any](c zchan.Codec[T], v T) ([]byte, error) {
	if b, ok := any(v).([]byte); ok && any(c) == any(zchan.Bytes) {
		one := [][]byte{b} // not kept: on the stack
		return appendEntry(make([]byte, 0, entryLen(one)), 0, one), nil
	}
	frames, err := encode(c, v)
	if err != nil {
		return nil, err
	}
	return appendEntry(make([]byte, 0, entryLen(frames)), 0, frames), nil
}

// decode runs c.Decode, with errors as encode's.
func decode[T any](c zchan.Codec[T], frames [][]byte) (v T, err error) {
	defer recoverPanic(&err, "decode")
	v, err = c.Decode(frames)
	if err != nil {
		return v, codecErr("decode", err)
	}
	return v, nil
}

func codecErr(op string, err error) error {
	if errors.Is(err, zchan.ErrCodec) {
		return fmt.Errorf("pipeline: %s: %w", op, err)
	}
	return fmt.Errorf("pipeline: %s: %w: %w", op, zchan.ErrCodec, err)
}

// recoverPanic turns a panic of the function it is deferred in into an
// error wrapping ErrPanic, with the value and the stack, in *err. It must
// be called directly by defer.
func recoverPanic(err *error, where string) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("pipeline: %s: %w: %v\n%s", where, ErrPanic, r, debug.Stack())
	}
}
