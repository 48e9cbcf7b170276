package reqrep

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	zmq "github.com/pebbe/zmq4"
	"go.uber.org/zap"

	"github.com/zmqchan/zmqchan/zchan"
)

// Handler answers one request. ctx is cancelled when the server is closed,
// or when its Shutdown's context ends while the request is still being
// worked on: a handler must then return promptly (its reply is not sent;
// the request counts as abandoned). A returned error, or a panic, is
// answered with an error reply (see the package doc); the client's
// Request returns an error wrapping ErrRemote.
type Handler[Req, Rep any] func(ctx context.Context, req Req) (Rep, error)

// Server answers requests on a ROUTER socket (the default: up to
// WithConcurrency requests at once, from any number of clients) or a REP
// socket (WithType(zchan.Rep): one at a time), each with a call of its
// Handler. See the package doc for the contract, and ServerStats for the
// accounting.
//
// A Server is safe for concurrent use. Its zero value is not usable:
// create one with NewServer. It cannot be reused after it ends. It costs
// one goroutine per unit of concurrency and one that closes the socket
// when they are done, besides its socket's two.
type Server[Req, Rep any] struct {
	o    options
	reqc zchan.Codec[Req]
	repc zchan.Codec[Rep]
	h    Handler[Req, Rep]
	sock *zchan.Socket[zchan.Msg]
	name string

	stop        chan struct{} // closed by Shutdown and Close: take no new request
	stopOne     sync.Once
	hctx        context.Context // the handlers' context
	hcancel     context.CancelCauseFunc
	workers     sync.WaitGroup
	workersDone chan struct{} // closed when every worker has returned
	done        chan struct{} // closed when the socket is closed too
	closeErr    error         // written before done is closed

	stats serverCounters
}

// ServerStats is a snapshot of a Server's counters. Every request the
// socket took off libzmq is counted once, when its fate is known, so that
// once the server has ended (Done is closed)
//
//	Received == Answered + Failed + Abandoned + Unread
//
// (while it runs, InFlight is the difference), and every reply handed to
// the socket (Answered + Failed) is one of
//
//	Answered + Failed == Sent + Unroutable + Lost
type ServerStats struct {
	// Received counts the requests the socket took off libzmq, including
	// those still in libzmq's receive queue when it was closed.
	Received uint64
	// Answered counts the requests whose handler succeeded and whose reply
	// the socket took.
	Answered uint64
	// Failed counts the requests answered with an error reply: the handler
	// returned an error or panicked (Panics), or the request could not be
	// decoded or had no envelope (BadRequests).
	Failed, Panics, BadRequests uint64
	// Abandoned counts the requests a handler took whose reply was never
	// handed to the socket: the server was closed, or its Shutdown's
	// context ended, while the handler worked.
	Abandoned uint64
	// Unread counts the requests the socket received that no handler
	// took: still held by the socket, or in libzmq's receive queue, when
	// it was closed. (Requests still in the clients' queues, not yet
	// sent, are not received: a restarted server gets them.)
	Unread uint64
	// InFlight is the number of requests being worked on now.
	InFlight uint64
	// Sent counts the replies libzmq took for sending (to a live peer, for
	// a ROUTER: see Unroutable).
	Sent uint64
	// Unroutable counts the replies to a ROUTER peer that had gone
	// (zchan's Stats.Unroutable: EHOSTUNREACH with ROUTER_MANDATORY).
	Unroutable uint64
	// Lost counts the replies the socket took but had not handed to libzmq
	// when it was closed (a peer that stopped reading); while the server
	// runs, the replies queued.
	Lost uint64
}

type serverCounters struct {
	taken, answered, failed, panics, bad, abandoned atomic.Uint64
	inflight                                        atomic.Int64
}

// NewServer opens a server socket (ROUTER unless WithType says REP),
// bound or connected as the options say, and starts answering requests:
// each one decoded with reqc, passed to h, and its reply encoded with repc.
// ctx bounds the opening only: the server runs until Shutdown or Close,
// or until its socket ends (its zmq context terminated). The values of ctx
// are passed on to the handlers' context.
//
// Errors wrap ErrInvalidOption or what zchan.OpenWith returns; nothing is
// then left open.
func NewServer[Req, Rep any](ctx context.Context, reqc zchan.Codec[Req], repc zchan.Codec[Rep], h Handler[Req, Rep], opts ...Option) (*Server[Req, Rep], error) {
	o, err := build(true, opts)
	if err != nil {
		return nil, err
	}
	if reqc == nil || repc == nil || h == nil {
		return nil, newErr(ErrInvalidOption, nil, "nil codec or handler")
	}
	extra := []zchan.Option{zchan.WithRecvBuffer(0)}
	if o.typ == zchan.Router {
		extra = append(extra, zchan.WithSetup(func(z *zmq.Socket) error { return z.SetRouterMandatory(1) }))
	}
	sock, err := zchan.Open(ctx, o.typ, o.socketOptions(extra...)...)
	if err != nil {
		return nil, err
	}
	s := &Server[Req, Rep]{o: o, reqc: reqc, repc: repc, h: h, sock: sock, name: sock.Name(),
		stop: make(chan struct{}), workersDone: make(chan struct{}), done: make(chan struct{})}
	s.hctx, s.hcancel = context.WithCancelCause(context.WithoutCancel(ctx))
	n := o.concurrency
	if o.typ == zchan.Rep {
		n = 1
	}
	s.workers.Add(n)
	for range n {
		go s.work()
	}
	go s.supervise()
	return s, nil
}

// Name returns the server's name (WithName, or its socket's).
func (s *Server[Req, Rep]) Name() string { return s.name }

// Endpoints returns the endpoints the server's socket bound to, as libzmq
// resolved them (a tcp port of "*" shows the port picked).
func (s *Server[Req, Rep]) Endpoints() []string { return s.sock.Endpoints() }

// work takes requests, one at a time, until the server stops taking them
// or the socket ends.
func (s *Server[Req, Rep]) work() {
	defer s.workers.Done()
	for {
		select { // stopping wins over a request that is also ready
		case <-s.stop:
			return
		default:
		}
		select {
		case <-s.stop:
			return
		case m, ok := <-s.sock.In():
			if !ok {
				return
			}
			s.stats.taken.Add(1)
			s.stats.inflight.Add(1)
			s.serve(m)
			s.stats.inflight.Add(-1)
		}
	}
}

// outcome is what a reply, once the socket takes it, counts as.
type outcome int

const (
	answered outcome = iota
	failed
	badRequest
	panicked
)

// serve answers one request.
func (s *Server[Req, Rep]) serve(m zchan.Msg) {
	var env, body [][]byte
	if s.sock.Type() == zchan.Router {
		var ok bool
		if env, body, ok = splitEnvelope(m); !ok {
			s.reply(env, errorBody("request has no empty delimiter frame"), badRequest)
			return
		}
	} else {
		body = m
	}
	req, err := decodeRequest(s.reqc, body)
	if err != nil {
		s.reply(env, errorBody(err.Error()), badRequest)
		return
	}
	rep, err := s.call(req)
	if errors.Is(err, ErrPanic) {
		s.o.logger.Error("reqrep: handler panicked; answered with an error reply", zap.String("server", s.name), zap.Error(err))
		s.reply(env, errorBody("handler panicked"), panicked)
		return
	}
	if err != nil {
		s.reply(env, errorBody(err.Error()), failed)
		return
	}
	frames, err := encode(s.repc, rep)
	if err != nil {
		s.reply(env, errorBody(err.Error()), failed)
		return
	}
	s.reply(env, frames, answered)
}

// call runs the handler, a panic included.
func (s *Server[Req, Rep]) call(req Req) (rep Rep, err error) {
	defer recoverInto(&err, "handler")
	return s.h(s.hctx, req)
}

// reply hands the reply in envelope env to the socket and counts the
// request's fate.
func (s *Server[Req, Rep]) reply(env, body [][]byte, o outcome) {
	msg := make(zchan.Msg, 0, len(env)+len(body))
	msg = append(append(msg, env...), body...)
	if err := s.sock.Send(s.hctx, msg); err != nil {
		s.stats.abandoned.Add(1)
		return
	}
	switch o {
	case answered:
		s.stats.answered.Add(1)
		return
	case panicked:
		s.stats.panics.Add(1)
	case badRequest:
		s.stats.bad.Add(1)
	}
	s.stats.failed.Add(1)
}

// supervise closes the socket once every worker has returned.
func (s *Server[Req, Rep]) supervise() {
	s.workers.Wait()
	close(s.workersDone)
	s.closeErr = s.sock.Close()
	s.hcancel(ErrClosed)
	close(s.done)
}

// Shutdown stops the server gracefully, as net/http's Server.Shutdown
// does: it takes no new request at once (they wait in libzmq, or in the
// clients' queues, and count as Unread if the socket received them), lets
// the handlers finish the requests they are working on, hands their
// replies to the socket, then closes it (libzmq sends the queued replies
// within the socket's linger). If ctx ends first, the handlers' context is
// cancelled with ctx's cause, Shutdown waits for them to return (their
// requests count as Abandoned), closes the socket and returns
// context.Cause(ctx). Otherwise it returns the socket's close error, if
// any. The stats are final when it returns. It is safe for concurrent use
// and may be called again or after Close.
func (s *Server[Req, Rep]) Shutdown(ctx context.Context) error {
	s.stopOne.Do(func() { close(s.stop) })
	select {
	case <-s.workersDone:
		<-s.done
		return s.closeErr
	case <-ctx.Done():
		s.hcancel(context.Cause(ctx))
		<-s.done
		return context.Cause(ctx)
	}
}

// Close stops the server at once: it takes no new request, cancels the
// handlers' context (their requests count as Abandoned), waits for them to
// return and closes the socket. It is idempotent and safe for concurrent
// use; it returns the socket's close error, if any.
func (s *Server[Req, Rep]) Close() error {
	s.stopOne.Do(func() { close(s.stop) })
	s.hcancel(ErrClosed)
	<-s.done
	return s.closeErr
}

// Done returns a channel closed when the server has ended: every handler
// has returned and the socket is closed.
func (s *Server[Req, Rep]) Done() <-chan struct{} { return s.done }

// Err returns why the server's socket ended: nil while it runs, an error
// wrapping ErrClosed after Shutdown or Close, or the socket's own end
// (zchan.ErrTerminated, ...).
func (s *Server[Req, Rep]) Err() error { return s.sock.Err() }

// Stats returns a snapshot of the server's counters (see ServerStats). It
// is safe to call at any time; the counts are final once Done is closed.
func (s *Server[Req, Rep]) Stats() ServerStats {
	// Read the server's counters before the socket's, so that a request
	// counted as taken is always also counted as received.
	taken := s.stats.taken.Load()
	st := ServerStats{
		Answered: s.stats.answered.Load(), Failed: s.stats.failed.Load(),
		Panics: s.stats.panics.Load(), BadRequests: s.stats.bad.Load(),
		Abandoned: s.stats.abandoned.Load(),
	}
	if n := s.stats.inflight.Load(); n > 0 {
		st.InFlight = uint64(n)
	}
	z := s.sock.Stats()
	st.Received, st.Sent, st.Unroutable = z.Received, z.MsgsOut, z.Unroutable
	st.Unread = z.Received - taken
	if z.Accepted > z.MsgsOut+z.Unroutable {
		st.Lost = z.Accepted - z.MsgsOut - z.Unroutable
	}
	return st
}

// Undelivered returns the requests that got no reply a live client could
// read: Abandoned + Unread + Unroutable + Lost. A shutdown.Group reads it
// once Shutdown has returned and puts it in its Report.
func (s *Server[Req, Rep]) Undelivered() uint64 {
	st := s.Stats()
	return st.Abandoned + st.Unread + st.Unroutable + st.Lost
}

// Progress returns a number that grows whenever a request is received or
// a reply sent, for a shutdown.Group's settle step.
func (s *Server[Req, Rep]) Progress() uint64 { return s.sock.Progress() }

// decodeRequest runs a codec's Decode on a request, a panic included.
func decodeRequest[T any](codec zchan.Codec[T], frames [][]byte) (v T, err error) {
	defer recoverInto(&err, "Decode")
	v, err = codec.Decode(frames)
	if err != nil {
		err = newErr(zchan.ErrCodec, nil, "decode request: %v", err)
	}
	return v, err
}
