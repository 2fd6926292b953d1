package index

import (
	"context"
	"fmt"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/oklog/ulid/v2"
)

// Load fills the index from the store in one read transaction (one
// consistent snapshot) and returns the highest consent event sequence it
// saw, from where a change feed can continue. It does not mark the index
// ready: the caller does, once everything else is in place.
func (ix *Index) Load(ctx context.Context, s store.Store) (maxSeq int64, err error) {
	err = s.Read(ctx, func(tx store.Tx) error {
		tenants, err := tx.ListTenants(ctx)
		if err != nil {
			return err
		}
		for _, tn := range tenants {
			ps, err := tx.ListPurposes(ctx, tn.ID)
			if err != nil {
				return err
			}
			for _, p := range ps {
				ix.PutPurpose(tn.ID, p)
			}
		}
		if err := tx.ScanContacts(ctx, func(c *store.Contact) error {
			id, err := ulid.ParseStrict(c.ID)
			if err != nil {
				return fmt.Errorf("index: contact id %q: %w", c.ID, err)
			}
			ix.PutContact(c.TenantID, id, c.Restricted, nil)
			return nil
		}); err != nil {
			return err
		}
		if err := tx.ScanIdentifiers(ctx, func(x *store.Identifier) error {
			id, err := ulid.ParseStrict(x.ContactID)
			if err != nil {
				return fmt.Errorf("index: contact id %q: %w", x.ContactID, err)
			}
			var bi BlindIndex
			copy(bi[:], x.BlindIndex)
			ix.PutContact(x.TenantID, id, ix.restricted(x.TenantID, id), []Identifier{{Kind: x.Kind, BlindIndex: bi}})
			return nil
		}); err != nil {
			return err
		}
		if err := tx.ScanSuppressions(ctx, func(s *store.Suppression) error {
			var bi BlindIndex
			copy(bi[:], s.BlindIndex)
			ix.Suppress(s.TenantID, s.Kind, bi, s.Scope)
			return nil
		}); err != nil {
			return err
		}
		return tx.ScanCurrentConsents(ctx, func(e *store.ConsentEvent) error {
			id, err := ulid.ParseStrict(e.ContactID)
			if err != nil {
				return fmt.Errorf("index: contact id %q: %w", e.ContactID, err)
			}
			ix.ApplyConsent(e.TenantID, id, e.Purpose, e.Channel, e.State())
			maxSeq = max(maxSeq, e.Seq)
			return nil
		})
	})
	return maxSeq, err
}

func (ix *Index) restricted(tenantID string, id ulid.ULID) bool {
	t := ix.tenant(tenantID)
	if t == nil {
		return false
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	if ce := t.contacts[id]; ce != nil {
		return ce.restricted
	}
	return false
}

// ApplyEvent applies a stored consent event (from the change feed).
func (ix *Index) ApplyEvent(e *store.ConsentEvent) error {
	id, err := ulid.ParseStrict(e.ContactID)
	if err != nil {
		return fmt.Errorf("index: contact id %q: %w", e.ContactID, err)
	}
	if _, ok := channelCode(e.Channel); !ok {
		return fmt.Errorf("index: event %s: %w", e.ID, consent.ErrUnknownChannel)
	}
	ix.ApplyConsent(e.TenantID, id, e.Purpose, e.Channel, e.State())
	return nil
}
