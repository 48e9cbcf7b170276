package zchanold

import "sync/atomic"

// Stats is a snapshot of a socket's counters.
type Stats struct {
	// MsgsIn and BytesIn count messages received from the socket and
	// handed to the consumer of In (bytes summed over frames).
	MsgsIn, BytesIn uint64
	// MsgsOut and BytesOut count messages accepted by libzmq.
	MsgsOut, BytesOut uint64
	// DecodeErrors counts inbound messages the codec could not decode.
	DecodeErrors uint64
	// TooManyFrames counts inbound messages discarded for exceeding
	// WithMaxFrames.
	TooManyFrames uint64
	// Dropped counts inbound messages dropped because the consumer was
	// slow (only with WithDropWhenSlow).
	Dropped uint64
	// SendStalls counts the times a send found the socket unable to take
	// it (high-water mark reached or no peer) and had to wait for POLLOUT.
	SendStalls uint64
	// Undelivered counts messages the socket held when it ended: accepted
	// by Send but never taken by libzmq (within the linger), or received
	// from libzmq but never put in In's buffer (this includes what was
	// still queued in libzmq's receive queue at close). Messages already in
	// In's buffer are not counted: they stay readable from In after it is
	// closed, and a consumer that stops reading early owns that loss.
	Undelivered uint64
}

type counters struct {
	msgsIn, bytesIn, msgsOut, bytesOut atomic.Uint64
	decodeErrors, tooManyFrames        atomic.Uint64
	dropped, sendStalls, undelivered   atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{
		MsgsIn: c.msgsIn.Load(), BytesIn: c.bytesIn.Load(),
		MsgsOut: c.msgsOut.Load(), BytesOut: c.bytesOut.Load(),
		DecodeErrors: c.decodeErrors.Load(), TooManyFrames: c.tooManyFrames.Load(),
		Dropped: c.dropped.Load(), SendStalls: c.sendStalls.Load(),
		Undelivered: c.undelivered.Load(),
	}
}

func size(frames [][]byte) uint64 {
	var n uint64
	for _, f := range frames {
		n += uint64(len(f))
	}
	return n
}
