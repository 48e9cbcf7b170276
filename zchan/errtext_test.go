package zchan_test

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"

	zmq "github.com/pebbe/zmq4"
	"github.com/zmqchan/zmqchan/zchan"
)

// TestErrorText: for each common mistake, the exact text of the error (one
// "zchan:" prefix, the sentinel's words once, libzmq's errno where it said
// one, and a hint), and what errors.Is matches: the sentinel and the errno.
func TestErrorText(t *testing.T) {
	ctx := testContext(t, watchdog)
	zc := newContext(t)
	other := newContext(t)
	taken := open(t, ctx, zchan.Pull, zchan.Frames, zchan.WithContext(zc), zchan.WithBind("tcp://127.0.0.1:*"))
	inOther := "inproc://errtext-other"
	open(t, ctx, zchan.Pull, zchan.Frames, zchan.WithContext(other), zchan.WithBind(inOther))
	sock := open(t, ctx, zchan.Push, zchan.Frames, zchan.WithContext(zc))
	tcpTaken := taken.Endpoints()[0]
	inUse := fmt.Sprintf("zchan: bind %q: address in use", tcpTaken)

	openErr := func(typ zchan.Type, opts ...zchan.Option) func() error {
		return func() error {
			s, err := zchan.Open(ctx, typ, append([]zchan.Option{zchan.WithContext(zc)}, opts...)...)
			if s != nil {
				s.Close()
			}
			return err
		}
	}
	bindErr := func(ep string) func() error {
		return func() error { _, err := sock.Bind(ctx, ep); return err }
	}
	connectErr := func(ep string) func() error { return func() error { return sock.Connect(ctx, ep) } }
	cases := []struct {
		name string
		err  func() error
		text string
		is   []error
	}{
		{"unknown socket type", openErr(zchan.Type(0)), "zchan: unknown socket type 0 (the types are the constants Pair to Stream; libzmq's draft types cannot be bridged)", []error{zchan.ErrUnknownType}},
		{"no transport (connect)", openErr(zchan.Push, zchan.WithConnect("localhost:5555")), "zchan: connect \"localhost:5555\": bad endpoint (endpoint needs a transport, e.g. tcp://localhost:5555)", []error{zchan.ErrBadEndpoint}},
		{"no transport (Connect)", connectErr("localhost:5555"), "zchan: connect \"localhost:5555\": bad endpoint (endpoint needs a transport, e.g. tcp://localhost:5555)", []error{zchan.ErrBadEndpoint}},
		{"no transport, a path", bindErr("/tmp/x.sock"), "zchan: bind \"/tmp/x.sock\": bad endpoint (endpoint needs a transport: tcp://host:port, ipc:///path or inproc://name)", []error{zchan.ErrBadEndpoint}},
		{"tcp without a port", connectErr("tcp://localhost"), "zchan: connect \"tcp://localhost\": bad endpoint (a tcp endpoint is tcp://host:port, e.g. tcp://localhost:5555)", []error{zchan.ErrBadEndpoint}},
		{"tcp without a host", bindErr("tcp://:5555"), "zchan: bind \"tcp://:5555\": bad endpoint (a tcp endpoint is tcp://host:port; tcp://*:5555 binds every interface, tcp://localhost:* a free port)", []error{zchan.ErrBadEndpoint}},
		{"tcp port -1", bindErr("tcp://127.0.0.1:-1"), "zchan: bind \"tcp://127.0.0.1:-1\": bad endpoint (port \"-1\": a port is a number from 0 to 65535, or * on bind)", []error{zchan.ErrBadEndpoint}},
		{"tcp port 5999x", bindErr("tcp://127.0.0.1:5999x"), "zchan: bind \"tcp://127.0.0.1:5999x\": bad endpoint (port \"5999x\": a port is a number from 0 to 65535, or * on bind)", []error{zchan.ErrBadEndpoint}},
		{"tcp port 70000", connectErr("tcp://127.0.0.1:70000"), "zchan: connect \"tcp://127.0.0.1:70000\": bad endpoint (port 70000: a port is a number from 0 to 65535, or * on bind)", []error{zchan.ErrBadEndpoint}},
		{"connect to port 0", connectErr("tcp://127.0.0.1:0"), "zchan: connect \"tcp://127.0.0.1:0\": bad endpoint (nothing listens on port 0; 0, like *, picks a port on bind only)", []error{zchan.ErrBadEndpoint}},
		{"connect to port *", connectErr("tcp://127.0.0.1:*"), "zchan: connect \"tcp://127.0.0.1:*\": bad endpoint (connect needs the port number; * picks a port on bind only)", []error{zchan.ErrBadEndpoint}},
		{"unknown transport", bindErr("foo://bar"), "zchan: bind \"foo://bar\": bad endpoint: protocol not supported (the transports are tcp, ipc, inproc and those libzmq was built with)", []error{zchan.ErrBadEndpoint, syscall.EPROTONOSUPPORT}},
		{"address in use (Open)", openErr(zchan.Pull, zchan.WithBind(tcpTaken)), inUse, []error{zchan.ErrAddrInUse, syscall.EADDRINUSE, zmq.Errno(syscall.EADDRINUSE)}},
		{"address in use (Bind)", bindErr(tcpTaken), inUse, []error{zchan.ErrAddrInUse, syscall.EADDRINUSE}},
		{"bind to an address not here", bindErr("tcp://192.0.2.1:5555"), "zchan: bind \"tcp://192.0.2.1:5555\": bad endpoint: cannot assign requested address (not an address of this host)", []error{zchan.ErrBadEndpoint}},
		{"bad tcp address", bindErr("tcp://300.1.2.3:5555"), "zchan: bind \"tcp://300.1.2.3:5555\": bad endpoint: no such device (not an address of this host, nor the name of one of its interfaces)", []error{zchan.ErrBadEndpoint}},
		{"inproc across contexts", connectErr(inOther), "zchan: connect \"inproc://errtext-other\": bad endpoint (it is bound in another zchan.Context; inproc connects only within one: open both sockets WithContext of the same Context)", []error{zchan.ErrBadEndpoint}},
		{"unbind what is not bound", func() error { return sock.Unbind(ctx, "tcp://127.0.0.1:1") }, "zchan: unbind \"tcp://127.0.0.1:1\": bad endpoint (not bound there; Unbind takes an endpoint Bind returned or Endpoints lists)", []error{zchan.ErrBadEndpoint, syscall.ENOENT}},
		{"disconnect what is not connected", func() error { return sock.Disconnect(ctx, "tcp://127.0.0.1:1") }, "zchan: disconnect \"tcp://127.0.0.1:1\": bad endpoint (not connected there; Disconnect takes the endpoint given to Connect or WithConnect)", []error{zchan.ErrBadEndpoint, syscall.ENOENT}},
		{"option libzmq refuses", openErr(zchan.Pull, zchan.WithSetup(func(s *zmq.Socket) error { return s.SetRouterMandatory(1) })), "zchan: WithSetup function: invalid option: invalid argument", []error{zchan.ErrInvalidOption, syscall.EINVAL}},
		{"one-frame ROUTER message", nil, "zchan: send of 1 frame on errtext-router: unsupported (a ROUTER message is the peer's routing id and a body: 2 frames or more)", []error{zchan.ErrUnsupported}},
	}
	router := open(t, ctx, zchan.Router, zchan.Frames, zchan.WithContext(zc), zchan.WithName("errtext-router"))
	cases[len(cases)-1].err = func() error { return router.Send(ctx, zchan.NewMsg("id")) }
	for _, c := range cases {
		err := c.err()
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if got := err.Error(); got != c.text {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.text)
		}
		if n := strings.Count(err.Error(), "zchan:"); n != 1 {
			t.Errorf("%s: %d times \"zchan:\" in %q", c.name, n, err)
		}
		for _, want := range c.is {
			if !errors.Is(err, want) {
				t.Errorf("%s: %v is not %v", c.name, err, want)
			}
		}
	}
}
