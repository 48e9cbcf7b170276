package secure

import (
	"crypto/subtle"
	"fmt"
	"strings"

	zmq "github.com/pebbe/zmq4"
)

// KeyLen is the length of a CURVE key in Z85 text: 32 bytes of key in 40
// printable characters.
const KeyLen = 40

const z85Alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"

var z85Value = func() (v [256]byte) {
	for i := range v {
		v[i] = 0xff
	}
	for i := 0; i < len(z85Alphabet); i++ {
		v[z85Alphabet[i]] = byte(i)
	}
	return v
}()

// z85Decode decodes Z85 text whose length is a multiple of 5. It reports
// false for a wrong length, a character outside the alphabet, or a group
// over 2^32-1, which libzmq's decoder also refuses.
func z85Decode(s string) ([]byte, bool) {
	if len(s)%5 != 0 {
		return nil, false
	}
	out := make([]byte, 0, len(s)/5*4)
	for i := 0; i < len(s); i += 5 {
		var v uint64
		for j := range 5 {
			d := z85Value[s[i+j]]
			if d == 0xff {
				return nil, false
			}
			v = v*85 + uint64(d)
		}
		if v > 0xffffffff {
			return nil, false
		}
		out = append(out, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return out, true
}

// z85Encode encodes b, whose length is a multiple of 4.
func z85Encode(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b) / 4 * 5)
	for i := 0; i+4 <= len(b); i += 4 {
		v := uint32(b[i])<<24 | uint32(b[i+1])<<16 | uint32(b[i+2])<<8 | uint32(b[i+3])
		var g [5]byte
		for j := 4; j >= 0; j-- {
			g[j] = z85Alphabet[v%85]
			v /= 85
		}
		sb.Write(g[:])
	}
	return sb.String()
}

// CheckKey reports whether k is a well-formed CURVE key in Z85 text (40
// characters of the Z85 alphabet that decode to 32 bytes). It returns an
// error wrapping ErrInvalidKey that does not quote the key, so that it is
// safe to log even when k was meant to be a secret.
func CheckKey(k string) error {
	if len(k) != KeyLen {
		return fmt.Errorf("secure: key of %d characters, want %d: %w", len(k), KeyLen, ErrInvalidKey)
	}
	if _, ok := z85Decode(k); !ok {
		return fmt.Errorf("secure: key is not Z85: %w", ErrInvalidKey)
	}
	return nil
}

// KeyPair is a CURVE key pair: the public key, which peers may know and
// logs may show, and the secret key, which this package never prints,
// logs or returns. Load it from your configuration with ParseKeyPair, or
// make one with NewKeyPair.
//
// The zero value is not usable: Server and Client refuse it with
// ErrInvalidKey. A KeyPair is immutable and safe to copy and share.
type KeyPair struct {
	public string
	secret string
}

// NewKeyPair makes a fresh key pair with libzmq (zmq_curve_keypair). It
// fails, with an error wrapping ErrLibzmq, when libzmq cannot make one (a
// libzmq built without CURVE).
func NewKeyPair() (KeyPair, error) {
	pub, sec, err := zmq.NewCurveKeypair()
	if err != nil {
		return KeyPair{}, fmt.Errorf("secure: new key pair: %w: %w", ErrLibzmq, err)
	}
	return KeyPair{public: pub, secret: sec}, nil
}

// ParseKeyPair checks a key pair given as Z85 text: both keys well formed
// and the public key the one that belongs to the secret key. Errors wrap
// ErrInvalidKey (and ErrLibzmq when libzmq could not derive the public
// key) and never quote the secret key.
func ParseKeyPair(public, secret string) (KeyPair, error) {
	if err := CheckKey(public); err != nil {
		return KeyPair{}, fmt.Errorf("secure: public key: %w", err)
	}
	if err := CheckKey(secret); err != nil {
		return KeyPair{}, fmt.Errorf("secure: secret key: %w", err)
	}
	derived, err := zmq.AuthCurvePublic(secret)
	if err != nil {
		return KeyPair{}, fmt.Errorf("secure: derive public key: %w: %w: %w", ErrInvalidKey, ErrLibzmq, err)
	}
	if subtle.ConstantTimeCompare([]byte(derived), []byte(public)) != 1 {
		return KeyPair{}, fmt.Errorf("secure: public key does not belong to the secret key: %w", ErrInvalidKey)
	}
	return KeyPair{public: public, secret: secret}, nil
}

// Public returns the public key in Z85 text.
func (k KeyPair) Public() string { return k.public }

// String returns "curve:" and the public key; never the secret key.
func (k KeyPair) String() string { return "curve:" + k.public }

// GoString is String, so that %#v does not print the secret key either.
func (k KeyPair) GoString() string { return k.String() }

// MarshalText returns the public key only, so that encoders (JSON, zap's
// reflection) never see the secret key.
func (k KeyPair) MarshalText() ([]byte, error) { return []byte(k.public), nil }

func (k KeyPair) valid() bool { return k.public != "" && k.secret != "" }
