package secure_test

import (
	"errors"
	"testing"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchan/zmqchan/secure"
	"github.com/zmqchan/zmqchan/zchan"
)

// TestPebbeAuthStartHole reproduces the hole the Authenticator closes:
// pebbe/zmq4's AuthStart binds its ZAP handler in pebbe's default context
// only. A CURVE server there refuses a random key; the same server in any
// other context lets it in, although AuthStart runs and allows only one
// key.
func TestPebbeAuthStartHole(t *testing.T) {
	pub, sec, err := zmq.NewCurveKeypair()
	if err != nil {
		t.Fatal(err)
	}
	skp, err := secure.ParseKeyPair(pub, sec)
	if err != nil {
		t.Fatal(err)
	}
	allowed := newKeyPair(t)
	if err := zmq.AuthStart(); err != nil {
		t.Fatal(err)
	}
	defer zmq.AuthStop()
	zmq.AuthCurveAdd("global", allowed.Public())
	// Verify probes from a context of its own, over tcp.
	prober := newAuth(t, newContext(t))

	// In pebbe's default context: AuthStart's handler answers.
	def, err := zmq.NewSocket(zmq.ROUTER)
	if err != nil {
		t.Fatal(err)
	}
	defer def.Close()
	if err := def.SetLinger(0); err != nil {
		t.Fatal(err)
	}
	if err := def.SetCurveServer(1); err != nil {
		t.Fatal(err)
	}
	if err := def.SetCurveSecretkey(sec); err != nil {
		t.Fatal(err)
	}
	if err := def.SetZapDomain("global"); err != nil {
		t.Fatal(err)
	}
	if err := def.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	ep, err := def.GetLastEndpoint()
	if err != nil {
		t.Fatal(err)
	}
	if err := prober.Verify(t.Context(), zchan.Router, skp.Public(), ep); err != nil {
		t.Fatalf("server in pebbe's default context: %v, want the random key refused", err)
	}

	// In another context: nobody answers, and the random key gets in.
	srv, err := zchan.Open(t.Context(), zchan.Router, zchan.WithContext(newContext(t)),
		secure.Server(skp), zchan.WithSetup(func(s *zmq.Socket) error { return s.SetZapDomain("global") }),
		zchan.WithBind("tcp://127.0.0.1:*"))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	err = prober.Verify(t.Context(), zchan.Router, skp.Public(), srv.Endpoints()...)
	if !errors.Is(err, secure.ErrNotEnforced) {
		t.Fatalf("server in another context: %v, want ErrNotEnforced", err)
	}
}
