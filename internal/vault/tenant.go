package vault

import (
	"errors"
	"hash"
)

// TenantKeys are the secrets of one tenant: Enc seals the tenant's own
// secrets (provider credentials, webhook secrets) and is the root other
// keys are derived from, Index keys the blind index, and Data wraps contact
// data keys. They are separate so that Data, which protects the bulk of the
// personal data, can be rotated without touching the others.
type TenantKeys struct {
	Enc   Key
	Index Key
	Data  Key // zero in keys from a v1 keyring: Enc wraps contact keys then
	// Version counts rotations; servers compare it to notice one.
	Version int
	// Retired data keys still open contact keys wrapped before a rotation,
	// while the rotation rewraps them; they never wrap.
	Retired []Key
	// IndexNext are the index keys of later index versions: version v ≥ 1
	// of a blind index is HMAC(IndexNext[v-1], version v-1), so that a
	// rotation computes every stored value's new form from the value alone
	// (index_chain.go).
	IndexNext []Key
	// IndexLow is the oldest version lookups still try, IndexWrite the
	// version written. Both equal len(IndexNext) but while a rotation of
	// the index key runs.
	IndexLow, IndexWrite int
}

func tenantAAD(tenantID string) []byte { return []byte("consentgate/tenant-keys/v1|" + tenantID) }

// NewTenantKeys makes fresh tenant keys and returns them wrapped by master.
func NewTenantKeys(master Key, tenantID string) (TenantKeys, []byte, error) {
	var tk TenantKeys
	var err error
	if tk.Enc, err = NewKey(); err != nil {
		return tk, nil, err
	}
	if tk.Index, err = NewKey(); err != nil {
		return tk, nil, err
	}
	if tk.Data, err = NewKey(); err != nil {
		return tk, nil, err
	}
	tk.Version = 1
	wrapped, err := SealTenantKeys(master, tenantID, tk)
	return tk, wrapped, err
}

// OpenTenantKeys unwraps tenant keys made by NewTenantKeys.
func OpenTenantKeys(master Key, tenantID string, wrapped []byte) (TenantKeys, error) {
	var tk TenantKeys
	pt, err := Open(master, wrapped, tenantAAD(tenantID))
	if err != nil {
		return tk, err
	}
	return decodeKeyring(pt)
}

// BlindIndexer computes blind indexes for one tenant, version 0 of the
// index key chain (index_chain.go), with pooled HMAC states.
type BlindIndexer struct{ *macPool }

// NewBlindIndexer returns an indexer keyed by the tenant's index key.
func NewBlindIndexer(k Key) *BlindIndexer { return &BlindIndexer{newMacPool(k)} }

// Sum returns HMAC-SHA256(key, kind || 0 || normalised). The kind is bound in
// so that a phone number and a WhatsApp id of the same digits differ.
func (b *BlindIndexer) Sum(kind, normalized string) [32]byte {
	h := b.pool.Get().(hash.Hash)
	h.Reset()
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write([]byte(normalized))
	var out [32]byte
	h.Sum(out[:0])
	b.pool.Put(h)
	return out
}

// ContactKey is a contact's data key with what it is bound to.
type ContactKey struct {
	tenantID, contactID string
	key                 Key
}

func contactAAD(tenantID, contactID string) []byte {
	return []byte("consentgate/contact-key/v1|" + tenantID + "|" + contactID)
}

// NewContactKey makes a data key for a contact and wraps it with the tenant's
// encryption key.
func NewContactKey(tk TenantKeys, tenantID, contactID string) (*ContactKey, []byte, error) {
	k, err := NewKey()
	if err != nil {
		return nil, nil, err
	}
	wrapped, err := WrapKey(tk.kek(), k, contactAAD(tenantID, contactID))
	if err != nil {
		return nil, nil, err
	}
	return &ContactKey{tenantID: tenantID, contactID: contactID, key: k}, wrapped, nil
}

// OpenContactKey unwraps a contact's data key. A destroyed (nil) key yields
// ErrShredded.
func OpenContactKey(tk TenantKeys, tenantID, contactID string, wrapped []byte) (*ContactKey, error) {
	if len(wrapped) == 0 {
		return nil, ErrShredded
	}
	aad := contactAAD(tenantID, contactID)
	k, err := UnwrapKey(tk.kek(), wrapped, aad)
	for i := 0; err != nil && i < len(tk.Retired); i++ {
		// Wrapped before a rotation that is still rewrapping.
		k, err = UnwrapKey(tk.Retired[i], wrapped, aad)
	}
	if err != nil {
		return nil, err
	}
	return &ContactKey{tenantID: tenantID, contactID: contactID, key: k}, nil
}

// ErrShredded means the contact's data key was destroyed: its data is gone.
var ErrShredded = errors.New("vault: contact data key destroyed")

func (c *ContactKey) fieldAAD(field string) []byte {
	return []byte("consentgate/field/v1|" + c.tenantID + "|" + c.contactID + "|" + field)
}

// Seal encrypts one field of the contact.
func (c *ContactKey) Seal(field string, plaintext []byte) ([]byte, error) {
	return Seal(c.key, plaintext, c.fieldAAD(field))
}

// Open decrypts one field of the contact.
func (c *ContactKey) Open(field string, sealed []byte) ([]byte, error) {
	return Open(c.key, sealed, c.fieldAAD(field))
}
