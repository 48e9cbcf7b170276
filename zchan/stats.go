package zchan

import "sync/atomic"

// Stats is a snapshot of a socket's counters.
//
// Every message is counted exactly once, when its fate is known: once the
// socket has ended (Done is closed),
//
//	Accepted + Received == MsgsOut + Unroutable + MsgsIn + Dropped + DecodeErrors + TooManyFrames + Undelivered
//
// For a socket that only sends, Accepted == MsgsOut + Unroutable + Undelivered; for one
// that only receives, Received == MsgsIn + Dropped + DecodeErrors +
// TooManyFrames + Undelivered. While the socket is open, the difference is
// what the owner holds (at most one message each way) and what Send has
// queued. What libzmq queued on the sending side and never handed to a
// peer (within the linger) is outside this accounting: libzmq does not say.
type Stats struct {
	// Accepted counts the messages Send accepted (returned nil for), and
	// the values the owner took from a SendFrom channel and encoded.
	Accepted uint64
	// Received counts the messages the owner took off the libzmq socket.
	Received uint64
	// MsgsIn and BytesIn count messages handed to the consumer: put in
	// In's buffer or taken by a receiver (bytes summed over frames).
	// Messages in In's buffer when the socket ends stay readable from In.
	// The owner counts a hand-over just after it, so a receiver may see a
	// message a moment before MsgsIn does.
	MsgsIn, BytesIn uint64
	// MsgsOut and BytesOut count messages accepted by libzmq. For every
	// type but PUB and XPUB (see Dropped) libzmq then delivers them to the
	// peer unless the peer or the connection goes away first (a REP's
	// reply to a REQ that has gone is dropped by libzmq after it took it,
	// and counted here).
	MsgsOut, BytesOut uint64
	// Unroutable counts outbound messages libzmq refused because no peer
	// has their identity (EHOSTUNREACH: a ROUTER with ROUTER_MANDATORY, or
	// a STREAM, addressed a peer that never was or has gone). The socket
	// goes on; each episode is logged once.
	Unroutable uint64
	// DecodeErrors counts inbound messages the codec could not decode (or
	// panicked on).
	DecodeErrors uint64
	// TooManyFrames counts inbound messages discarded for exceeding
	// WithMaxFrames.
	TooManyFrames uint64
	// Dropped counts messages this package dropped: inbound ones because
	// the consumer of In was slow (only with WithDropWhenSlow), and
	// outbound ones for a ROUTER or STREAM peer at its HWM (only with
	// WithDropAtHWM). Nothing else is dropped by default. Not counted, as
	// libzmq does not report them: what a PUB or XPUB drops for a
	// subscriber at its HWM, or for want of any subscriber (ZeroMQ's
	// design: a publisher never waits for a slow subscriber; such a
	// message is in MsgsOut, since libzmq took it), and what a ROUTER drops
	// when a WithSetup function turned ROUTER_MANDATORY off. XPUB with
	// XPUB_NODROP (set through WithSetup) waits at the HWM instead.
	Dropped uint64
	// Refused counts values read from a SendFrom channel that were not
	// sent because Send would have refused them (the codec failed, no
	// frames, over WithMaxFrames, a bad ROUTER or STREAM envelope). They
	// are not in Accepted, so they are outside the sum above.
	Refused uint64
	// SendStalls counts the times a send found the socket unable to take
	// it (high-water mark reached or no peer) and had to wait for POLLOUT.
	SendStalls uint64
	// Undelivered counts messages the socket held when it ended and could
	// not hand on: accepted by Send but never taken by libzmq (within the
	// linger), or taken off libzmq (including what was still in libzmq's
	// receive queue at close) but never handed to the consumer. A REP
	// that owes a reply when it ends cannot read past that request, so the
	// requests queued behind it are not counted (nor received): libzmq
	// drops them at close, and their REQ peers wait for their own timeout.
	Undelivered uint64
	// DirectPath reports whether the owner receives and sends through
	// libzmq directly (the fast path, see the package doc) rather than
	// through pebbe/zmq4.
	DirectPath bool
}

type counters struct {
	// accepted is written by the goroutines calling Send, the rest by
	// the owner: a cache line apart, so that neither side's writes evict
	// the other's (two lines: the adjacent-line prefetcher pairs them).
	accepted                           atomic.Uint64
	_                                  [120]byte
	received, unroutable               atomic.Uint64
	msgsIn, bytesIn, msgsOut, bytesOut atomic.Uint64
	decodeErrors, tooManyFrames        atomic.Uint64
	dropped, sendStalls, undelivered   atomic.Uint64
	refused                            atomic.Uint64
	direct                             atomic.Bool
}

func (c *counters) snapshot() Stats {
	return Stats{
		Accepted: c.accepted.Load(), Received: c.received.Load(), Unroutable: c.unroutable.Load(),
		MsgsIn: c.msgsIn.Load(), BytesIn: c.bytesIn.Load(),
		MsgsOut: c.msgsOut.Load(), BytesOut: c.bytesOut.Load(),
		DecodeErrors: c.decodeErrors.Load(), TooManyFrames: c.tooManyFrames.Load(),
		Dropped: c.dropped.Load(), SendStalls: c.sendStalls.Load(), Refused: c.refused.Load(),
		Undelivered: c.undelivered.Load(), DirectPath: c.direct.Load(),
	}
}

func size(frames [][]byte) uint64 {
	var n uint64
	for _, f := range frames {
		n += uint64(len(f))
	}
	return n
}
