package index

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/oklog/ulid/v2"
)

// Load fills the index from the store and returns the highest consent event
// sequence it saw, from where a change feed continues. Contacts and consent
// states are read in two read transactions at once (each a consistent
// snapshot; WAL and MVCC let them run side by side), which halves start-up
// time on two cores. Anything committed while Load runs is at a higher
// sequence and reaches the index through the change feed; a state that is
// read twice is harmless, because states only move forward. Load does not
// mark the index ready: the caller does, once everything is in place.
func (ix *Index) Load(ctx context.Context, s store.Store) (maxSeq int64, err error) {
	var wg sync.WaitGroup
	var contactsErr, statesErr error
	wg.Add(2)
	go func() {
		defer wg.Done()
		contactsErr = s.Read(ctx, func(tx store.Tx) error { return ix.loadContacts(ctx, tx) })
	}()
	go func() {
		defer wg.Done()
		statesErr = s.Read(ctx, func(tx store.Tx) error {
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
	}()
	wg.Wait()
	return maxSeq, errors.Join(contactsErr, statesErr)
}

func (ix *Index) loadContacts(ctx context.Context, tx store.Tx) error {
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
		ix.AddIdentifier(x.TenantID, id, Identifier{Kind: x.Kind, BlindIndex: x.BlindIndex})
		return nil
	}); err != nil {
		return err
	}
	return tx.ScanSuppressions(ctx, func(s *store.Suppression) error {
		ix.Suppress(s.TenantID, s.Kind, s.BlindIndex, s.Scope)
		return nil
	})
}

// ApplyEvent applies a stored consent event (from the change feed).
func (ix *Index) ApplyEvent(e *store.ConsentEvent) error {
	id, err := ulid.ParseStrict(e.ContactID)
	if err != nil {
		return fmt.Errorf("index: contact id %q: %w", e.ContactID, err)
	}
	if e.Status == StatusErased { // an erasure by another process (erase.go)
		ix.EraseContact(e.TenantID, id)
		return nil
	}
	if _, ok := channelCode(e.Channel); !ok {
		return fmt.Errorf("index: event %s: %w", e.ID, consent.ErrUnknownChannel)
	}
	ix.ApplyConsent(e.TenantID, id, e.Purpose, e.Channel, e.State())
	return nil
}
