package vault

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"hash"
	"sync"
)

// The blind index is versioned so that its key can rotate. Version 0 is
// HMAC(Index, kind || 0 || value), as before rotations existed; version v ≥ 1
// is HMAC(IndexNext[v-1], version v-1). A rotation therefore computes a
// stored value's next form from the value alone, which matters because
// many values have nothing else left: the suppression hash of an erased
// person, the keyed hash of a message body that was never kept. A copy of
// the database taken after a rotation cannot be tested against guesses
// without the new key as well as every older one.
//
// Stored forms carry their version: version 0 is the bare 32 bytes (what
// every row held before), a later version is one byte of version followed
// by the 32 bytes, so that a rewrite can tell old rows from new ones.

// ErrNewerIndexForm is returned for a stored form of a version the keyring
// does not know yet: another process rotated the index key and this one
// has not read the new keyring.
var ErrNewerIndexForm = errors.New("vault: blind index of a version this keyring does not know")

// EncodeIndexForm returns the stored form of hash h at version v.
func EncodeIndexForm(v int, h [32]byte) []byte {
	if v == 0 {
		return append([]byte(nil), h[:]...)
	}
	b := make([]byte, 0, 33)
	b = append(b, byte(v))
	return append(b, h[:]...)
}

// ParseIndexForm splits a stored form into its version and hash.
func ParseIndexForm(b []byte) (v int, h [32]byte, ok bool) {
	switch {
	case len(b) == 32:
		copy(h[:], b)
		return 0, h, true
	case len(b) == 33 && b[0] != 0:
		copy(h[:], b[1:])
		return int(b[0]), h, true
	}
	return 0, h, false
}

// macPool pools the HMAC states of one key: a lookup sits on the decision
// path, and keying an HMAC costs as much as using it.
type macPool struct{ pool sync.Pool }

func newMacPool(k Key) *macPool {
	p := &macPool{}
	p.pool.New = func() any { return hmac.New(sha256.New, k[:]) }
	return p
}

// next returns HMAC(key, in): the step from one version to the next. in
// is taken by value so that only a step, not every caller, moves a hash to
// the heap.
func (p *macPool) next(in [32]byte) [32]byte {
	h := p.pool.Get().(hash.Hash)
	h.Reset()
	h.Write(in[:])
	var out [32]byte
	h.Sum(out[:0])
	p.pool.Put(h)
	return out
}

// IndexChain computes a tenant's blind indexes at the versions its keyring
// knows, and moves stored forms to later versions. It is safe for
// concurrent use.
type IndexChain struct {
	base       *BlindIndexer
	next       []*macPool
	low, write int
}

// NewIndexChain returns the chain of the tenant's index keys.
func NewIndexChain(tk TenantKeys) *IndexChain {
	c := &IndexChain{base: NewBlindIndexer(tk.Index), low: tk.IndexLow, write: tk.IndexWrite}
	for _, k := range tk.IndexNext {
		c.next = append(c.next, newMacPool(k))
	}
	return c
}

// Base is the indexer of version 0. Link MACs and the WhatsApp verify
// token use it: they are handed out and must keep verifying after a
// rotation (docs/privacy.md).
func (c *IndexChain) Base() *BlindIndexer { return c.base }

// Top is the newest version the chain knows.
func (c *IndexChain) Top() int { return len(c.next) }

// Low is the oldest version lookups try.
func (c *IndexChain) Low() int { return c.low }

// Write is the version stored values are written in.
func (c *IndexChain) Write() int { return c.write }

// Rotating reports whether lookups try two versions.
func (c *IndexChain) Rotating() bool { return c.low < len(c.next) }

// Forms returns a value's blind index at the two newest versions.
func (c *IndexChain) Forms(kind, normalized string) Forms {
	f := Forms{top: len(c.next), low: c.low, write: c.write}
	h := c.base.Sum(kind, normalized)
	for i, p := range c.next {
		if i == len(c.next)-1 {
			f.prev = h
		}
		h = p.next(h)
	}
	f.cur = h
	return f
}

// Forward returns the hash of a stored form at version to.
func (c *IndexChain) Forward(stored []byte, to int) ([32]byte, error) {
	v, h, ok := ParseIndexForm(stored)
	if !ok {
		return h, ErrUnreadable
	}
	return c.ForwardHash(v, h, to)
}

// ForwardStored returns a stored form at the version written, and whether
// that changed it; it has the shape of store.ForwardFunc.
func (c *IndexChain) ForwardStored(stored []byte) ([]byte, bool, error) {
	v, _, ok := ParseIndexForm(stored)
	if ok && v == c.write {
		return stored, false, nil
	}
	h, err := c.Forward(stored, c.write)
	if err != nil {
		return stored, false, err
	}
	return EncodeIndexForm(c.write, h), true, nil
}

// Forms is one value's blind index at the newest version of a chain and
// the one before (while a rotation runs, both are looked up).
type Forms struct {
	top, low, write int
	cur, prev       [32]byte
}

// At returns the hash at version v, when it is one of the two held.
func (f Forms) At(v int) ([32]byte, bool) {
	switch {
	case v == f.top:
		return f.cur, true
	case v == f.top-1 && v >= 0:
		return f.prev, true
	}
	return [32]byte{}, false
}

// Newest returns the newest version held and the hash at it.
func (f Forms) Newest() (int, [32]byte) { return f.top, f.cur }

// Stored is the form to write.
func (f Forms) Stored() []byte {
	h, _ := f.At(f.write)
	return EncodeIndexForm(f.write, h)
}

// Lookups are the stored forms to look a value up by, the written one
// first.
func (f Forms) Lookups() [][]byte {
	out := [][]byte{f.Stored()}
	for v := f.top; v >= f.low; v-- {
		if v != f.write {
			h, _ := f.At(v)
			out = append(out, EncodeIndexForm(v, h))
		}
	}
	return out
}

// Matches reports whether a stored form is this value at a version looked
// up.
func (f Forms) Matches(stored []byte) bool {
	v, h, ok := ParseIndexForm(stored)
	if !ok || v < f.low || v > f.top {
		return false
	}
	want, _ := f.At(v)
	return hmac.Equal(h[:], want[:])
}

// ForwardHash returns hash h of version v at version to.
func (c *IndexChain) ForwardHash(v int, h [32]byte, to int) ([32]byte, error) {
	if v > to || to > len(c.next) || v < 0 {
		return h, ErrNewerIndexForm
	}
	for ; v < to; v++ {
		h = c.next[v].next(h)
	}
	return h, nil
}
