package store

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// The cursor of ForwardBlindForms is the key of the last row a page read:
// an id, or for the tables without one their primary key after the tenant,
// as "kind/hex(blind_index)[/scope]" with kind and scope path-escaped, so
// that no value can be mistaken for the separator. Both stores use these
// helpers, so their cursors are the same.

// BlindKeyShape is the key a table is paged by.
type BlindKeyShape int

const (
	BlindKeyID             BlindKeyShape = iota // id: users, messages, inbound
	BlindKeyKindIndex                           // kind, blind_index: identifiers
	BlindKeyKindIndexScope                      // kind, blind_index, scope: suppressions
)

// BlindKey is the key of a row, the fields of its shape set.
type BlindKey struct {
	ID, Kind, Scope string
	Index           []byte
}

// Dest returns where a page's key columns are scanned to.
func (s BlindKeyShape) Dest(k *BlindKey) []any {
	switch s {
	case BlindKeyKindIndex:
		return []any{&k.Kind, &k.Index}
	case BlindKeyKindIndexScope:
		return []any{&k.Kind, &k.Index, &k.Scope}
	}
	return []any{&k.ID}
}

// Args returns the page statement's cursor arguments.
func (s BlindKeyShape) Args(k BlindKey) []any {
	switch s {
	case BlindKeyKindIndex:
		return []any{k.Kind, k.Index}
	case BlindKeyKindIndexScope:
		return []any{k.Kind, k.Index, k.Scope}
	}
	return []any{k.ID}
}

func (s BlindKeyShape) Encode(k BlindKey) string {
	switch s {
	case BlindKeyKindIndex:
		return url.PathEscape(k.Kind) + "/" + hex.EncodeToString(k.Index)
	case BlindKeyKindIndexScope:
		return url.PathEscape(k.Kind) + "/" + hex.EncodeToString(k.Index) + "/" + url.PathEscape(k.Scope)
	}
	return k.ID
}

// Decode reads a cursor; "" is the start, before every key (no stored
// kind is empty, no blind index either).
func (s BlindKeyShape) Decode(c string) (BlindKey, error) {
	k := BlindKey{Index: []byte{}}
	if c == "" || s == BlindKeyID {
		k.ID = c
		return k, nil
	}
	parts := strings.Split(c, "/")
	if want := map[BlindKeyShape]int{BlindKeyKindIndex: 2, BlindKeyKindIndexScope: 3}[s]; len(parts) != want {
		return k, fmt.Errorf("cursor %q: %d parts, want %d", c, len(parts), want)
	}
	var errs [3]error
	k.Kind, errs[0] = url.PathUnescape(parts[0])
	k.Index, errs[1] = hex.DecodeString(parts[1])
	if s == BlindKeyKindIndexScope {
		k.Scope, errs[2] = url.PathUnescape(parts[2])
	}
	if err := errors.Join(errs[:]...); err != nil {
		return BlindKey{}, fmt.Errorf("cursor %q: %w", c, err)
	}
	return k, nil
}

// ForwardValues passes each value that is not empty to fwd and returns the
// new values (nil where one did not change) and whether any did.
func ForwardValues(vals [][]byte, fwd ForwardFunc) ([][]byte, bool, error) {
	next := make([][]byte, len(vals))
	changed := false
	for i, v := range vals {
		if len(v) == 0 {
			continue
		}
		n, ch, err := fwd(v)
		if err != nil {
			return nil, false, err
		}
		if !ch {
			continue
		}
		if len(n) == 0 {
			return nil, false, errors.New("a value forwarded to nothing")
		}
		next[i], changed = n, true
	}
	return next, changed, nil
}
