// Package reqrep is request/reply over zchan sockets: a typed Client whose
// Request(ctx, req) returns the reply or a typed error, and a Server that
// answers each request with a handler and shuts down as net/http's Server
// does.
//
//	srv, err := reqrep.NewServer(ctx, zchan.String, zchan.String,
//		func(ctx context.Context, name string) (string, error) { return "hello " + name, nil },
//		reqrep.WithBind("tcp://*:5555"))
//	...
//	c, err := reqrep.NewClient(ctx, zchan.String, zchan.String, reqrep.WithConnect("tcp://localhost:5555"))
//	rctx, cancel := context.WithTimeout(ctx, time.Second)
//	reply, err := c.Request(rctx, "world") // errors.Is(err, reqrep.ErrTimeout) if no reply in time
//
// # Timeouts
//
// The context given to Request bounds the whole exchange: the wait for the
// socket to take the request, the wait for the reply, every retry. When it
// ends, Request returns an *AttemptsError that wraps ErrTimeout and
// context.Cause(ctx), and says how many times the request was sent. Nothing
// is left behind: the next Request starts at once, and the late reply to
// the abandoned one, if it comes, is never delivered to another request
// (ClientStats.StaleReplies counts it).
//
// # Correlation
//
// A DEALER client (the default) runs any number of requests at once on one
// socket. Each carries a request id frame. Every caller waiting for a
// reply reads the socket: it keeps the reply with its own id, hands any
// other to the caller waiting for that id, and counts a reply whose caller
// has gone as stale. (There is no routing goroutine, so a lone caller reads
// its reply straight off the socket; a stale reply is counted when it is
// read, by the next request that waits, or by Close.) A REQ client (WithType(zchan.Req))
// runs one request at a time, in turn; when a request is abandoned (its
// context ended, or an attempt timed out) the client closes the REQ socket
// and opens a new one for the next send, as the guide's Lazy Pirate client
// does, so a stale reply cannot be read: it arrives, if ever, at a socket
// that no longer exists. libzmq's REQ_CORRELATE and REQ_RELAXED are not
// needed and not used.
//
// # Retries
//
// WithRetries(n, perAttempt) sends a request up to n times, waiting at most
// perAttempt for each reply; the request's context still bounds it all. A
// DEALER resends on its socket with the same id (libzmq hands it to the
// next connected server in turn), so the first reply to any attempt is the
// answer and the others are stale; a REQ client resends on a new socket.
// After the last attempt, the error wraps ErrTimeout and its Attempts is
// n. A server may thus see a request more than once: retry only requests
// that are safe to repeat.
//
// # Server
//
// A ROUTER server (the default) answers up to WithConcurrency requests at
// once, from any number of REQ or DEALER clients (and brokers in between);
// a REP server one at a time. Its socket has ROUTER_MANDATORY set, so a
// reply to a client that has gone is counted (ServerStats.Unroutable) and
// the server goes on, and it has no receive buffer: a request waits in
// libzmq until a handler is free, which pushes back to the clients'
// high-water marks. A handler that returns an error or panics, and a
// request that cannot be decoded, is answered with an error reply (not
// dropped: the client learns at once, with ErrRemote, rather than at its
// timeout, and does not retry a request that will fail again); a panic's
// value and stack are logged, not sent. Each is counted in
// ServerStats.Failed (and Panics, BadRequests).
//
// Shutdown(ctx) is net/http's: the server takes no new request (they wait
// in libzmq or in the clients' queues, where a restarted server finds those
// not yet sent; those the socket had received count as Unread), lets the
// handlers finish the requests under way, hands their replies to the
// socket, and closes it, which sends them within its linger. If ctx ends
// first, the handlers' context is cancelled, their requests count as
// Abandoned, and Shutdown returns context.Cause(ctx) once they have
// returned. Once the server has ended,
//
//	Received == Answered + Failed + Abandoned + Unread
//	Answered + Failed == Sent + Unroutable + Lost
//
// and Undelivered (Abandoned + Unread + Unroutable + Lost) is what a
// shutdown.Group's Report shows for it: Server and Client are
// shutdown.Components.
//
// # Wire format
//
// For peers in other languages. A request body and a reply body are the
// frames of the codecs given to NewClient and NewServer (one frame for
// zchan.String, zchan.Bytes and zchan.JSON).
//
//   - A DEALER client sends [id, "", body...], where id is 8 bytes (a
//     big-endian counter, unique per client socket) and "" the empty
//     delimiter; it expects [id, "", reply...] back and ignores anything
//     else. A REP server (any language) and a ROUTER server that echoes the
//     envelope, such as this package's, do that; so does a broker between.
//   - A REQ client sends [body...] (libzmq adds the delimiter) and needs no
//     id: it is a plain REQ, the guide's Lazy Pirate client.
//   - A ROUTER server takes everything up to and including the first empty
//     frame as the envelope (the peer's identity, any identities brokers
//     added, a DEALER client's id, the delimiter) and sends it back before
//     the reply body. A request without an empty frame is answered with an
//     error reply addressed to its sender.
//   - An error reply's body is two frames: "\x00reqrep:error" (a zero byte,
//     then the text) and the server's message in UTF-8. A client of this
//     package turns it into an error wrapping ErrRemote; a reply body that
//     starts so cannot be sent as an ordinary reply.
//
// # Cost
//
// A DEALER client's correlation (its id frame, its table of waiters, its
// wait) costs 2 to 4% over the round trip of a bare zchan DEALER that does
// what a correct caller must (the REQ envelope, a wait that can time out),
// and 3 to 7% over a bare DEALER sending the body alone; Client's doc has
// the numbers, from BenchmarkClientOverhead, per transport.
//
// # Goroutines
//
// Besides its socket's two goroutines, a client has none, and a server one
// per unit of concurrency and one that closes the socket when they are
// done. All end before Close or
// Shutdown returns (a server's handlers must honour their context).
package reqrep
