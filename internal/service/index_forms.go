package service

import (
	"bytes"
	"context"
	"errors"
	"slices"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/vault"
)

// Every value keyed with a tenant's index key is computed as vault.Forms:
// written in the keyring's write version, and looked up in each version the
// keyring reads (two while a rotation of the index key runs, one
// otherwise). These helpers put that rule in one place.

// forms returns a value's blind index forms under the tenant's keys.
func (tk *tenantKeys) forms(kind, value string) vault.Forms { return tk.chain.Forms(kind, value) }

// firstFound returns what find finds by the first of forms that finds
// anything (or fails otherwise); store.ErrNotFound when none does.
func firstFound[T any](forms [][]byte, find func(form []byte) (T, error)) (T, error) {
	for _, form := range forms {
		v, err := find(form)
		if !errors.Is(err, store.ErrNotFound) {
			return v, err
		}
	}
	var none T
	return none, store.ErrNotFound
}

// findContactID finds the contact an identifier belongs to by each form
// looked up; store.ErrNotFound when none has it.
func findContactID(ctx context.Context, tx store.Tx, tenantID string, kind consent.IdentifierKind, f vault.Forms) (string, error) {
	return firstFound(f.Lookups(), func(form []byte) (string, error) { return tx.FindContactID(ctx, tenantID, kind, form) })
}

// claimKey is what an insert of a value locks while the index key rotates:
// its kind and its form in the oldest version looked up, which every
// process computes alike whichever version it writes.
func claimKey(tk *tenantKeys, kind string, f vault.Forms) []byte {
	low, _ := f.At(tk.chain.Low())
	return append([]byte(kind+"|"), low[:]...)
}

// claimIdentifiers runs in the transaction that stores identifiers, before
// it does. While the index key rotates, one identifier can be stored in two
// forms, so the unique index alone no longer refuses it twice: each
// identifier is locked (on PostgreSQL, where processes insert at once) by
// a form every process computes alike, and looked up in the form not being
// written. An identifier another contact holds is store.ErrConflict; owner
// is the contact being written, whose own identifiers are no conflict.
func claimIdentifiers(ctx context.Context, tx store.Tx, tk *tenantKeys, tenantID, owner string, ns []normalized) error {
	if !tk.chain.Rotating() {
		return nil
	}
	// Locks in one order, so that two transactions claiming the same
	// identifiers wait for each other instead of deadlocking.
	keys := make([][]byte, len(ns))
	for i, n := range ns {
		keys[i] = claimKey(tk, string(n.kind), n.forms)
	}
	slices.SortFunc(keys, bytes.Compare)
	for _, k := range keys {
		if err := tx.LockBlindIndex(ctx, tenantID, k); err != nil {
			return err
		}
	}
	for _, n := range ns {
		id, err := firstFound(n.forms.Lookups()[1:], func(form []byte) (string, error) {
			return tx.FindContactID(ctx, tenantID, n.kind, form)
		})
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return err
		case id != owner:
			return store.ErrConflict
		}
	}
	return nil
}

// TenantIndexChain returns a tenant's current index key chain: the
// decision index asks for it when it meets a form of a version it does not
// know yet (index.KeySource).
func (s *Service) TenantIndexChain(ctx context.Context, tenantID string) (*vault.IndexChain, error) {
	tk, err := s.tenantKeys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	return s.recheckTenantKeys(ctx, tk, tenantID).chain, nil
}
