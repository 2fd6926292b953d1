package storetest

import (
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/store"
)

// testChangesSince: purposes and contacts changed at or after a time are
// returned oldest first, with the contact's identifiers, and no others.
func testChangesSince(t *testing.T, s store.Store) {
	tn := mkTenant(t, s)
	write(t, s, func(tx store.Tx) error { return tx.CreatePurpose(ctx, tn.ID, mkPurpose("early"), t0) })
	write(t, s, func(tx store.Tx) error { return tx.CreatePurpose(ctx, tn.ID, mkPurpose("late"), t0.Add(time.Hour)) })
	old := mkContact(t, s, tn.ID, "bi-old") // created at t0
	c := &store.Contact{ID: id("c"), TenantID: tn.ID, WrappedKey: []byte("wk"), CreatedAt: t0, UpdatedAt: t0.Add(2 * time.Hour)}
	write(t, s, func(tx store.Tx) error {
		return tx.CreateContact(ctx, c, []store.Identifier{{Kind: "phone", BlindIndex: []byte("bi-new"), Sealed: []byte("x")}})
	})
	read(t, s, func(tx store.Tx) error {
		ps, err := tx.PurposesUpdatedSince(ctx, t0.Add(time.Minute), 10)
		if err != nil {
			return err
		}
		if len(ps) != 1 || ps[0].Purpose.Key != "late" || ps[0].TenantID != tn.ID || !ps[0].UpdatedAt.Equal(t0.Add(time.Hour)) {
			t.Errorf("PurposesUpdatedSince = %+v", ps)
		}
		all, err := tx.PurposesUpdatedSince(ctx, t0, 1)
		if err != nil || len(all) != 1 || all[0].Purpose.Key != "early" {
			t.Errorf("PurposesUpdatedSince limit 1 = %+v, %v", all, err)
		}
		cs, err := tx.ContactsUpdatedSince(ctx, t0.Add(time.Minute), 10)
		if err != nil {
			return err
		}
		if len(cs) != 1 || cs[0].Contact.ID != c.ID || len(cs[0].Identifiers) != 1 || string(cs[0].Identifiers[0].BlindIndex) != "bi-new" {
			t.Errorf("ContactsUpdatedSince = %+v", cs)
		}
		cs, err = tx.ContactsUpdatedSince(ctx, t0, 10)
		if err != nil || len(cs) != 2 || cs[0].Contact.ID != old.ID {
			t.Errorf("ContactsUpdatedSince from t0 = %d, %v", len(cs), err)
		}
		return nil
	})
}
