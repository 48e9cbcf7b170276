package secure_test

import (
	"context"
	"fmt"
	"time"

	"github.com/zmqchan/zmqchan/secure"
	"github.com/zmqchan/zmqchan/zchan"
)

// ExampleListen is the secure setup of the README: a CURVE server that
// only lets in the clients whose public keys it was given, with the tcp
// limits of DefaultLimits, proven to refuse a random key before it
// serves.
func ExampleListen() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// In a real program both key pairs come from configuration:
	// secure.ParseKeyPair(public, secret).
	serverKeys, _ := secure.NewKeyPair()
	clientKeys, _ := secure.NewKeyPair()

	zc, _ := zchan.NewContext()
	defer zc.Term(ctx)
	auth, err := secure.NewAuthenticator(zc) // the ZAP handler of zc: denies everyone
	if err != nil {
		fmt.Println(err)
		return
	}
	defer auth.Close() // deferred first, so it runs after the server's Close
	if err := auth.Allow(clientKeys.Public()); err != nil {
		fmt.Println(err)
		return
	}
	srv, err := secure.Listen(ctx, auth, serverKeys, zchan.Rep, zchan.String,
		zchan.WithBind("tcp://127.0.0.1:*"))
	if err != nil {
		fmt.Println(err) // wraps secure.ErrNotEnforced if a random key got in
		return
	}
	defer srv.Close()

	cli, err := zchan.OpenWith(ctx, zchan.Req, zchan.String, zchan.WithContext(zc),
		secure.Client(clientKeys, serverKeys.Public()), zchan.WithConnect(srv.Endpoints()[0]))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cli.Close()
	cli.Send(ctx, "ping")
	fmt.Println("server got", <-srv.In())
	srv.Send(ctx, "pong")
	fmt.Println("client got", <-cli.In())
	fmt.Printf("%+v\n", auth.Stats())
	// Output:
	// server got ping
	// client got pong
	// {Allowed:1 Denied:1}
}
