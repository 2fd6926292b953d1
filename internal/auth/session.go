package auth

import (
	"crypto/rand"
	"fmt"
	"strings"
	"sync"
)

// SessionPrefix starts every session token, so that secret scanners can
// find leaked tokens and the server can tell a session from an API key
// before any lookup.
const SessionPrefix = "cgs_"

// sessionTokenBytes is the token's entropy: 256 bits.
const sessionTokenBytes = 32

// sessionTokenLen is the length of a token: the prefix and 52 base32
// characters.
var sessionTokenLen = len(SessionPrefix) + keyEncoding.EncodedLen(sessionTokenBytes)

// NewSessionToken returns a new session token (cgs_ + 256 random bits) and
// its hash for storage. Like an API key, the token is shown once and only
// its SHA-256 is kept: with 256 bits of entropy there is nothing to
// stretch.
func NewSessionToken() (token string, hash []byte, err error) {
	var b [sessionTokenBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, fmt.Errorf("auth: random session token: %w", err)
	}
	token = SessionPrefix + keyEncoding.EncodeToString(b[:])
	return token, HashKey(token), nil
}

// LooksLikeSessionToken reports whether s has the shape of a session token.
func LooksLikeSessionToken(s string) bool {
	return strings.HasPrefix(s, SessionPrefix) && len(s) == sessionTokenLen
}

var dummyHash struct {
	once sync.Once
	hash string
	err  error
}

// DummyPasswordHash returns a hash, made once with the current argon2id
// parameters, of a random password nobody knows. A sign-in for an account
// that does not exist verifies the password against it, so that it takes
// as long as one with a wrong password and timing does not tell which
// accounts exist.
func DummyPasswordHash() (string, error) {
	dummyHash.once.Do(func() {
		var b [24]byte
		if _, err := rand.Read(b[:]); err != nil {
			dummyHash.err = fmt.Errorf("auth: random dummy password: %w", err)
			return
		}
		dummyHash.hash, dummyHash.err = HashPassword(keyEncoding.EncodeToString(b[:]))
	})
	return dummyHash.hash, dummyHash.err
}
