package secure_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/monitor"
	"github.com/zmqchan/zmqchan/secure"
	"github.com/zmqchan/zmqchan/zchan"
)

// zmtp10 is a ZMTP/1.0 peer's side of a connection: an empty identity,
// then n one-frame messages "junk!". libzmq takes a first byte other
// than 0xff as the start of this framing.
func zmtp10(n int) []byte {
	b := []byte{0x01, 0x00} // length 1 (the flags byte), final, no body
	for range n {
		b = append(b, 0x06, 0x00)
		b = append(b, "junk!"...)
	}
	return b
}

// zmtp20 is a ZMTP/2.0 peer's side: the signature, revision 1, socket
// type PUSH, an empty identity frame, then n frames "junk!".
func zmtp20(n int) []byte {
	b := []byte{0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 0x01, 0x08, 0x00, 0x00}
	for range n {
		b = append(b, 0x00, 5)
		b = append(b, "junk!"...)
	}
	return b
}

// TestNullRefusesOldProtocols: a NULL socket under DefaultLimits (which
// set a ZAP domain) refuses peers speaking ZMTP 1.0 or 2.0, so neither
// crafted old-protocol messages nor random bytes become messages, for
// every type that receives; without the domain (libzmq's default),
// crafted ZMTP/1.0 messages are delivered, which is what the domain is
// for. Each refused connection is closed by the server at once (not at
// the handshake interval, which is set beyond the test's wait), and a
// good ZMTP 3 peer carries on.
func TestNullRefusesOldProtocols(t *testing.T) {
	const msgs = 100
	randoms := make([][]byte, 50)
	for i := range randoms {
		randoms[i] = make([]byte, 4096)
		if _, err := rand.Read(randoms[i]); err != nil {
			t.Fatal(err)
		}
	}
	randoms[0][0] = 0xff // past the signature's first byte: libzmq reads on
	randoms[1][0], randoms[1][9] = 0xff, 0x00
	inputs := []struct {
		name string
		b    []byte
	}{
		{"ZMTP/1.0 messages", zmtp10(msgs)},
		{"ZMTP/2.0 messages", zmtp20(msgs)},
	}
	for i, r := range randoms {
		inputs = append(inputs, struct {
			name string
			b    []byte
		}{"random bytes " + string(rune('a'+i%26)), r})
	}

	l := secure.DefaultLimits()
	l.HandshakeIvl = 2 * wait // a close must come from the refusal, not the interval
	receivers := []zchan.Type{zchan.Pull, zchan.Router, zchan.Dealer, zchan.Rep, zchan.Pair, zchan.Sub, zchan.XSub, zchan.XPub}
	for _, typ := range receivers {
		t.Run(typ.String(), func(t *testing.T) {
			srv, mon := nullServerOf(t, typ, l)
			if typ == zchan.Sub {
				if err := srv.Subscribe(t.Context(), ""); err != nil {
					t.Fatal(err)
				}
			}
			ep := srv.Endpoints()[0]
			refused := 0
			for _, in := range inputs {
				c := rawDial(t, ep)
				c.Write(in.b) // the server may hang up before all is written
				closedByPeer(t, c)
				c.Close()
				nextEvent(t, mon, "end of the "+in.name+" connection", func(ev monitor.Event) bool {
					if ev.Kind == monitor.HandshakeFailed {
						refused++
					}
					return ev.Kind == monitor.Disconnected
				})
			}
			if typ != zchan.XPub { // XPUB takes subscriptions only: Stats says
				goodPeerOf(t, typ, srv, ep)
			}
			// MsgsIn counts the hand-off to In, which may trail the good
			// peer's message reaching the test by a moment.
			if typ != zchan.XPub && typ != zchan.Sub && typ != zchan.XSub {
				testutil.Eventually(10*time.Second, func() bool { return srv.Stats().MsgsIn >= 1 })
			}
			st := srv.Stats()
			// libzmq 4.3.4 reports the refusal of an old protocol as a
			// disconnect only, with no handshake failure event.
			t.Logf("%d connections, all closed by the server (%d handshake failure events); %d message(s) in",
				len(inputs), refused, st.MsgsIn)
			want := uint64(1)
			switch typ {
			case zchan.XPub:
				want = 0
			case zchan.Sub, zchan.XSub:
				want = st.MsgsIn // repeated "hello"s: talk checked what came first
			}
			if st.MsgsIn != want {
				t.Errorf("%d messages reached the server, want %d (the good peer's): stats %+v", st.MsgsIn, want, st)
			}
		})
	}
	t.Run("PULL without ZAP domain", func(t *testing.T) {
		open := l
		open.ZAPDomain = ""
		srv, _ := nullServerOf(t, zchan.Pull, open)
		c := rawDial(t, srv.Endpoints()[0])
		if _, err := c.Write(zmtp10(msgs)); err != nil {
			t.Fatal(err)
		}
		for range msgs {
			if m := recv(t, srv, wait); len(m) != 1 || string(m[0]) != "junk!" {
				t.Fatalf("got %q", m)
			}
		}
		t.Logf("without a ZAP domain, %d of %d crafted ZMTP/1.0 messages were delivered", msgs, msgs)
	})
}

// nullServerOf opens a monitored NULL socket of type typ with limits l,
// bound to loopback, in a fresh context.
func nullServerOf(t *testing.T, typ zchan.Type, l secure.Limits) (*zchan.Socket[zchan.Msg], *monitor.Monitor) {
	t.Helper()
	opts, err := l.Options()
	if err != nil {
		t.Fatal(err)
	}
	opts = append(opts, zchan.WithBind("tcp://127.0.0.1:*"), zchan.WithName("server"), zchan.WithLinger(0))
	srv, mon, err := monitor.Open(context.Background(), newContext(t), typ, zchan.Frames, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Close()
		mon.Close()
	})
	return srv, mon
}

// goodPeerOf connects a ZMTP 3 peer that typ accepts and sends "hello"
// to srv through it, repeating for a subscriber until it arrives; talk
// fails the test if anything else arrives first.
func goodPeerOf(t *testing.T, typ zchan.Type, srv *zchan.Socket[zchan.Msg], ep string) {
	t.Helper()
	peer := map[zchan.Type]zchan.Type{
		zchan.Pull: zchan.Push, zchan.Router: zchan.Dealer, zchan.Dealer: zchan.Dealer,
		zchan.Rep: zchan.Req, zchan.Pair: zchan.Pair, zchan.Sub: zchan.Pub, zchan.XSub: zchan.Pub,
	}[typ]
	cli, err := zchan.Open(context.Background(), peer, zchan.WithContext(newContext(t)),
		zchan.WithConnect(ep), zchan.WithLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	sub := typ == zchan.Sub || typ == zchan.XSub
	talk(t, false, map[bool]zchan.Type{true: typ}[sub], srv, cli)
}
