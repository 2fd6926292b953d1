package index

import (
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/oklog/ulid/v2"
)

// StatusErased is the status of the marker event an erasure appends: the
// ledger records the erasure with it, and the change feed carries it to
// other processes, whose indexes then forget the contact too.
const StatusErased consent.Status = "erased"

// EraseContact forgets a contact: its identifiers, its consent states and
// its entry. Each identifier it held is put on the suppression list for
// every channel, so that the person is never messaged again even when a
// request names them by identifier. It costs purposes × channels map
// deletions, not a scan of the tenant's states.
func (ix *Index) EraseContact(tenantID string, id ulid.ULID) {
	t := ix.tenantForWrite(tenantID)
	t.wmu.Lock()
	defer t.wmu.Unlock()
	t.mu.Lock()
	defer t.mu.Unlock()
	if ce := t.contacts[id]; ce != nil {
		for k := range uint8(len(ce.ids)) {
			if ce.has&(1<<k) == 0 {
				continue
			}
			ik := idKey{kind: k, bi: ce.ids[k]}
			if t.identity[ik] == id {
				delete(t.identity, ik)
			}
			t.suppressed[supKey{idKey: ik}] = struct{}{}
		}
		delete(t.contacts, id)
	}
	for _, pid := range t.purposeIDs {
		for cc := range uint8(len(consent.Channels)) {
			delete(t.states, stateKey{contact: id, purpose: pid, channel: cc + 1})
		}
	}
}

// ReplaceIdentifiers sets a contact's identifiers to ids (rectification):
// identifiers it no longer has stop resolving to it.
func (ix *Index) ReplaceIdentifiers(tenantID string, id ulid.ULID, ids []Identifier) {
	ix.update(tenantID, formsOf(ids), func(t *tenant, hs []BlindIndex) {
		ce := t.contacts[id]
		if ce == nil {
			ce = &contactEntry{}
			t.contacts[id] = ce
		}
		for k := range uint8(len(ce.ids)) {
			if ce.has&(1<<k) != 0 {
				ik := idKey{kind: k, bi: ce.ids[k]}
				if t.identity[ik] == id {
					delete(t.identity, ik)
				}
			}
		}
		ce.has, ce.ids = 0, [3]BlindIndex{}
		t.addIdentifiers(id, ce, ids, hs)
	}, func(ix *Index) { ix.ReplaceIdentifiers(tenantID, id, ids) })
}
