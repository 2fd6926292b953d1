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
// blind index, never the value.
type Identifier struct {
	Kind       consent.IdentifierKind
	BlindIndex BlindIndex
}

// PutContact adds or replaces a contact with its identifiers.
func (ix *Index) PutContact(tenantID string, id ulid.ULID, restricted bool, ids []Identifier) {
	t := ix.tenantForWrite(tenantID)
	t.mu.Lock()
	defer t.mu.Unlock()
	ce := t.contacts[id]
	if ce == nil {
		ce = &contactEntry{}
		t.contacts[id] = ce
	}
	ce.restricted = restricted
	for _, x := range ids {
		k, ok := kindCode(x.Kind)
		if !ok {
			continue
		}
		ce.has |= 1 << k
		ce.ids[k] = x.BlindIndex
		t.identity[idKey{kind: k, bi: x.BlindIndex}] = id
	}
}

// AddIdentifier adds one identifier to a contact, creating the contact's
// entry when it is not there yet, without touching its restriction.
func (ix *Index) AddIdentifier(tenantID string, id ulid.ULID, x Identifier) {
	k, ok := kindCode(x.Kind)
	if !ok {
		return
	}
	t := ix.tenantForWrite(tenantID)
	t.mu.Lock()
	ce := t.contacts[id]
	if ce == nil {
		ce = &contactEntry{}
		t.contacts[id] = ce
	}
	ce.has |= 1 << k
	ce.ids[k] = x.BlindIndex
	t.identity[idKey{kind: k, bi: x.BlindIndex}] = id
	t.mu.Unlock()
}

// SetRestricted records an Art. 18 restriction (or its lifting).
func (ix *Index) SetRestricted(tenantID string, id ulid.ULID, restricted bool) {
	t := ix.tenantForWrite(tenantID)
	t.mu.Lock()
	if ce := t.contacts[id]; ce != nil {
		ce.restricted = restricted
	}
	t.mu.Unlock()
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

// Suppress adds an identifier to the suppression list for a scope ("all" or
// a channel name).
func (ix *Index) Suppress(tenantID string, kind consent.IdentifierKind, bi BlindIndex, scope string) {
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
	t := ix.tenantForWrite(tenantID)
	t.mu.Lock()
	t.suppressed[supKey{idKey: idKey{kind: k, bi: bi}, scope: sc}] = struct{}{}
	t.mu.Unlock()
}
