package secure_test

import (
	"context"
	"testing"

	"github.com/zmqchan/zmqchan/secure"
	"github.com/zmqchan/zmqchan/zchan"
)

// BenchmarkEcho measures DEALER→ROUTER→DEALER round trips over tcp on
// loopback, 50 messages in flight, with NULL security and with CURVE
// behind the Authenticator and DefaultLimits: the cost of the secure
// setup for an allowed client (TestAuthStorm reports how a storm of
// refused clients changes it).
func BenchmarkEcho(b *testing.B) {
	for _, curve := range []bool{false, true} {
		name := "null"
		if curve {
			name = "curve"
		}
		b.Run(name, func(b *testing.B) {
			zc := newContext(b)
			var srv *zchan.Socket[zchan.Msg]
			var cliOpts []zchan.Option
			if curve {
				a := newAuth(b, zc)
				skp, ckp := newKeyPair(b), newKeyPair(b)
				if err := a.Allow(ckp.Public()); err != nil {
					b.Fatal(err)
				}
				s, err := secure.Listen(context.Background(), a, skp, zchan.Router, zchan.Frames, zchan.WithBind("tcp://127.0.0.1:*"))
				if err != nil {
					b.Fatal(err)
				}
				srv = s
				cliOpts = append(cliOpts, secure.Client(ckp, skp.Public()))
			} else {
				s, err := zchan.Open(context.Background(), zchan.Router, zchan.WithContext(zc), zchan.WithBind("tcp://127.0.0.1:*"))
				if err != nil {
					b.Fatal(err)
				}
				srv = s
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				for m := range srv.In() {
					if srv.Send(context.Background(), m) != nil {
						return
					}
				}
			}()
			defer func() {
				srv.Close()
				<-done
			}()
			cliOpts = append(cliOpts, zchan.WithContext(newContext(b)), zchan.WithConnect(srv.Endpoints()[0]), zchan.WithLinger(0))
			cli, err := zchan.Open(context.Background(), zchan.Dealer, cliOpts...)
			if err != nil {
				b.Fatal(err)
			}
			defer cli.Close()
			const window = 50
			msg := zchan.NewMsg("allowed: a 32-byte message body.")
			b.ReportAllocs()
			for b.Loop() {
				for range window {
					if err := cli.Send(context.Background(), msg); err != nil {
						b.Fatal(err)
					}
				}
				for range window {
					if _, ok := <-cli.In(); !ok {
						b.Fatal(cli.Err())
					}
				}
			}
			b.ReportMetric(float64(b.N*window)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
