package shutdown

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/zmqchan/zmqchan/zchan"
)

// linkable is a component whose messages the group can follow to the other
// end of a link: it says which endpoints it bound and connected to, and
// counts what it handed to libzmq and took off it. *zchan.Socket[T] is
// one.
type linkable interface {
	Type() zchan.Type
	Stats() zchan.Stats
	Endpoints() []string
	Connects() []string
}

// Link is a set of the group's sockets that exchange messages with one
// another over the endpoints some of them bound and the others connected
// to, with what one end handed to libzmq and the other end took off it,
// read once every socket of the set had ended. A socket of a two-way type
// (PAIR, REQ, REP, DEALER, ROUTER) is among both the senders and the
// receivers. PUB, SUB, XPUB, XSUB and STREAM sockets are never in a link:
// a PUB drops by design what no subscriber wants and what finds the HWM
// reached, and a STREAM's peers are not ZeroMQ sockets.
//
// A socket's counters are not per peer, so with fan-in or fan-out
// (several senders connected to one receiver, one sender to several
// receivers) the figures are for the whole set, not for each pair. They
// are exact when every peer of the set's sockets is in the group; a peer
// outside the group (another process connected to a bound endpoint) is
// invisible to it. When the receivers took more than the senders sent,
// there was one, and the link is marked inexact.
type Link struct {
	// Senders and Receivers name the sockets of the link, in the order
	// they were added to the group.
	Senders, Receivers []string
	// Endpoints are the endpoints the link's sockets meet at.
	Endpoints []string
	// Sent is the senders' Stats.MsgsOut summed: what they handed to
	// libzmq. Received is the receivers' Stats.Received summed: what they
	// took off libzmq.
	Sent, Received uint64
	// Lost is Sent - Received when Exact: messages one end handed to
	// libzmq that the other end never took, dropped in libzmq's queues or
	// the kernel's when the sockets closed. Cause says why.
	Lost uint64
	// Exact reports whether Lost is known: the link has senders and
	// receivers, every socket of it had ended when the group read its
	// counters, and the receivers took no more than the senders sent.
	// A socket with endpoints and no peer in the group is a link of its
	// own with Exact false: what happened to what it handed to libzmq
	// (or who sent what it took) the group cannot know, and libzmq 4.3
	// has no call that says how many messages a socket still queues.
	Exact bool
	// Cause is why messages were lost (empty if none were).
	Cause string
}

// String formats the link on one line.
func (l Link) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "link %s -> %s [%s]: sent %d, received %d", names(l.Senders), names(l.Receivers), strings.Join(l.Endpoints, " "), l.Sent, l.Received)
	switch {
	case l.Exact:
		fmt.Fprintf(&b, ", lost %d", l.Lost)
	case len(l.Senders) == 0 || len(l.Receivers) == 0:
		b.WriteString(", no peer in the group: fate unknown")
	default:
		b.WriteString(", inexact")
	}
	if l.Cause != "" {
		b.WriteString(": " + l.Cause)
	}
	return b.String()
}

func names(n []string) string {
	if len(n) == 0 {
		return "?"
	}
	return strings.Join(n, ",")
}

// linkMember is one socket of a link set.
type linkMember struct {
	st         *stage
	l          linkable
	send, recv bool
}

// linkSet is the group's sockets joined by their endpoints.
type linkSet struct {
	members   []linkMember
	endpoints []string
	// waited tells whether the lossless drain waited for the set, and
	// why it stopped waiting before the receivers had everything: "" if
	// they did, else the reason, for Cause.
	waited  bool
	stopped string
}

// linkable types, and which way their messages go.
func directions(t zchan.Type) (send, recv, ok bool) {
	switch t {
	case zchan.Push:
		return true, false, true
	case zchan.Pull:
		return false, true, true
	case zchan.Pair, zchan.Req, zchan.Rep, zchan.Dealer, zchan.Router:
		return true, true, true
	}
	return false, false, false
}

// endpointKey is what a bound and a connected endpoint must share to be
// the same: the string itself, except for tcp, where a wildcard or
// loopback host on either side matches any of those on the other (a bind
// to tcp://*:5555 resolves to tcp://0.0.0.0:5555, which a connect to
// tcp://localhost:5555 reaches). A connect with a source address
// ("tcp://src;dst") is keyed on its destination.
func endpointKey(ep string) string {
	if i := strings.LastIndexByte(ep, ';'); i >= 0 && strings.HasPrefix(ep, "tcp://") {
		ep = "tcp://" + ep[i+1:]
	}
	rest, ok := strings.CutPrefix(ep, "tcp://")
	if !ok {
		return ep
	}
	host, port, err := net.SplitHostPort(rest)
	if err != nil {
		return ep
	}
	switch host {
	case "*", "0.0.0.0", "::", "127.0.0.1", "::1", "localhost":
		host = "local"
	}
	return "tcp://" + net.JoinHostPort(host, port)
}

// findLinks joins the linkable components of stages by their endpoints:
// a socket bound to an endpoint and one connected to it are in the same
// set. It returns the sets (each socket with endpoints is in one; a set of
// one has no peer in the group) and each stage's set.
func findLinks(stages []*stage) ([]*linkSet, map[*stage]*linkSet) {
	var ms []linkMember
	for _, st := range stages {
		if st.comp == nil {
			continue
		}
		l, ok := st.comp.(linkable)
		if !ok {
			continue
		}
		send, recv, ok := directions(l.Type())
		if !ok || len(l.Endpoints())+len(l.Connects()) == 0 {
			continue
		}
		ms = append(ms, linkMember{st: st, l: l, send: send, recv: recv})
	}
	// Union-find over the members, joined by endpoint keys.
	parent := make([]int, len(ms))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		if parent[i] != i {
			parent[i] = find(parent[i])
		}
		return parent[i]
	}
	bound := make(map[string][]int) // key -> members bound to it
	shown := make(map[string]string)
	for i, m := range ms {
		for _, ep := range m.l.Endpoints() {
			k := endpointKey(ep)
			bound[k] = append(bound[k], i)
			shown[k] = ep
		}
	}
	used := make(map[int][]string) // binder -> the endpoints of it connected to
	for i, m := range ms {
		for _, ep := range m.l.Connects() {
			for _, j := range bound[endpointKey(ep)] {
				if ri, rj := find(i), find(j); ri != rj {
					parent[ri] = rj
				}
				used[j] = append(used[j], shown[endpointKey(ep)])
			}
		}
	}
	byRoot := make(map[int]*linkSet)
	var sets []*linkSet
	of := make(map[*stage]*linkSet)
	for i, m := range ms {
		r := find(i)
		ls := byRoot[r]
		if ls == nil {
			ls = &linkSet{}
			byRoot[r] = ls
			sets = append(sets, ls)
		}
		ls.members = append(ls.members, m)
		of[m.st] = ls
	}
	for i, m := range ms {
		ls := byRoot[find(i)]
		eps := used[i]
		if len(ls.members) == 1 {
			eps = append(m.l.Endpoints(), m.l.Connects()...)
		}
		for _, ep := range eps {
			if !slices.Contains(ls.endpoints, ep) {
				ls.endpoints = append(ls.endpoints, ep)
			}
		}
	}
	return sets, of
}

// delivered reports whether the set's receivers have taken off libzmq
// everything its senders accepted and did not count as unroutable,
// undelivered or (a ROUTER's) dropped, and whether a receiver has ended (it will take no more).
// The senders are read first: what they report was sent before the
// receivers are read.
func (ls *linkSet) delivered() (done, receiverEnded bool) {
	var sent, recv uint64
	for _, m := range ls.members {
		if m.send {
			s := m.l.Stats()
			out := s.Unroutable + s.Undelivered
			if m.l.Type() == zchan.Router {
				// WithDropAtHWM: what a ROUTER dropped for a full peer never
				// reaches it. (Dropped also counts what WithDropWhenSlow
				// dropped inbound; a ROUTER with both may stop the wait a
				// little early, and what was then in flight is Lost.)
				out += s.Dropped
			}
			if s.Accepted > out {
				sent += s.Accepted - out
			}
		}
	}
	for _, m := range ls.members {
		if m.recv {
			recv += m.l.Stats().Received
			select {
			case <-m.st.comp.Done():
				receiverEnded = true
			default:
			}
		}
	}
	return recv >= sent, receiverEnded
}

// waitDelivered is the lossless drain for a sending socket whose turn has
// come: it waits until the receivers of its link set have taken what the
// set's senders sent, so that closing the socket drops nothing, or until
// ctx (the drain deadline) is done or a receiver has ended. Statistics
// have no notification, so it looks at them on a timer that backs off from
// 1ms to 16ms; this runs only during shutdown and only while messages are
// in flight. It reports whether it had to wait.
func (ls *linkSet) waitDelivered(ctx context.Context) bool {
	if ok, _ := ls.delivered(); ok {
		return false
	}
	ls.waited = true
	d := time.Millisecond
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			ls.stopped = "the drain deadline passed while the receivers were still taking them (they are slower than the senders: lower the HWMs and the kernel's socket buffers, or lengthen the drain)"
			return true
		case <-t.C:
		}
		ok, ended := ls.delivered()
		if ok {
			ls.stopped = ""
			return true
		}
		if ended {
			ls.stopped = "a receiver had ended before the senders' turn (it was added before them, or failed)"
			return true
		}
		d = min(2*d, 16*time.Millisecond)
		t.Reset(d)
	}
}

// link computes the set's Link from its sockets' final counters.
func (ls *linkSet) link(lossless bool) Link {
	l := Link{Endpoints: ls.endpoints}
	ended := true
	for _, m := range ls.members {
		s := m.l.Stats()
		if m.send {
			l.Senders = append(l.Senders, m.st.name)
			l.Sent += s.MsgsOut
		}
		if m.recv {
			l.Receivers = append(l.Receivers, m.st.name)
			l.Received += s.Received
		}
		select {
		case <-m.st.comp.Done():
		default:
			ended = false
		}
	}
	if len(ls.members) < 2 || !ended || l.Received > l.Sent || len(l.Senders) == 0 || len(l.Receivers) == 0 {
		if len(ls.members) >= 2 && !ended {
			l.Cause = "a socket of the link had not ended"
		} else if l.Received > l.Sent {
			l.Cause = "the receivers took more than the senders sent: a peer outside the group sends to them"
		}
		return l
	}
	l.Exact = true
	l.Lost = l.Sent - l.Received
	if l.Lost == 0 {
		return l
	}
	switch {
	case ls.waited && ls.stopped != "":
		l.Cause = ls.stopped
	case !lossless:
		l.Cause = "the receivers were shut down before they arrived: they were in libzmq's queues or the kernel's socket buffers, and were dropped when the sockets closed or the senders' linger expired (the receivers are slower than the senders; WithLosslessDrain waits for them)"
	default:
		l.Cause = "they were still in libzmq's queues or the kernel's when the sockets closed"
	}
	return l
}
