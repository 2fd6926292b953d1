package index

import (
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/oklog/ulid/v2"
)

// PutPurpose adds or replaces a purpose. The index keeps its own copy.
func (ix *Index) PutPurpose(tenantID string, p *consent.Purpose) {
	cp := *p
	cp.Channels = append([]consent.Channel(nil), p.Channels...)
	t := ix.tenantForWrite(tenantID)
	t.mu.Lock()
	t.purposes[p.Key] = &cp
	t.purposeID(p.Key)
	t.mu.Unlock()
}

// Identifier is a contact's identifier as the index knows it: kind and
// the stored form of its blind index (any version), never the value.
type Identifier struct {
	Kind       consent.IdentifierKind
	BlindIndex []byte
}

func formsOf(ids []Identifier) [][]byte {
	fs := make([][]byte, len(ids))
	for i, x := range ids {
		fs[i] = x.BlindIndex
	}
	return fs
}

// PutContact adds or replaces a contact with its identifiers.
func (ix *Index) PutContact(tenantID string, id ulid.ULID, restricted bool, ids []Identifier) {
	ix.update(tenantID, formsOf(ids), func(t *tenant, hs []BlindIndex) {
		ce := t.contacts[id]
		if ce == nil {
			ce = &contactEntry{}
			t.contacts[id] = ce
		}
		ce.restricted = restricted
		t.addIdentifiers(id, ce, ids, hs)
	}, func(ix *Index) { ix.PutContact(tenantID, id, restricted, ids) })
}

// addIdentifiers gives the contact ids, whose hashes at the tenant's
// version are hs; callers hold t.mu for writing.
func (t *tenant) addIdentifiers(id ulid.ULID, ce *contactEntry, ids []Identifier, hs []BlindIndex) {
	for i, x := range ids {
		k, ok := kindCode(x.Kind)
		if !ok {
			continue
		}
		ce.has |= 1 << k
		ce.ids[k] = hs[i]
		t.identity[idKey{kind: k, bi: hs[i]}] = id
	}
}

// AddIdentifier adds one identifier to a contact, creating the contact's
// entry when it is not there yet, without touching its restriction.
func (ix *Index) AddIdentifier(tenantID string, id ulid.ULID, x Identifier) {
	k, ok := kindCode(x.Kind)
	if !ok {
		return
	}
	ix.update(tenantID, [][]byte{x.BlindIndex}, func(t *tenant, hs []BlindIndex) {
		ce := t.contacts[id]
		if ce == nil {
			ce = &contactEntry{}
			t.contacts[id] = ce
		}
		ce.has |= 1 << k
		ce.ids[k] = hs[0]
		t.identity[idKey{kind: k, bi: hs[0]}] = id
	}, func(ix *Index) { ix.AddIdentifier(tenantID, id, x) })
}

// SetRestricted records an Art. 18 restriction (or its lifting).
func (ix *Index) SetRestricted(tenantID string, id ulid.ULID, restricted bool) {
	t := ix.tenantForWrite(tenantID)
	t.wmu.Lock()
	t.mu.Lock()
	if ce := t.contacts[id]; ce != nil {
		ce.restricted = restricted
	}
	t.mu.Unlock()
	t.wmu.Unlock()
}

// ApplyConsent moves (contact, purpose, channel) to state s unless the index
// already holds a newer event (higher EventSeq) for it.
func (ix *Index) ApplyConsent(tenantID string, contact ulid.ULID, purpose string, ch consent.Channel, s consent.State) {
	cc, ok := channelCode(ch)
	if !ok {
		return
	}
	ev, _ := ulid.ParseStrict(s.EventID)
	t := ix.tenantForWrite(tenantID)
	t.mu.Lock()
	k := stateKey{contact: contact, purpose: t.purposeID(purpose), channel: cc}
	if old, ok := t.states[k]; !ok || s.EventSeq > old.seq {
		t.states[k] = entry{seq: s.EventSeq, expires: nanos(s.ExpiresAt), event: ev, status: statusCode(s.Status), confirm: s.Confirmed}
	}
	t.mu.Unlock()
}

// Suppress adds an identifier, given by the stored form of its blind
// index, to the suppression list for a scope ("all" or a channel name).
func (ix *Index) Suppress(tenantID string, kind consent.IdentifierKind, form []byte, scope string) {
	k, ok := kindCode(kind)
	if !ok {
		return
	}
	var sc uint8
	if scope != "all" {
		if sc, ok = channelCode(consent.Channel(scope)); !ok {
			return
		}
	}
	ix.update(tenantID, [][]byte{form}, func(t *tenant, hs []BlindIndex) {
		t.suppressed[supKey{idKey: idKey{kind: k, bi: hs[0]}, scope: sc}] = struct{}{}
	}, func(ix *Index) { ix.Suppress(tenantID, kind, form, scope) })
}
