package pipeline

import (
	"fmt"

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

// encode runs c.Encode and wraps its error. An empty result is a value of
// no frames, which a link carries as its header alone (see wire.go).
func encode[T any](c zchan.Codec[T], v T) ([][]byte, error) {
	f, err := c.Encode(v)
	if err != nil {
		return nil, fmt.Errorf("pipeline: encode: %w", err)
	}
	return f, nil
}
