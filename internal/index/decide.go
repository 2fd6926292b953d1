package index

import (
	"time"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/oklog/ulid/v2"
)

// Purpose returns the tenant's purpose with key, or nil.
func (ix *Index) Purpose(tenantID, key string) *consent.Purpose {
	t := ix.tenant(tenantID)
	if t == nil {
		return nil
	}
	t.mu.RLock()
	p := t.purposes[key]
	t.mu.RUnlock()
	return p
}

// HasContact reports whether the tenant has the contact.
func (ix *Index) HasContact(tenantID string, id ulid.ULID) bool {
	t := ix.tenant(tenantID)
	if t == nil {
		return false
	}
	t.mu.RLock()
	_, ok := t.contacts[id]
	t.mu.RUnlock()
	return ok
}

// DecideContact decides for a contact given by id. An id the tenant does not
// have is refused with reason unknown_contact whatever the basis: it is a
// reference to a record that does not exist.
func (ix *Index) DecideContact(tenantID string, id ulid.ULID, purpose string, ch consent.Channel, now time.Time) consent.Decision {
	if !ix.ready.Load() {
		return consent.Decision{Reason: consent.ReasonUnavailable}
	}
	t := ix.tenant(tenantID)
	if t == nil {
		return consent.Decision{Reason: consent.ReasonPurposeChannelNotAllowed}
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	p := t.purposes[purpose]
	if p == nil || !p.Allows(ch) {
		return consent.Decision{Reason: consent.ReasonPurposeChannelNotAllowed}
	}
	ce := t.contacts[id]
	if ce == nil {
		return consent.Decision{Reason: consent.ReasonUnknownContact, Basis: p.Basis}
	}
	return t.decide(p, id, ce, ch, now)
}

// DecideIdentifier decides for an identifier given by its blind index. It
// also returns the contact the identifier belongs to (zero when none).
func (ix *Index) DecideIdentifier(tenantID string, kind consent.IdentifierKind, bi BlindIndex, purpose string, ch consent.Channel, now time.Time) (consent.Decision, ulid.ULID) {
	if !ix.ready.Load() {
		return consent.Decision{Reason: consent.ReasonUnavailable}, ulid.ULID{}
	}
	t := ix.tenant(tenantID)
	kc, ok := kindCode(kind)
	if t == nil || !ok {
		return consent.Decision{Reason: consent.ReasonPurposeChannelNotAllowed}, ulid.ULID{}
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	p := t.purposes[purpose]
	if p == nil || !p.Allows(ch) {
		return consent.Decision{Reason: consent.ReasonPurposeChannelNotAllowed}, ulid.ULID{}
	}
	id, known := t.identity[idKey{kind: kc, bi: bi}]
	if !known {
		sub := consent.Subject{Suppressed: t.isSuppressed(kc, bi, ch)}
		return consent.Decide(p, ch, sub, now), ulid.ULID{}
	}
	return t.decide(p, id, t.contacts[id], ch, now), id
}

// decide runs the rule for a known contact; callers hold t.mu for reading.
func (t *tenant) decide(p *consent.Purpose, id ulid.ULID, ce *contactEntry, ch consent.Channel, now time.Time) consent.Decision {
	sub := consent.Subject{Known: true}
	if ce != nil {
		sub.Restricted = ce.restricted
		if kc, ok := kindCode(ch.IdentifierKind()); ok && ce.has&(1<<kc) != 0 {
			sub.Suppressed = t.isSuppressed(kc, ce.ids[kc], ch)
		}
	}
	cc, _ := channelCode(ch)
	if pid, ok := t.purposeIDs[p.Key]; ok {
		if e, ok := t.states[stateKey{contact: id, purpose: pid, channel: cc}]; ok {
			sub.State = consent.State{Status: statusCodes[e.status], Confirmed: e.confirm, EventSeq: e.seq}
			if e.expires != 0 {
				sub.State.ExpiresAt = time.Unix(0, e.expires)
			}
			if e.event != (ulid.ULID{}) {
				sub.State.EventID = e.event.String()
			}
		}
	}
	return consent.Decide(p, ch, sub, now)
}

func (t *tenant) isSuppressed(kc uint8, bi BlindIndex, ch consent.Channel) bool {
	if len(t.suppressed) == 0 {
		return false
	}
	k := supKey{idKey: idKey{kind: kc, bi: bi}}
	if _, ok := t.suppressed[k]; ok {
		return true
	}
	k.scope, _ = channelCode(ch)
	_, ok := t.suppressed[k]
	return ok
}

// Stats counts what the index holds, for metrics and sizing.
type Stats struct{ Tenants, Contacts, Identifiers, States, Suppressions int }

// Stats returns the current counts.
func (ix *Index) Stats() Stats {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	s := Stats{Tenants: len(ix.tenants)}
	for _, t := range ix.tenants {
		t.mu.RLock()
		s.Contacts += len(t.contacts)
		s.Identifiers += len(t.identity)
		s.States += len(t.states)
		s.Suppressions += len(t.suppressed)
		t.mu.RUnlock()
	}
	return s
}
