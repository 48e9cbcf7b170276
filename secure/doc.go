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
// serverPublic), zchan.WithConnect(...)). Any socket type but STREAM
// (raw tcp, no handshake) can be the server: REQ, REP, DEALER, ROUTER,
// PUSH, PULL, PUB, SUB, XPUB, XSUB, PAIR, each with the client types
// ZeroMQ pairs it with.
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
// fails with ErrNotEnforced. The probe is of a type the server accepts
// (libzmq drops a peer of another type before the verdict). Verify does
// the same for sockets opened otherwise (with monitor.Open, for
// instance), given the server's type. The handler lives until Close, the
// context's termination or a fatal error of its socket, never until a
// context.Context is cancelled: a handler that disappears opens every
// CURVE server of its context, so close the servers first. A program
// learns that it has disappeared from Authenticator.Done, closed when the
// handler ends for whatever reason, and why from Authenticator.Err; an
// end other than by Close is also logged at error level. From then on the
// Authenticator's list methods fail with ErrAuthClosed, and Listen and
// Verify with ErrNotEnforced (and ErrAuthClosed).
//
// The handler authenticates CURVE clients by key and IP lists. libzmq
// asks it about NULL peers only for a socket with a ZAP domain
// (Limits.ZAPDomain, set by DefaultLimits); it lets those in by the IP
// lists alone, since NULL has no credentials. It refuses PLAIN. The key
// and IP lists can change at any time; a change applies to the next
// handshake, not to connections already authenticated. Every verdict is
// counted (Stats) and logged at debug level with the client's public key
// and address. Secret keys are never logged or printed: KeyPair formats
// and marshals as its public key, and key errors never quote a key.
//
// # NULL or CURVE
//
// A NULL socket (no Server or Client option) neither authenticates nor
// encrypts: anyone who can reach its port and speaks ZMTP 3 can send it
// any message, and read what it sends. Use CURVE (Listen) for anything
// reachable from a network; NULL is for loopback, ipc and networks you
// control. The limits below hold for both, with one difference that
// DefaultLimits removes: without a ZAP domain, libzmq 4.3.4 falls back to
// ZMTP 1.0 framing for a NULL peer whose first bytes are not a ZMTP 3
// greeting, so arbitrary bytes become messages and the handshake
// interval never applies (measured: 100 of 100 crafted ZMTP 1.0 messages
// delivered). With a ZAP domain, as with CURVE, libzmq refuses ZMTP 1.0
// and 2.0 peers and closes the connection at once (0 of 100 crafted
// messages and of 50 random 4 KiB writes delivered, for every receiving
// type).
//
// # What each limit protects against (DefaultLimits)
//
//   - MaxMsgSize (1 MiB): a peer announcing a frame over the limit is
//     disconnected at the frame's header; nothing of it is buffered and
//     the other peers carry on.
//   - RecvHWM, SendHWM (100): at most that many complete messages queued
//     per peer in each direction.
//   - HandshakeIvl (5s): a connection that stops halfway through the
//     greeting or says nothing is closed after at most that long; one
//     that sends bytes that are not a ZMTP 3 greeting is closed at once
//     (with ZAPDomain on a NULL socket). Either way before it is
//     authenticated and before any message is read.
//   - ZAPDomain ("zmqchan"): NULL sockets refuse old-protocol peers, as
//     above, and ask the context's Authenticator, if any, about each peer.
//   - MaxFrames (64): a message with more frames is discarded and counted
//     (zchan.Stats.TooManyFrames) instead of delivered.
//
// No default turns on ZMTP heartbeats: with libzmq 4.3.4 a heartbeat on
// a connection whose input is stopped by back pressure, once the peer
// drops it, aborts the process (see Limits.HeartbeatIvl; libzmq#4841).
// Measured here (TestHeartbeatNoAbort, 20 runs each, heartbeats every
// 100 ms on both ends): a busy receiver SIGSTOPped until dropped, then
// SIGCONTed, aborted in 11 of 20 runs, a stalled consumer whose sender
// restarted in 6 of 20; with heartbeats on neither end (DefaultLimits on
// both), 0 of 20 each. A peer in another program with heartbeats on can
// still set it off in a DefaultLimits socket, through the PONG libzmq
// owes it: 1 of 20 SIGSTOPped receivers aborted so. Between sockets that
// both leave heartbeats off (DefaultLimits, and zchan's default), nothing
// sets it off.
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
//   - stop (SIGSTOP), hang or vanish behind a partition while its kernel,
//     or nobody, answers: without heartbeats libzmq keeps its connection,
//     and the messages queued for it (up to SendHWM, plus the kernels'
//     buffers), until the peer comes back or TCP gives up. Detect it at
//     the application level, with a heartbeat message of your protocol.
//     TCP keepalive (zchan.WithSetup with SetTcpKeepalive and its
//     intervals) is the kernel's check, for dead hosts and partitions; a
//     stopped process's kernel still answers it.
//   - connect many times. Each connection costs a descriptor and a
//     session until the handshake interval passes (unauthenticated) or for
//     as long as it stays (authenticated); rate-limit connections in front
//     of the process (firewall) if that matters.
//   - use an inproc endpoint, which has no handshake: CURVE does not
//     apply to inproc, and Verify skips it.
//
// # What a disconnect loses
//
// When a connection ends for any reason (a heartbeat timeout, MaxMsgSize,
// the Watchdog, the peer or this side restarting), libzmq discards what
// it held for it: the messages queued to that peer and the bytes in both
// kernels' buffers. zchan counted them in Stats.MsgsOut when libzmq took
// them and cannot see them dropped; no counter of this library shows
// them, and a PUSH or DEALER does not resend them to another peer.
// Measured here with 1 KiB messages: 628 to 684 of 3,500 sent to a
// receiver dropped by its sender's heartbeat; with 32 KiB kernel buffers
// and a sender that restarts, up to 100 in a run (of 79 to 350 sent).
//
// # Goroutines
//
// An Authenticator owns one goroutine (plus its zchan socket's owner); a
// Watchdog owns one; Close stops and waits for each. Listen and Verify
// start a probe socket and its monitor and close both before they return.
package secure
