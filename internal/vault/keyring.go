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
//	0x02 | version (uint32 BE) | Enc | Index | Data | n (1 byte) | n retired keys
//
// Format v3 follows a rotation of the index key and appends the later index
// keys and the versions looked up and written:
//
//	0x03 | … as v2 … | m (1 byte) | m index keys | low (1 byte) | write (1 byte)
//
// A keyring without later index keys is still written as v2, so that a
// server of an earlier release opens every keyring but a rotated one.
const (
	keyringFormat      byte = 2
	keyringFormatIndex byte = 3
)

// maxRetired bounds the retired keys a keyring carries: one per rotation in
// progress, and rotations do not overlap.
const maxRetired = 4

// MaxIndexVersion is the highest version of the blind index: stored forms
// carry their version in one byte.
const MaxIndexVersion = 255

// ErrKeyringFormat is returned for a keyring the master key opens but in a
// format this release does not know: a later release wrote it.
var ErrKeyringFormat = errors.New("vault: the tenant keyring is in a format this release does not know (written by a later release?)")

// ErrKeyringTooLong is returned when a rotation would keep more retired keys
// than a keyring holds: finish the rotation in progress first.
var ErrKeyringTooLong = errors.New("vault: too many retired keys in the keyring; finish the rotation in progress first")

func encodeKeyring(tk TenantKeys) ([]byte, error) {
	if len(tk.Retired) > maxRetired {
		return nil, ErrKeyringTooLong
	}
	if len(tk.IndexNext) > MaxIndexVersion || tk.IndexLow > tk.IndexWrite || tk.IndexWrite > len(tk.IndexNext) || tk.IndexLow < 0 {
		return nil, errors.New("vault: the keyring's index versions are inconsistent")
	}
	format := keyringFormat
	if len(tk.IndexNext) > 0 {
		format = keyringFormatIndex
	}
	b := make([]byte, 0, 1+4+3*KeySize+1+len(tk.Retired)*KeySize+1+len(tk.IndexNext)*KeySize+2)
	b = append(b, format)
	b = binary.BigEndian.AppendUint32(b, uint32(tk.Version))
	b = append(b, tk.Enc[:]...)
	b = append(b, tk.Index[:]...)
	kek := tk.kek()
	b = append(b, kek[:]...)
	b = append(b, byte(len(tk.Retired)))
	for _, k := range tk.Retired {
		b = append(b, k[:]...)
	}
	if format == keyringFormatIndex {
		b = append(b, byte(len(tk.IndexNext)))
		for _, k := range tk.IndexNext {
			b = append(b, k[:]...)
		}
		b = append(b, byte(tk.IndexLow), byte(tk.IndexWrite))
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
	if len(pt) > 0 && pt[0] > keyringFormatIndex {
		return tk, ErrKeyringFormat
	}
	if len(pt) < head || (pt[0] != keyringFormat && pt[0] != keyringFormatIndex) {
		return tk, ErrUnreadable
	}
	tk.Version = int(binary.BigEndian.Uint32(pt[1:5]))
	copy(tk.Enc[:], pt[5:5+KeySize])
	copy(tk.Index[:], pt[5+KeySize:5+2*KeySize])
	copy(tk.Data[:], pt[5+2*KeySize:5+3*KeySize])
	n := int(pt[head-1])
	end := head + n*KeySize
	if n > maxRetired || len(pt) < end {
		return tk, ErrUnreadable
	}
	tk.Retired = readKeys(pt[head:end], n)
	if pt[0] == keyringFormat {
		if len(pt) != end {
			return tk, ErrUnreadable
		}
		return tk, nil
	}
	if len(pt) < end+1 {
		return tk, ErrUnreadable
	}
	m := int(pt[end])
	if m == 0 || len(pt) != end+1+m*KeySize+2 {
		return tk, ErrUnreadable
	}
	tk.IndexNext = readKeys(pt[end+1:], m)
	tk.IndexLow, tk.IndexWrite = int(pt[len(pt)-2]), int(pt[len(pt)-1])
	if tk.IndexLow > tk.IndexWrite || tk.IndexWrite > m {
		return tk, ErrUnreadable
	}
	return tk, nil
}

func readKeys(b []byte, n int) []Key {
	var ks []Key
	for i := range n {
		var k Key
		copy(k[:], b[i*KeySize:])
		ks = append(ks, k)
	}
	return ks
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
// Retire drops it. Enc is kept (docs/privacy.md says why), and so are the
// index keys, which AnnounceIndex rotates.
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

// IndexPhase is where a rotation of the index key stands.
type IndexPhase int

// The phases a rotation of the index key goes through, in order.
const (
	IndexSteady    IndexPhase = iota // one version, looked up and written
	IndexAnnounced                   // a new key: both versions looked up, the old one written
	IndexSwitched                    // both looked up, the new one written
)

// IndexPhase returns where a rotation of the index key stands.
func (tk TenantKeys) IndexPhase() IndexPhase {
	switch top := len(tk.IndexNext); {
	case tk.IndexWrite < top:
		return IndexAnnounced
	case tk.IndexLow < top:
		return IndexSwitched
	}
	return IndexSteady
}

// AnnounceIndex returns the keyring with a fresh index key of the next
// version, looked up but not yet written: servers must all look values up
// in both versions before any of them writes the new one.
func (tk TenantKeys) AnnounceIndex() (TenantKeys, error) {
	if tk.IndexPhase() != IndexSteady {
		return tk, errors.New("vault: a rotation of the index key is already running")
	}
	if len(tk.IndexNext) >= MaxIndexVersion {
		return tk, errors.New("vault: the index key has been rotated as often as stored forms can say")
	}
	k, err := NewKey()
	if err != nil {
		return tk, err
	}
	out := tk
	out.IndexNext = append(append([]Key(nil), tk.IndexNext...), k)
	out.Version = tk.Version + 1
	return out, nil
}

// SwitchIndex returns the announced keyring writing the new version.
func (tk TenantKeys) SwitchIndex() TenantKeys {
	out := tk
	out.IndexWrite = len(tk.IndexNext)
	out.Version = tk.Version + 1
	return out
}

// SettleIndex returns the keyring looking up the new version only, once
// every stored value is in it.
func (tk TenantKeys) SettleIndex() TenantKeys {
	out := tk
	out.IndexLow, out.IndexWrite = len(tk.IndexNext), len(tk.IndexNext)
	out.Version = tk.Version + 1
	return out
}
