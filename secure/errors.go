package secure

import "errors"

// Sentinel errors. Every error returned by this package wraps one of these,
// or a zchan sentinel when the failure is a socket's (NewAuthenticator
// and Listen opening theirs; zchan.Open refusing Server, Client or
// Limits.Options) or a nil argument's (zchan.ErrInvalidOption for a nil
// Context, Authenticator or Option). The one exception: Listen returns
// context.Cause(ctx) when its ctx is done before the server socket is
// open (Verify wraps the cause in ErrProbe).
var (
	// ErrInvalidKey reports a CURVE key that is not 40 characters of Z85,
	// a public key that does not belong to its secret key, or a zero
	// KeyPair.
	ErrInvalidKey = errors.New("secure: invalid key")
	// ErrInvalidAddress reports an IP allow or deny list entry that is
	// neither an IP address nor a CIDR prefix.
	ErrInvalidAddress = errors.New("secure: invalid address")
	// ErrInvalidLimit reports a Limits field out of range.
	ErrInvalidLimit = errors.New("secure: invalid limit")
	// ErrHandlerExists reports a second Authenticator for a zchan.Context:
	// libzmq allows one ZAP handler per context.
	ErrHandlerExists = errors.New("secure: a ZAP handler is already bound in this context")
	// ErrAuthClosed reports a call on an Authenticator whose handler has
	// ended: closed by Close, or ended by its Context's termination or a
	// fatal error, which the error then wraps too (see
	// Authenticator.Err). It is also Err's value after Close.
	ErrAuthClosed = errors.New("secure: authenticator closed")
	// ErrNotEnforced reports a CURVE server that accepted a client with a
	// random key: no working ZAP handler runs in its context, so libzmq
	// lets every client that knows the server's public key in. Verify and
	// Listen also report it, without a probe, for an Authenticator whose
	// handler has ended (the error then wraps ErrAuthClosed too), and
	// for a STREAM socket, which speaks raw tcp and cannot carry CURVE.
	ErrNotEnforced = errors.New("secure: authentication not enforced")
	// ErrProbe reports a probe of a server that did not end with a verdict
	// (no handshake success or failure) within ProbeTimeout, or that could
	// not be started (the error wraps why: a zchan sentinel, ErrLibzmq).
	ErrProbe = errors.New("secure: probe inconclusive")
	// ErrWatchdog reports a Watchdog that cannot run: a bad configuration,
	// or no /proc to read memory and connections from.
	ErrWatchdog = errors.New("secure: watchdog")
	// ErrLibzmq reports a libzmq call of this package that failed where no
	// other sentinel applies: making a key pair, deriving a public key,
	// closing the ZAP handler's socket. The libzmq error (a zmq4.Errno)
	// is wrapped too.
	ErrLibzmq = errors.New("secure: libzmq")
)
