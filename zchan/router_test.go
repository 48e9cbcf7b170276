package zchan_test

import (
	"testing"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/zchan"
)

// TestRouterEnvelopes connects DEALERs with set identities, a DEALER with
// none and a REQ to one ROUTER. The ROUTER must see each message behind the
// sender's identity frame (and a REQ's empty delimiter), and a reply sent
// behind the same envelope must reach that sender and no other.
func TestRouterEnvelopes(t *testing.T) {
	eachTransport(t, func(t *testing.T, zc *zchan.Context, tr testutil.Transport) {
		ctx := testContext(t, watchdog)
		router := open(t, ctx, zchan.Router, zchan.Frames, zchan.WithContext(zc), zchan.WithBind(tr.Bind(t)))
		ep := router.Endpoints()[0]
		peers := map[string]*zchan.Socket[zchan.Msg]{}
		for _, id := range []string{"alpha", "beta", "gamma"} {
			peers[id] = open(t, ctx, zchan.Dealer, zchan.Frames, zchan.WithContext(zc), zchan.WithConnect(ep), zchan.WithIdentity(id))
		}
		anon := open(t, ctx, zchan.Dealer, zchan.Frames, zchan.WithContext(zc), zchan.WithConnect(ep))
		req := open(t, ctx, zchan.Req, zchan.Frames, zchan.WithContext(zc), zchan.WithConnect(ep), zchan.WithIdentity("req"))

		for id, d := range peers {
			if err := d.Send(ctx, zchan.NewMsg(id, "", "tail")); err != nil {
				t.Fatal(err)
			}
		}
		if err := anon.Send(ctx, zchan.NewMsg("anon")); err != nil {
			t.Fatal(err)
		}
		if err := req.Send(ctx, zchan.NewMsg("req")); err != nil {
			t.Fatal(err)
		}
		var anonID []byte
		for range len(peers) + 2 {
			m := testutil.MustRecv(t, router.In(), watchdog, "message at the ROUTER")
			if len(m) < 2 {
				t.Fatalf("ROUTER got %q: no envelope", m)
			}
			id, body := string(m[0]), m[1:]
			var reply zchan.Msg
			switch {
			case peers[id] != nil:
				if !equalMsg(body, zchan.NewMsg(id, "", "tail")) {
					t.Fatalf("from %s: body %q", id, body)
				}
				reply = zchan.Msg{m[0], []byte("to " + id)}
			case id == "req":
				if !equalMsg(body, zchan.NewMsg("", "req")) {
					t.Fatalf("from REQ: body %q, want the empty delimiter and the request", body)
				}
				reply = zchan.Msg{m[0], {}, []byte("to req")}
			default:
				if !equalMsg(body, zchan.NewMsg("anon")) || len(m[0]) == 0 {
					t.Fatalf("from an unnamed peer: %q", m)
				}
				anonID = m[0]
				reply = zchan.Msg{m[0], []byte("to anon")}
			}
			if err := router.Send(ctx, reply); err != nil {
				t.Fatal(err)
			}
		}
		for id, d := range peers {
			if m := testutil.MustRecv(t, d.In(), watchdog, "reply to "+id); !equalMsg(m, zchan.NewMsg("to "+id)) {
				t.Errorf("%s got %q", id, m)
			}
		}
		if m := testutil.MustRecv(t, anon.In(), watchdog, "reply to the unnamed peer"); !equalMsg(m, zchan.NewMsg("to anon")) {
			t.Errorf("unnamed peer (routing id %x) got %q", anonID, m)
		}
		if m := testutil.MustRecv(t, req.In(), watchdog, "reply to the REQ"); !equalMsg(m, zchan.NewMsg("to req")) {
			t.Errorf("REQ got %q", m)
		}
		for name, s := range map[string]*zchan.Socket[zchan.Msg]{"alpha": peers["alpha"], "anon": anon, "req": req} {
			if m, ok, _ := testutil.Recv(s.In(), 0); ok {
				t.Errorf("%s got a second message %q", name, m)
			}
		}
		// The owner counts a message out after libzmq took it, so the count
		// may trail the peer's receipt by a moment.
		if !testutil.Eventually(watchdog, func() bool { st := router.Stats(); return st.MsgsIn == 5 && st.MsgsOut == 5 }) {
			t.Errorf("ROUTER stats %+v, want 5 in, 5 out", router.Stats())
		}
	})
}
