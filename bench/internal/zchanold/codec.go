package zchanold

import (
	"encoding/json"
	"fmt"
)

// Msg is a raw multipart message: one []byte per frame, in order. It is
// the message type of Open. A ROUTER's Msg starts with the peer's identity
// frame (and a REQ peer's empty delimiter); sending the same envelope back
// routes the reply.
type Msg [][]byte

// NewMsg builds a Msg from strings, one frame each.
func NewMsg(frames ...string) Msg {
	m := make(Msg, len(frames))
	for i, f := range frames {
		m[i] = []byte(f)
	}
	return m
}

// Codec maps a value of type T to the frames of one message and back.
// Encode runs on the goroutine that calls Send; Decode runs on the
// socket's owner and must not block. Both must be safe for concurrent use.
// A Decode error is counted in Stats.DecodeErrors and logged once per
// episode; the message is not delivered.
type Codec[T any] interface {
	Encode(v T) ([][]byte, error)
	Decode(frames [][]byte) (T, error)
}

type framesCodec struct{}

func (framesCodec) Encode(v Msg) ([][]byte, error)    { return v, nil }
func (framesCodec) Decode(f [][]byte) (Msg, error)    { return Msg(f), nil }
func (bytesCodec) Encode(v []byte) ([][]byte, error)  { return [][]byte{v}, nil }
func (stringCodec) Encode(v string) ([][]byte, error) { return [][]byte{[]byte(v)}, nil }
func (bytesCodec) Decode(f [][]byte) ([]byte, error)  { return single(f) }
func (stringCodec) Decode(f [][]byte) (string, error) { b, err := single(f); return string(b), err }

type bytesCodec struct{}
type stringCodec struct{}

func single(f [][]byte) ([]byte, error) {
	if len(f) != 1 {
		return nil, fmt.Errorf("zchan: want 1 frame, got %d: %w", len(f), ErrDecode)
	}
	return f[0], nil
}

// Built-in codecs.
var (
	// Frames passes multipart messages through unchanged. It is what Open uses.
	Frames Codec[Msg] = framesCodec{}
	// Bytes maps a []byte to a single frame; a message of any other number
	// of frames is a decode error.
	Bytes Codec[[]byte] = bytesCodec{}
	// String maps a string to a single frame; a message of any other
	// number of frames is a decode error.
	String Codec[string] = stringCodec{}
)

type jsonCodec[T any] struct{}

// JSON returns a codec that maps T to one frame of JSON. A message of more
// than one frame, or a frame that is not valid JSON for T, is a decode
// error.
func JSON[T any]() Codec[T] { return jsonCodec[T]{} }

func (jsonCodec[T]) Encode(v T) ([][]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("zchan: json encode: %w: %w", ErrDecode, err)
	}
	return [][]byte{b}, nil
}

func (jsonCodec[T]) Decode(f [][]byte) (T, error) {
	var v T
	b, err := single(f)
	if err != nil {
		return v, err
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("zchan: json decode: %w: %w", ErrDecode, err)
	}
	return v, nil
}
