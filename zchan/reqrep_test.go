package zchan_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/zchan"
)

// outOfTurn is how long a Send that must block is given before it counts as
// blocked. A Send that should have been refused this long is held by the
// owner, which is what is checked; the length only has to be long enough
// for a wrongly accepted message to be taken.
const outOfTurn = 200 * time.Millisecond

// sendBlocks reports whether Send of v is still blocked after outOfTurn.
func sendBlocks[T any](t *testing.T, ctx context.Context, s *zchan.Socket[T], v T) bool {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, outOfTurn)
	defer cancel()
	err := s.Send(sctx, v)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("send: %v", err)
	}
	return err != nil
}

// TestReqRepAlternation checks that the owners keep REQ/REP's strict
// alternation for the caller: a REQ takes its next request only after the
// reply to the last one has arrived, a REP takes a reply only after a
// request, and a stream of requests sent as fast as Send allows gets each
// reply, in order.
func TestReqRepAlternation(t *testing.T) {
	eachTransport(t, func(t *testing.T, zc *zchan.Context, tr testutil.Transport) {
		ctx := testContext(t, watchdog)
		rep, req := pair(t, ctx, zc, tr, zchan.Rep, zchan.Req, zchan.String, nil, nil)

		if !sendBlocks(t, ctx, rep, "reply before any request") {
			t.Fatal("REP took a reply before any request arrived")
		}
		if err := req.Send(ctx, "first"); err != nil {
			t.Fatal(err)
		}
		if !sendBlocks(t, ctx, req, "second before the first reply") {
			t.Fatal("REQ took a second request before the first reply arrived")
		}
		if v := testutil.MustRecv(t, rep.In(), watchdog, "first request"); v != "first" {
			t.Fatalf("REP got %q", v)
		}
		if err := rep.Send(ctx, "first reply"); err != nil {
			t.Fatal(err)
		}
		if !sendBlocks(t, ctx, rep, "second reply to one request") {
			t.Fatal("REP took two replies to one request")
		}
		if v := testutil.MustRecv(t, req.In(), watchdog, "first reply"); v != "first reply" {
			t.Fatalf("REQ got %q", v)
		}

		// A stream: the sender does not wait for replies, the owner does.
		const n = 500
		errc := sendAll(ctx, req, strconv.Itoa, n)
		served := make(chan error, 1)
		go func() {
			for i := range n {
				v, ok, _ := testutil.Recv(rep.In(), watchdog)
				if !ok || v != strconv.Itoa(i) {
					served <- fmt.Errorf("request %d: got %q (ok %v)", i, v, ok)
					return
				}
				if err := rep.Send(ctx, "re:"+v); err != nil {
					served <- err
					return
				}
			}
			served <- nil
		}()
		for i := range n {
			if v := testutil.MustRecv(t, req.In(), watchdog, fmt.Sprintf("reply %d", i)); v != "re:"+strconv.Itoa(i) {
				t.Fatalf("reply %d: got %q", i, v)
			}
		}
		if err := testutil.MustRecv(t, served, watchdog, "server"); err != nil {
			t.Fatal(err)
		}
		if err := testutil.MustRecv(t, errc, watchdog, "client"); err != nil {
			t.Fatal(err)
		}
	})
}

// TestRepUndecodableRequest checks that a REP with
// WithEmptyReplyOnCodecError answers a request its codec cannot decode
// with an empty reply, so the REQ peer is not left waiting, and then
// serves the next request.
func TestRepUndecodableRequest(t *testing.T) {
	ctx := testContext(t, watchdog)
	zc := newContext(t)
	rep := open(t, ctx, zchan.Rep, zchan.JSON[int](), zchan.WithContext(zc), zchan.WithBind(testutil.Inproc(t)),
		zchan.WithEmptyReplyOnCodecError(true))
	req := open(t, ctx, zchan.Req, zchan.Frames, zchan.WithContext(zc), zchan.WithConnect(rep.Endpoints()[0]))
	if err := req.Send(ctx, zchan.NewMsg("not json")); err != nil {
		t.Fatal(err)
	}
	if m := testutil.MustRecv(t, req.In(), watchdog, "reply to an undecodable request"); len(m) != 1 || len(m[0]) != 0 {
		t.Fatalf("reply %q, want one empty frame", m)
	}
	if err := req.Send(ctx, zchan.NewMsg("7")); err != nil {
		t.Fatal(err)
	}
	if v := testutil.MustRecv(t, rep.In(), watchdog, "good request"); v != 7 {
		t.Fatalf("REP got %d", v)
	}
	if err := rep.Send(ctx, 8); err != nil {
		t.Fatal(err)
	}
	if m := testutil.MustRecv(t, req.In(), watchdog, "reply"); len(m) != 1 || string(m[0]) != "8" {
		t.Fatalf("reply %q", m)
	}
	if st := rep.Stats(); st.DecodeErrors != 1 {
		t.Errorf("REP DecodeErrors = %d, want 1", st.DecodeErrors)
	}
}

// TestRepUndecodableRequestEnds checks the default: a REP that cannot
// decode a request, and so cannot reply to it, ends with an error wrapping
// ErrCodec instead of making up a reply; the request is counted.
func TestRepUndecodableRequestEnds(t *testing.T) {
	ctx := testContext(t, watchdog)
	zc := newContext(t)
	rep := open(t, ctx, zchan.Rep, zchan.JSON[int](), zchan.WithContext(zc), zchan.WithBind(testutil.Inproc(t)))
	req := open(t, ctx, zchan.Req, zchan.Frames, zchan.WithContext(zc), zchan.WithConnect(rep.Endpoints()[0]))
	if err := req.Send(ctx, zchan.NewMsg("not json")); err != nil {
		t.Fatal(err)
	}
	if !testutil.Done(rep.Done(), watchdog) {
		t.Fatal("REP still open after a request it cannot reply to")
	}
	if err := rep.Err(); !errors.Is(err, zchan.ErrCodec) {
		t.Errorf("Err() = %v, want ErrCodec", err)
	}
	st := rep.Stats()
	if st.DecodeErrors != 1 || st.Received != 1 {
		t.Errorf("stats %+v, want the request received and counted as a decode error", st)
	}
	checkAccounting(t, rep.Name(), st)
}
