package reqrep_test

import (
	"context"
	"encoding/binary"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/internal/testutil"
	"github.com/zmqchan/zmqchan/reqrep"
	"github.com/zmqchan/zmqchan/zchan"
)

// BenchmarkRoundTrip measures one caller's round trip of a 64-byte
// request, per transport, three ways in the same run, so that the cost of
// the client's correlation is one ratio away:
//
//   - bare: a zchan DEALER sending [body] to a zchan ROUTER echoing what it
//     reads (one goroutine, Send after In), the floor;
//   - bare-envelope: the same bare DEALER sending the client's wire format
//     [8-byte id, "", body] (a fresh id frame each time), no correlation:
//     the cost of the two extra frames alone;
//   - client: a reqrep DEALER Client ([id, "", body]) against the same bare
//     ROUTER echo: the client's own cost over bare;
//   - client+server: the Client against a reqrep ROUTER Server (echo
//     handler): what a user of the package pays.
//
// Compare ns/op and allocs/op of client with bare on the same transport.
func BenchmarkRoundTrip(b *testing.B) {
	body := make([]byte, 64)
	for _, tr := range testutil.Transports() {
		b.Run(tr.Name+"/bare", func(b *testing.B) {
			zc := newContext(b)
			ep := echoRouter(b, zc, tr)
			d := open(b, zc, zchan.Dealer, zchan.WithConnect(ep))
			ctx := testContext(b, watchdog)
			in := d.In()
			b.ReportAllocs()
			for b.Loop() {
				if err := d.Send(ctx, zchan.Msg{body}); err != nil {
					b.Fatal(err)
				}
				if _, ok := <-in; !ok {
					b.Fatal(d.Err())
				}
			}
		})
		b.Run(tr.Name+"/bare-envelope", func(b *testing.B) {
			zc := newContext(b)
			ep := echoRouter(b, zc, tr)
			d := open(b, zc, zchan.Dealer, zchan.WithConnect(ep))
			ctx := testContext(b, watchdog)
			in := d.In()
			b.ReportAllocs()
			var n uint64
			for b.Loop() {
				n++
				id := binary.BigEndian.AppendUint64(make([]byte, 0, 8), n)
				if err := d.Send(ctx, zchan.Msg{id, {}, body}); err != nil {
					b.Fatal(err)
				}
				if _, ok := <-in; !ok {
					b.Fatal(d.Err())
				}
			}
		})
		b.Run(tr.Name+"/client", func(b *testing.B) {
			zc := newContext(b)
			ep := echoRouter(b, zc, tr)
			benchClient(b, zc, ep, body)
		})
		b.Run(tr.Name+"/client+server", func(b *testing.B) {
			zc := newContext(b)
			srv, err := reqrep.NewServer(testContext(b, watchdog), zchan.Frames, zchan.Frames,
				func(_ context.Context, m zchan.Msg) (zchan.Msg, error) { return m, nil },
				reqrep.WithBind(tr.Bind(b)), reqrep.WithSocketOptions(zchan.WithContext(zc)))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { srv.Close() })
			benchClient(b, zc, srv.Endpoints()[0], body)
		})
	}
}

func benchClient(b *testing.B, zc *zchan.Context, ep string, body []byte) {
	c, err := reqrep.NewClient(testContext(b, watchdog), zchan.Frames, zchan.Frames,
		reqrep.WithConnect(ep), reqrep.WithSocketOptions(zchan.WithContext(zc)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	ctx := testContext(b, watchdog)
	req := zchan.Msg{body}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Request(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// open opens a zchan socket on zc, closed when the benchmark ends.
func open(b *testing.B, zc *zchan.Context, typ zchan.Type, opts ...zchan.Option) *zchan.Socket[zchan.Msg] {
	b.Helper()
	s, err := zchan.Open(testContext(b, watchdog), typ, append([]zchan.Option{zchan.WithContext(zc)}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// echoRouter binds a bare zchan ROUTER on a fresh endpoint of tr that
// sends back every message it reads, as it is, from one goroutine that
// ends when the benchmark does. It returns the endpoint to connect to.
func echoRouter(b *testing.B, zc *zchan.Context, tr testutil.Transport) string {
	b.Helper()
	r := open(b, zc, zchan.Router, zchan.WithBind(tr.Bind(b)))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		for m := range r.In() {
			if r.Send(ctx, m) != nil {
				return
			}
		}
	})
	b.Cleanup(func() { cancel(); r.Close(); wg.Wait() })
	return r.Endpoints()[0]
}

// BenchmarkClientOverhead measures five round trips interleaved, one of
// each in turn per iteration (each iteration starting with the next one, so
// that none always follows the same other), so that a noisy machine slows
// them alike; each has a socket of its own, so that none finds its socket's
// owner warm from the one before. It reports each one's median:
//
//   - bare-µs: a bare zchan DEALER sending [body] and reading the reply off
//     In, the floor (BenchmarkRoundTrip's bare);
//   - honest-µs: what a correct caller of a bare DEALER must do to talk to a
//     REP or ROUTER server with a timeout: send the REQ envelope ["", body]
//     and wait for the reply in a select on In and ctx.Done();
//   - envelope-µs: the same with the client's wire format [8-byte id, "",
//     body] (a fresh id frame each time), no correlation;
//   - client-µs: a reqrep DEALER Client against the same bare ROUTER echo;
//   - server-µs: the Client against a reqrep ROUTER Server (echo handler).
//
// and the ratios of the medians: client/bare (strict), client/honest (the
// speed target: at most 1.10), client/envelope (the client's code alone,
// its wire format aside) and server/bare. Its ns/op is the sum of the five.
func BenchmarkClientOverhead(b *testing.B) {
	body := make([]byte, 64)
	for _, tr := range testutil.Transports() {
		b.Run(tr.Name, func(b *testing.B) {
			zc := newContext(b)
			ctx := testContext(b, watchdog)
			ep := echoRouter(b, zc, tr)
			newClient := func(ep string) *reqrep.Client[zchan.Msg, zchan.Msg] {
				c, err := reqrep.NewClient(ctx, zchan.Frames, zchan.Frames, reqrep.WithConnect(ep), reqrep.WithSocketOptions(zchan.WithContext(zc)))
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { c.Close() })
				return c
			}
			srv, err := reqrep.NewServer(ctx, zchan.Frames, zchan.Frames,
				func(_ context.Context, m zchan.Msg) (zchan.Msg, error) { return m, nil },
				reqrep.WithBind(tr.Bind(b)), reqrep.WithSocketOptions(zchan.WithContext(zc)))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { srv.Close() })
			c, cs := newClient(ep), newClient(srv.Endpoints()[0])
			d0 := open(b, zc, zchan.Dealer, zchan.WithConnect(ep))
			d1 := open(b, zc, zchan.Dealer, zchan.WithConnect(ep))
			d2 := open(b, zc, zchan.Dealer, zchan.WithConnect(ep))
			// wait is the wait of a caller that can time out.
			wait := func(d *zchan.Socket[zchan.Msg]) error {
				select {
				case _, ok := <-d.In():
					if !ok {
						return d.Err()
					}
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			var n uint64
			paths := []func() error{
				func() error { // bare
					if err := d0.Send(ctx, zchan.Msg{body}); err != nil {
						return err
					}
					if _, ok := <-d0.In(); !ok {
						return d0.Err()
					}
					return nil
				},
				func() error { // honest: the REQ envelope, a wait that can time out
					if err := d1.Send(ctx, zchan.Msg{{}, body}); err != nil {
						return err
					}
					return wait(d1)
				},
				func() error { // envelope: the client's wire format
					n++
					id := binary.BigEndian.AppendUint64(make([]byte, 0, 8), n)
					if err := d2.Send(ctx, zchan.Msg{id, {}, body}); err != nil {
						return err
					}
					return wait(d2)
				},
				func() error { _, err := c.Request(ctx, zchan.Msg{body}); return err },
				func() error { _, err := cs.Request(ctx, zchan.Msg{body}); return err },
			}
			rtts := make([][]time.Duration, len(paths))
			first := 0
			for b.Loop() {
				for k := range paths {
					i := (first + k) % len(paths)
					t0 := time.Now()
					if err := paths[i](); err != nil {
						b.Fatal(err)
					}
					rtts[i] = append(rtts[i], time.Since(t0))
				}
				first = (first + 1) % len(paths)
			}
			med := make([]float64, len(paths))
			for i, r := range rtts {
				slices.Sort(r)
				med[i] = float64(r[len(r)/2]) / 1e3
			}
			b.ReportMetric(med[0], "bare-µs")
			b.ReportMetric(med[1], "honest-µs")
			b.ReportMetric(med[2], "envelope-µs")
			b.ReportMetric(med[3], "client-µs")
			b.ReportMetric(med[4], "server-µs")
			b.ReportMetric(med[3]/med[0], "client/bare")
			b.ReportMetric(med[3]/med[1], "client/honest")
			b.ReportMetric(med[3]/med[2], "client/envelope")
			b.ReportMetric(med[4]/med[0], "server/bare")
		})
	}
}
