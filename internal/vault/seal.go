package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// KeySize is the size of every key the vault handles: AES-256 and
// HMAC-SHA256 keys are both 32 bytes.
const KeySize = 32

// Key is a 256-bit secret key.
type Key [KeySize]byte

// ErrUnreadable is returned when a ciphertext does not open: wrong key,
// wrong associated data (the value was moved) or corruption. Callers report
// the field as unreadable; there is never a plaintext fallback.
var ErrUnreadable = errors.New("vault: ciphertext unreadable")

// version prefixes every ciphertext so the format can change later without
// guessing.
const version byte = 1

// NewKey returns a fresh random key.
func NewKey() (Key, error) {
	var k Key
	if _, err := rand.Read(k[:]); err != nil {
		return k, fmt.Errorf("vault: random key: %w", err)
	}
	return k, nil
}

// Seal encrypts plaintext with key, binding aad. The output is
// version || nonce || ciphertext+tag.
func Seal(key Key, plaintext, aad []byte) ([]byte, error) {
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out[0] = version
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("vault: nonce: %w", err)
	}
	return aead.Seal(out, out[1:], plaintext, aad), nil
}

// Open decrypts a value made by Seal with the same key and aad.
func Open(key Key, sealed, aad []byte) ([]byte, error) {
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	n := aead.NonceSize()
	if len(sealed) < 1+n+aead.Overhead() || sealed[0] != version {
		return nil, ErrUnreadable
	}
	pt, err := aead.Open(nil, sealed[1:1+n], sealed[1+n:], aad)
	if err != nil {
		return nil, ErrUnreadable
	}
	return pt, nil
}

func newGCM(key Key) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, fmt.Errorf("vault: cipher: %w", err)
	}
	return cipher.NewGCM(block)
}

// WrapKey encrypts a key with a key-encryption key, binding aad (which names
// what the wrapped key belongs to).
func WrapKey(kek, k Key, aad []byte) ([]byte, error) { return Seal(kek, k[:], aad) }

// UnwrapKey reverses WrapKey.
func UnwrapKey(kek Key, wrapped, aad []byte) (Key, error) {
	var k Key
	pt, err := Open(kek, wrapped, aad)
	if err != nil {
		return k, err
	}
	if len(pt) != KeySize {
		return k, ErrUnreadable
	}
	copy(k[:], pt)
	return k, nil
}
