package secure

import (
	"fmt"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchan/zmqchan/zchan"
)

// Server makes a socket a CURVE server with kp: every connection is
// encrypted, and each client's public key goes to the ZAP handler of the
// socket's zchan.Context (an Authenticator) for a verdict. Without a
// working handler in that context, libzmq lets in every client that knows
// the server's public key: use Listen, which proves the handler works
// before it returns, or Authenticator.Verify.
//
// A zero or invalid kp makes zchan.Open fail with an error wrapping both
// zchan.ErrInvalidOption and ErrInvalidKey; libzmq refusing a CURVE
// option (a libzmq built without CURVE) makes it fail with
// zchan.ErrInvalidOption. The secret key is handed to libzmq and never
// logged.
func Server(kp KeyPair) zchan.Option {
	return zchan.WithSetup(func(s *zmq.Socket) error {
		if !kp.valid() {
			return fmt.Errorf("secure: server key pair: %w", ErrInvalidKey)
		}
		// libzmq's errors go back unwrapped, here and in Client: zchan
		// wraps them with ErrInvalidOption, and tells a terminated context
		// (ETERM) from a refusal only by the bare zmq4.Errno.
		if err := s.SetCurveServer(1); err != nil {
			return err
		}
		return s.SetCurveSecretkey(kp.secret)
	})
}

// Client makes a socket a CURVE client with kp that accepts only a server
// holding the secret key of serverPublic (Z85 text). An invalid key makes
// zchan.Open fail with an error wrapping both zchan.ErrInvalidOption and
// ErrInvalidKey.
func Client(kp KeyPair, serverPublic string) zchan.Option {
	return zchan.WithSetup(func(s *zmq.Socket) error {
		if !kp.valid() {
			return fmt.Errorf("secure: client key pair: %w", ErrInvalidKey)
		}
		if err := CheckKey(serverPublic); err != nil {
			return fmt.Errorf("secure: server public key: %w", err)
		}
		if err := s.SetCurveServerkey(serverPublic); err != nil {
			return err
		}
		if err := s.SetCurvePublickey(kp.public); err != nil {
			return err
		}
		return s.SetCurveSecretkey(kp.secret)
	})
}
