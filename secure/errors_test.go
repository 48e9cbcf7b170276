package secure_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchan/zmqchan/secure"
	"github.com/zmqchan/zmqchan/zchan"
)

// TestErrorsWrapSentinels feeds every exported function and method the
// bad inputs a caller can give it and checks that each error wraps the
// sentinels its doc names, as errors.go promises for the whole package.
func TestErrorsWrapSentinels(t *testing.T) {
	zc := newContext(t)
	a := newAuth(t, zc)
	kp := newKeyPair(t)
	pub, sec, err := zmq.NewCurveKeypair()
	if err != nil {
		t.Fatal(err)
	}
	ended, err := zchan.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	tctx, tcancel := context.WithTimeout(context.Background(), wait)
	defer tcancel()
	if err := ended.Term(tctx); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	// listen calls Listen and closes what it opens, if anything.
	listen := func(ctx context.Context, a *secure.Authenticator, kp secure.KeyPair, t zchan.Type, codec zchan.Codec[zchan.Msg], opts ...zchan.Option) error {
		s, err := secure.Listen(ctx, a, kp, t, codec, opts...)
		if s != nil {
			s.Close()
		}
		return err
	}
	// open calls zchan.Open in zc and closes what it opens, if anything.
	open := func(t zchan.Type, opts ...zchan.Option) error {
		s, err := zchan.Open(context.Background(), t, append(opts, zchan.WithContext(zc))...)
		if s != nil {
			s.Close()
		}
		return err
	}
	second := func() error {
		_, err := secure.NewAuthenticator(zc)
		return err
	}
	bind := zchan.WithBind("tcp://127.0.0.1:*")
	cases := []struct {
		name string
		err  error
		want []error
	}{
		{"CheckKey empty", secure.CheckKey(""), []error{secure.ErrInvalidKey}},
		{"CheckKey short", secure.CheckKey(pub[:39]), []error{secure.ErrInvalidKey}},
		{"CheckKey not Z85", secure.CheckKey(strings.Repeat("~", 40)), []error{secure.ErrInvalidKey}},
		{"CheckKey group overflow", secure.CheckKey("%%%%%" + pub[5:]), []error{secure.ErrInvalidKey}},
		{"ParseKeyPair mismatched", func() error { _, err := secure.ParseKeyPair(kp.Public(), sec); return err }(), []error{secure.ErrInvalidKey}},
		{"ParseKeyPair bad secret", func() error { _, err := secure.ParseKeyPair(pub, "x"); return err }(), []error{secure.ErrInvalidKey}},
		{"NewAuthenticator nil context", func() error { _, err := secure.NewAuthenticator(nil); return err }(), []error{zchan.ErrInvalidOption}},
		{"NewAuthenticator nil option", func() error { _, err := secure.NewAuthenticator(zc, nil); return err }(), []error{zchan.ErrInvalidOption}},
		{"NewAuthenticator second", second(), []error{secure.ErrHandlerExists, zchan.ErrAddrInUse}},
		{"NewAuthenticator terminated context", func() error { _, err := secure.NewAuthenticator(ended); return err }(), []error{zchan.ErrTerminated}},
		{"Allow invalid key", a.Allow(kp.Public(), "not a key"), []error{secure.ErrInvalidKey}},
		{"Revoke invalid key", a.Revoke(""), []error{secure.ErrInvalidKey}},
		{"SetIPAllow prefix", a.SetIPAllow("10.0.0.0/33"), []error{secure.ErrInvalidAddress}},
		{"SetIPAllow host name", a.SetIPAllow("localhost"), []error{secure.ErrInvalidAddress}},
		{"SetIPDeny empty entry", a.SetIPDeny(""), []error{secure.ErrInvalidAddress}},
		{"Limits negative", func() error { _, err := (secure.Limits{RecvHWM: -1}).Options(); return err }(), []error{secure.ErrInvalidLimit}},
		{"Limits timeout without interval", func() error { _, err := (secure.Limits{HeartbeatTTL: time.Second}).Options(); return err }(), []error{secure.ErrInvalidLimit}},
		{"Server zero key pair", open(zchan.Router, secure.Server(secure.KeyPair{})), []error{secure.ErrInvalidKey, zchan.ErrInvalidOption}},
		{"Client zero key pair", open(zchan.Dealer, secure.Client(secure.KeyPair{}, pub)), []error{secure.ErrInvalidKey, zchan.ErrInvalidOption}},
		{"Client bad server key", open(zchan.Dealer, secure.Client(kp, pub[1:])), []error{secure.ErrInvalidKey, zchan.ErrInvalidOption}},
		{"Verify bad server key", a.Verify(t.Context(), zchan.Router, "bad", "tcp://127.0.0.1:1"), []error{secure.ErrInvalidKey}},
		{"Verify bad endpoint", a.Verify(t.Context(), zchan.Router, kp.Public(), "tcp://no such host:1"), []error{secure.ErrProbe, zchan.ErrBadEndpoint}},
		{"Verify cancelled", a.Verify(cancelled, zchan.Router, kp.Public(), "tcp://127.0.0.1:1"), []error{secure.ErrProbe, context.Canceled}},
		{"Listen nil authenticator", listen(t.Context(), nil, kp, zchan.Router, zchan.Frames, bind), []error{zchan.ErrInvalidOption}},
		{"Listen zero key pair", listen(t.Context(), a, secure.KeyPair{}, zchan.Router, zchan.Frames, bind), []error{secure.ErrInvalidKey, zchan.ErrInvalidOption}},
		{"Listen nil codec", listen(t.Context(), a, kp, zchan.Router, nil, bind), []error{zchan.ErrInvalidOption}},
		{"Listen unknown type", listen(t.Context(), a, kp, zchan.Type(99), zchan.Frames, bind), []error{zchan.ErrUnknownType}},
		{"Listen STREAM", listen(t.Context(), a, kp, zchan.Stream, zchan.Frames, bind), []error{secure.ErrNotEnforced}},
		{"Verify STREAM", a.Verify(t.Context(), zchan.Stream, kp.Public(), "tcp://127.0.0.1:1"), []error{secure.ErrNotEnforced}},
		{"Verify unknown type", a.Verify(t.Context(), zchan.Type(99), kp.Public(), "tcp://127.0.0.1:1"), []error{zchan.ErrUnknownType}},
		{"Listen bad endpoint", listen(t.Context(), a, kp, zchan.Router, zchan.Frames, zchan.WithBind("tcp://no such host:1")), []error{zchan.ErrBadEndpoint}},
		// The one documented exception: the caller's own cause.
		{"Listen cancelled", listen(cancelled, a, kp, zchan.Router, zchan.Frames, bind), []error{context.Canceled}},
	}
	for _, c := range cases {
		if c.err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !errors.Is(c.err, w) {
				t.Errorf("%s: %v, does not wrap %q", c.name, c.err, w)
			}
		}
		if strings.Contains(c.err.Error(), sec) {
			t.Errorf("%s: error quotes a secret key", c.name)
		}
	}
	if open := zc.Sockets(); len(open) != 1 { // the handler's
		t.Errorf("sockets left open: %v", open)
	}
	if s := a.Stats(); s.Allowed != 0 {
		t.Errorf("a failed call let someone in: %+v", s)
	}
}
