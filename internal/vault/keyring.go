package vault

import (
	"encoding/binary"
	"errors"
)

// A tenant's keys are stored as a keyring sealed by the master key. The
// first format (v1) was the bare 64 bytes Enc || Index; it still opens and
// counts as version 1. The keyring format (v2) adds a version number, which
// a rotation increases so that running servers notice it, and the retired
// encryption keys that must still open data while a rotation rewraps it:
//
//	0x02 | version (uint32 BE) | Enc | Index | n (1 byte) | n retired keys
const keyringFormat byte = 2

// maxRetired bounds the retired keys a keyring carries: one per rotation in
// progress, and rotations do not overlap.
const maxRetired = 4

// ErrKeyringTooLong is returned when a rotation would keep more retired keys
// than a keyring holds: finish the rotation in progress first.
var ErrKeyringTooLong = errors.New("vault: too many retired keys in the keyring; finish the rotation in progress first")

func encodeKeyring(tk TenantKeys) ([]byte, error) {
	if len(tk.Retired) > maxRetired {
		return nil, ErrKeyringTooLong
	}
	b := make([]byte, 0, 1+4+3*KeySize+1+len(tk.Retired)*KeySize)
	b = append(b, keyringFormat)
	b = binary.BigEndian.AppendUint32(b, uint32(tk.Version))
	b = append(b, tk.Enc[:]...)
	b = append(b, tk.Index[:]...)
	kek := tk.kek()
	b = append(b, kek[:]...)
	b = append(b, byte(len(tk.Retired)))
	for _, k := range tk.Retired {
		b = append(b, k[:]...)
	}
	return b, nil
}

func decodeKeyring(pt []byte) (TenantKeys, error) {
	var tk TenantKeys
	if len(pt) == 2*KeySize { // v1: Enc also wraps the contact keys
		tk.Version = 1
		copy(tk.Enc[:], pt[:KeySize])
		copy(tk.Index[:], pt[KeySize:])
		tk.Data = tk.Enc
		return tk, nil
	}
	const head = 1 + 4 + 3*KeySize + 1
	if len(pt) < head || pt[0] != keyringFormat {
		return tk, ErrUnreadable
	}
	tk.Version = int(binary.BigEndian.Uint32(pt[1:5]))
	copy(tk.Enc[:], pt[5:5+KeySize])
	copy(tk.Index[:], pt[5+KeySize:5+2*KeySize])
	copy(tk.Data[:], pt[5+2*KeySize:5+3*KeySize])
	n := int(pt[head-1])
	if n > maxRetired || len(pt) != head+n*KeySize {
		return tk, ErrUnreadable
	}
	for i := range n {
		var k Key
		copy(k[:], pt[head+i*KeySize:])
		tk.Retired = append(tk.Retired, k)
	}
	return tk, nil
}

// SealTenantKeys wraps a tenant's keyring with the master key.
func SealTenantKeys(master Key, tenantID string, tk TenantKeys) ([]byte, error) {
	pt, err := encodeKeyring(tk)
	if err != nil {
		return nil, err
	}
	return Seal(master, pt, tenantAAD(tenantID))
}

// RotateData returns the keyring with a fresh data key-encryption key; the
// current one is retired (it still opens contact keys, never wraps) until
// Retire drops it. Enc and Index are kept: docs/privacy.md says why.
func (tk TenantKeys) RotateData() (TenantKeys, error) {
	if len(tk.Retired)+1 > maxRetired {
		return tk, ErrKeyringTooLong
	}
	k, err := NewKey()
	if err != nil {
		return tk, err
	}
	out := tk
	out.Retired = append([]Key{tk.kek()}, tk.Retired...)
	out.Data = k
	out.Version = tk.Version + 1
	return out, nil
}

// Retire returns the keyring without its retired keys, once nothing is
// sealed with them any more.
func (tk TenantKeys) Retire() TenantKeys {
	out := tk
	out.Retired = nil
	out.Version = tk.Version + 1
	return out
}

// Rewrap re-encrypts a contact's wrapped data key with the current data
// key-encryption key. It reports whether anything changed: a key that the
// current one already opens is left as it is.
func (tk TenantKeys) Rewrap(tenantID, contactID string, wrapped []byte) ([]byte, bool, error) {
	if len(wrapped) == 0 {
		return wrapped, false, nil
	}
	aad := contactAAD(tenantID, contactID)
	kek := tk.kek()
	if _, err := UnwrapKey(kek, wrapped, aad); err == nil {
		return wrapped, false, nil
	}
	for _, old := range tk.Retired {
		if k, err := UnwrapKey(old, wrapped, aad); err == nil {
			out, err := WrapKey(kek, k, aad)
			return out, err == nil, err
		}
	}
	return wrapped, false, ErrUnreadable
}

// kek is the key that wraps contact data keys: Data, or Enc for keys made
// in code that set only Enc and Index.
func (tk TenantKeys) kek() Key {
	if tk.Data == (Key{}) {
		return tk.Enc
	}
	return tk.Data
}
