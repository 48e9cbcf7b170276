package main

import (
	"errors"
	"fmt"
)

// Kind is the ZeroMQ pattern role a scenario asks a variant for.
type Kind int

// The roles the scenarios use.
const (
	Push Kind = iota + 1
	Pull
	Req
	Rep
	Dealer
	Router
)

func (k Kind) String() string {
	return [...]string{"?", "PUSH", "PULL", "REQ", "REP", "DEALER", "ROUTER"}[k]
}

// Sock is one socket of a variant, seen from the goroutine that opened it.
// A scenario opens, uses and closes each Sock on one goroutine, so that the
// raw variants are used the way their documentation asks.
type Sock interface {
	// Send sends one multipart message; it may keep m until the next Send.
	Send(m [][]byte) error
	// Recv receives one multipart message.
	Recv() ([][]byte, error)
	// Close closes the socket.
	Close() error
}

// Env is one variant's world for one run: a zmq context (or its
// equivalent) and the sockets opened in it.
type Env interface {
	// Open opens a socket of kind k, bound to ep if bind, else connected.
	Open(k Kind, ep string, bind bool) (Sock, error)
	// Close ends the env. It unblocks every pending Recv (with an error)
	// and waits for the sockets to be closed by their goroutines.
	Close() error
}

// Variant is one way of using ZeroMQ (or not) from Go.
type Variant struct {
	Name string
	// Doc says in one line what the variant is.
	Doc string
	// Lock makes every goroutine that owns a socket call
	// runtime.LockOSThread first.
	Lock bool
	// Transports the variant supports; nil means inproc, ipc and tcp.
	Transports []string
	New        func() (Env, error)
	// ThirdParty marks another project's library: its failures are
	// reported (in the tables and on stderr) but do not make the command
	// fail, because CI should not go red for a bug it cannot fix. The
	// variants built on this repository's code, raw pebbe/zmq4 (the
	// baseline) and plain channels (the harness's own check) always fail
	// the command.
	ThirdParty bool
	// SharesBuffers: the receiver gets the sender's buffer itself, not a
	// copy, so senders allocate every message afresh.
	SharesBuffers bool
	// Run, if set, runs the variant's own implementation of the scenarios
	// it names, without an Env; the variant runs no other scenario.
	Run map[string]runFunc
	// Skip, if set, names why the variant cannot run a case (a known bug
	// of the library measured, say); the case is then left out for it.
	Skip func(c *Case) string
}

func (v *Variant) skip(c *Case) string {
	if v.Skip == nil {
		return ""
	}
	return v.Skip(c)
}

// runFunc runs one case once, for a variant with its own implementation.
type runFunc func(c *Case, v *Variant, eps *endpoints) (result, error)

// runs reports whether the variant runs case c at all.
func (v *Variant) runs(c *Case) bool {
	if c.only != nil && !c.only[v.Name] {
		return false
	}
	if v.Run != nil {
		_, ok := v.Run[c.Scenario]
		return ok && v.supports(c.Transport)
	}
	// A case without a run (fan-in-sockets) is for the variants that
	// implement it themselves.
	return c.run != nil && v.supports(c.Transport)
}

func (v *Variant) supports(transport string) bool {
	if v.Transports == nil {
		return transport == "inproc" || transport == "ipc" || transport == "tcp"
	}
	for _, t := range v.Transports {
		if t == transport {
			return true
		}
	}
	return false
}

var (
	errMismatch = errors.New("bench: message mismatch")
	errClosed   = errors.New("bench: socket closed")
)

func mismatch(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errMismatch}, args...)...)
}
