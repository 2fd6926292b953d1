package index

import (
	"time"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/vault"
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
	if len(t.pending) > 0 {
		return consent.Decision{Reason: consent.ReasonUnavailable}
	}
	ce := t.contacts[id]
	if ce == nil {
		return consent.Decision{Reason: consent.ReasonUnknownContact, Basis: p.Basis}
	}
	return t.decide(p, id, ce, ch, now)
}

// DecideIdentifier decides for an identifier given by its blind index at
// the tenant's newest versions (vault.Forms). It also returns the contact
// the identifier belongs to (zero when none).
func (ix *Index) DecideIdentifier(tenantID string, kind consent.IdentifierKind, f vault.Forms, purpose string, ch consent.Channel, now time.Time) (consent.Decision, ulid.ULID) {
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
	return t.decideHash(kc, func(v int) (BlindIndex, bool) {
		if h, ok := f.At(v); ok {
			return h, true
		}
		// The caller's keys predate the chain adopted since: move the
		// newest form it has forward rather than fail.
		top, h := f.Newest()
		if t.chain == nil || top > v {
			return h, false
		}
		h, err := t.chain.ForwardHash(top, h, v)
		return h, err == nil
	}, purpose, ch, now)
}

// DecideStored decides for an identifier given by a stored form of its
// blind index, of any version (a queued message's recipient).
func (ix *Index) DecideStored(tenantID string, kind consent.IdentifierKind, form []byte, purpose string, ch consent.Channel, now time.Time) consent.Decision {
	if !ix.ready.Load() {
		return consent.Decision{Reason: consent.ReasonUnavailable}
	}
	t := ix.tenant(tenantID)
	kc, ok := kindCode(kind)
	if t == nil || !ok {
		return consent.Decision{Reason: consent.ReasonPurposeChannelNotAllowed}
	}
	for {
		ver, hs, err := ix.hashes(tenantID, t, [][]byte{form})
		if err != nil {
			return consent.Decision{Reason: consent.ReasonUnavailable}
		}
		t.mu.RLock()
		if t.ver != ver {
			t.mu.RUnlock()
			continue
		}
		d, _ := t.decideHash(kc, func(v int) (BlindIndex, bool) { return hs[0], v == ver }, purpose, ch, now)
		t.mu.RUnlock()
		return d
	}
}

// decideHash decides for the identifier whose hash at version v at(v)
// gives; callers hold t.mu for reading. No hash at the tenant's version,
// or updates waiting for a newer key, fail closed.
func (t *tenant) decideHash(kc uint8, at func(int) (BlindIndex, bool), purpose string, ch consent.Channel, now time.Time) (consent.Decision, ulid.ULID) {
	p := t.purposes[purpose]
	if p == nil || !p.Allows(ch) {
		return consent.Decision{Reason: consent.ReasonPurposeChannelNotAllowed}, ulid.ULID{}
	}
	bi, ok := at(t.ver)
	if !ok || len(t.pending) > 0 {
		return consent.Decision{Reason: consent.ReasonUnavailable}, ulid.ULID{}
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
