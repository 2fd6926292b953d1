// Package index is the in-memory decision index: everything a decision needs
// (purposes, contacts and their blind indexes, suppressions, the current
// consent state of every (contact, purpose, channel)) held in maps, so that a
// decision costs a few map lookups and never touches the database. It is
// rebuilt from the store at start and updated by the service right after
// each commit; updates carry the event's store sequence and only ever move a
// state forward, so applying an event twice or late cannot undo a newer one.
package index

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/vault"
	"github.com/oklog/ulid/v2"
)

// BlindIndex is the keyed hash of a normalised identifier, at the tenant's
// version of the index key chain (keys.go).
type BlindIndex = [32]byte

// Index is safe for concurrent use.
type Index struct {
	mu      sync.RWMutex
	tenants map[string]*tenant
	ready   atomic.Bool
	keys    atomic.Pointer[KeySource]
}

// New returns an empty index that refuses decisions until MarkReady.
func New() *Index { return &Index{tenants: make(map[string]*tenant)} }

// MarkReady lets decisions through; until then (and after MarkNotReady)
// every decision fails closed with reason "unavailable".
func (ix *Index) MarkReady() { ix.ready.Store(true) }

// MarkNotReady makes every decision fail closed, e.g. while the index has
// lost its change feed and may be stale.
func (ix *Index) MarkNotReady() { ix.ready.Store(false) }

// Ready reports whether decisions are answered.
func (ix *Index) Ready() bool { return ix.ready.Load() }

type stateKey struct {
	contact ulid.ULID
	purpose uint16
	channel uint8
}

// entry is one consent state, packed: 40 bytes beside a 20-byte key.
type entry struct {
	seq     int64
	expires int64 // unix nanoseconds, 0 = none
	event   ulid.ULID
	status  uint8
	confirm bool
}

type idKey struct {
	kind uint8
	bi   BlindIndex
}

type supKey struct {
	idKey
	scope uint8 // 0 = all channels, else channelCode
}

type contactEntry struct {
	restricted bool
	has        uint8 // bit per identifier kind
	moved      uint8 // bit per identifier kind moved by a rekey (keys.go)
	ids        [3]BlindIndex
}

type tenant struct {
	// wmu is held by every writer of identity, suppressed and contacts
	// (and by a rekey, which reads them without mu); mu as usual.
	wmu        sync.Mutex
	mu         sync.RWMutex
	purposes   map[string]*consent.Purpose
	purposeIDs map[string]uint16
	states     map[stateKey]entry
	identity   map[idKey]ulid.ULID
	contacts   map[ulid.ULID]*contactEntry
	suppressed map[supKey]struct{}

	// chain is the tenant's index key chain, ver the version of every
	// hash above (keys.go); pending are updates waiting for a newer chain.
	chain   *vault.IndexChain
	ver     int
	pending []func(*Index)
}

func newTenant() *tenant {
	return &tenant{
		purposes:   make(map[string]*consent.Purpose),
		purposeIDs: make(map[string]uint16),
		states:     make(map[stateKey]entry),
		identity:   make(map[idKey]ulid.ULID),
		contacts:   make(map[ulid.ULID]*contactEntry),
		suppressed: make(map[supKey]struct{}),
	}
}

func (ix *Index) tenant(id string) *tenant {
	ix.mu.RLock()
	t := ix.tenants[id]
	ix.mu.RUnlock()
	return t
}

func (ix *Index) tenantForWrite(id string) *tenant {
	if t := ix.tenant(id); t != nil {
		return t
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	t := ix.tenants[id]
	if t == nil {
		t = newTenant()
		ix.tenants[id] = t
	}
	return t
}

var statusCodes = []consent.Status{consent.StatusNone, consent.StatusPending, consent.StatusGranted, consent.StatusWithdrawn, consent.StatusObjected}

func statusCode(s consent.Status) uint8 {
	for i, v := range statusCodes {
		if v == s {
			return uint8(i)
		}
	}
	return 0
}

func channelCode(c consent.Channel) (uint8, bool) {
	for i, v := range consent.Channels {
		if v == c {
			return uint8(i + 1), true
		}
	}
	return 0, false
}

func kindCode(k consent.IdentifierKind) (uint8, bool) {
	for i, v := range consent.IdentifierKinds {
		if v == k {
			return uint8(i), true
		}
	}
	return 0, false
}

// purposeID interns a purpose key; callers hold t.mu for writing.
func (t *tenant) purposeID(key string) uint16 {
	if id, ok := t.purposeIDs[key]; ok {
		return id
	}
	id := uint16(len(t.purposeIDs) + 1)
	t.purposeIDs[key] = id
	return id
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}
