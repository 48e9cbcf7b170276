package zchan_test

import (
	"context"
	"errors"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/zchan"
)

// TestReqRelaxedAbandon: a REQ client whose first request times out sends
// a second one at once and gets the reply to the second, never the late
// reply to the first. The server (a ROUTER, so that it can hold request 1)
// answers request 2 at once and request 1 only after reply 2 was received;
// then a third exchange shows that reply 1 was discarded, not queued: it
// was sent before reply 3 on the same pipe. With WithReqRelaxed, and with
// the two libzmq options set through WithSetup.
func TestReqRelaxedAbandon(t *testing.T) {
	variants := map[string]zchan.Option{
		"WithReqRelaxed": zchan.WithReqRelaxed(),
		"WithSetup": zchan.WithSetup(func(s *zmq.Socket) error {
			if err := s.SetReqRelaxed(1); err != nil {
				return err
			}
			return s.SetReqCorrelate(1)
		}),
	}
	for name, relaxed := range variants {
		t.Run(name, func(t *testing.T) {
			eachTransport(t, func(t *testing.T, zc *zchan.Context, tr testutil.Transport) {
				ctx := testContext(t, watchdog)
				// The server is raw frames: the envelope (the REQ's routing id,
				// its request id, the empty delimiter) goes back as it came.
				srv := open(t, ctx, zchan.Router, zchan.Frames, zchan.WithContext(zc), zchan.WithBind(tr.Bind(t)))
				client := open(t, ctx, zchan.Req, zchan.String, zchan.WithContext(zc), zchan.WithConnect(srv.Endpoints()[0]), relaxed)

				if err := client.Send(ctx, "1"); err != nil {
					t.Fatal(err)
				}
				req1 := testutil.MustRecv(t, srv.In(), watchdog, "request 1")
				// The caller gives up on reply 1 after 100 ms.
				if v, ok, _ := testutil.Recv(client.In(), 100*time.Millisecond); ok {
					t.Fatalf("a reply before the server answered: %q", v)
				}
				sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				err := client.Send(sctx, "2")
				cancel()
				if err != nil {
					t.Fatalf("request 2 after request 1 was abandoned: %v (the owner kept the alternation)", err)
				}
				req2 := testutil.MustRecv(t, srv.In(), watchdog, "request 2")
				reply := func(req zchan.Msg, body string) {
					t.Helper()
					m := append(zchan.Msg{}, req[:len(req)-1]...) // the envelope: id, request id, ""
					if err := srv.Send(ctx, append(m, []byte(body))); err != nil {
						t.Fatal(err)
					}
				}
				reply(req2, "reply 2")
				if v := testutil.MustRecv(t, client.In(), watchdog, "reply 2"); v != "reply 2" {
					t.Fatalf("request 2 answered with %q", v)
				}
				reply(req1, "reply 1") // late
				if err := client.Send(ctx, "3"); err != nil {
					t.Fatal(err)
				}
				reply(testutil.MustRecv(t, srv.In(), watchdog, "request 3"), "reply 3")
				if v := testutil.MustRecv(t, client.In(), watchdog, "reply 3"); v != "reply 3" {
					t.Fatalf("request 3 answered with %q (the late reply to request 1 was delivered)", v)
				}
				if err := client.Err(); err != nil {
					t.Fatalf("client ended: %v", err)
				}
			})
		})
	}
}

// TestReqRelaxedOnlyReq: WithReqRelaxed on another type is an option error.
func TestReqRelaxedOnlyReq(t *testing.T) {
	ctx := testContext(t, watchdog)
	if _, err := zchan.Open(ctx, zchan.Dealer, zchan.WithReqRelaxed()); !errors.Is(err, zchan.ErrInvalidOption) {
		t.Errorf("WithReqRelaxed on DEALER: %v, want ErrInvalidOption", err)
	}
}
