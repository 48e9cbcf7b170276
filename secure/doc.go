// Package secure makes a tcp endpoint of a zchan socket safe to expose to
// a network: CURVE encryption and authentication with a ZAP handler that
// runs in the right context and denies by default, limits that bound what
// a peer can make the socket hold or wait for, and a watchdog for the one
// thing libzmq cannot bound.
//
// # Setup
//
//	zc, _ := zchan.NewContext()
//	auth, _ := secure.NewAuthenticator(zc)          // ZAP handler of zc: denies everyone
//	_ = auth.Allow(clientPublicKey)                 // Z85 keys from your configuration
//	kp, _ := secure.ParseKeyPair(serverPublic, serverSecret)
//	srv, err := secure.Listen(ctx, auth, kp, zchan.Router, zchan.Frames,
//		zchan.WithBind("tcp://0.0.0.0:5555"))    // CURVE + DefaultLimits, probed
//
// A client: zchan.Open(ctx, zchan.Dealer, secure.Client(clientKP,
// serverPublic), zchan.WithConnect(...)).
//
// # The ZAP handler and its context
//
// libzmq asks the ZAP handler bound at inproc://zeromq.zap.01 in the
// socket's own context. pebbe/zmq4's AuthStart binds one only in pebbe's
// default context, and a CURVE server finding no handler lets in every
// client that knows its public key. An Authenticator is bound in the
// zchan.Context you give it (one per context; a second fails with
// ErrHandlerExists), and Listen proves, for each endpoint it binds, that a
// client with a fresh random key is refused, or closes the socket and
// fails with ErrNotEnforced. Verify does the same for sockets opened
// otherwise (with monitor.Open, for instance). The handler lives until
// Close, the context's termination or a fatal error of its socket, never
// until a context.Context is cancelled: a handler that disappears opens
// every CURVE server of its context, so close the servers first. A
// program learns that it has disappeared from Authenticator.Done, closed
// when the handler ends for whatever reason, and why from
// Authenticator.Err; an end other than by Close is also logged at error
// level. From then on the Authenticator's list methods fail with
// ErrAuthClosed, and Listen and Verify with ErrNotEnforced (and
// ErrAuthClosed).
//
// The handler authenticates CURVE only. It refuses NULL and PLAIN when
// libzmq asks about them, which it does only for sockets with a ZAP domain
// set; NULL sockets without one never consult it. The key and IP lists
// can change at any time; a change applies to the next handshake, not to
// connections already authenticated. Every verdict is counted (Stats) and
// logged at debug level with the client's public key and address. Secret
// keys are never logged or printed: KeyPair formats and marshals as its
// public key, and key errors never quote a key.
//
// # What each limit protects against (DefaultLimits)
//
//   - MaxMsgSize (1 MiB): a peer announcing a frame over the limit is
//     disconnected at the frame's header; nothing of it is buffered and
//     the other peers carry on.
//   - RecvHWM, SendHWM (100): at most that many complete messages queued
//     per peer in each direction.
//   - HandshakeIvl (5s): a connection that sends garbage, stops halfway
//     through the greeting or says nothing is closed after at most that
//     long, before it is authenticated and before any message is read.
//   - Heartbeats (every 5s, timeout 15s, TTL 30s): a dead, hung, stopped
//     (SIGSTOP) or partitioned peer, whose kernel may still acknowledge
//     TCP, is disconnected within interval plus timeout.
//   - MaxFrames (64): a message with more frames is discarded and counted
//     (zchan.Stats.TooManyFrames) instead of delivered.
//
// # What they do not protect against
//
// A peer that passed authentication (and any peer of a NULL socket) can
// still:
//
//   - send a multipart message that never ends. libzmq delivers a message
//     only when its last frame arrives, and buffers its frames until then
//     without limit: MaxMsgSize bounds each frame, RecvHWM counts only
//     complete messages, and MaxFrames is applied by zchan only to a
//     complete message. Measured here with libzmq 4.3.4: 48 MiB sent as
//     one unfinished message grew the C heap by 48 MiB. Watchdog is the
//     remedy on offer: past a memory limit, it disconnects the guarded
//     connection that has received the most bytes, and libzmq frees what
//     that peer had pending. It is a heuristic; its doc says where it
//     falls short.
//   - queue RecvHWM complete messages of up to MaxFrames × MaxMsgSize
//     bytes each (about 6 GiB per peer with the defaults, every frame at
//     the limit): lower the limits to what your protocol needs.
//   - connect many times. Each connection costs a descriptor and a
//     session until the handshake interval passes (unauthenticated) or for
//     as long as it stays (authenticated); rate-limit connections in front
//     of the process (firewall) if that matters.
//   - use an inproc endpoint, which has no handshake: CURVE does not
//     apply to inproc, and Verify skips it.
//
// # Goroutines
//
// An Authenticator owns one goroutine (plus its zchan socket's owner); a
// Watchdog owns one; Close stops and waits for each. Listen and Verify
// start a probe socket and its monitor and close both before they return.
package secure
