package storetest

import (
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/store"
)

// testChangesSince: purposes and contacts changed at or after a change time
// are returned oldest first, with the contact's identifiers, and no others.
// Change times are on the store's clock (store.ChangesTx), which the test
// does not set: it only relies on a later write having a later time.
func testChangesSince(t *testing.T, s store.Store) {
	tn := mkTenant(t, s)
	var clock time.Time
	read(t, s, func(tx store.Tx) (err error) {
		clock, err = tx.ChangeClock(ctx)
		return err
	})
	if clock.IsZero() {
		t.Fatal("ChangeClock is zero")
	}
	write(t, s, func(tx store.Tx) error { return tx.CreatePurpose(ctx, tn.ID, mkPurpose("early"), t0) })
	old := mkContact(t, s, tn.ID, "bi-old") // updated at t0
	// The cursor a feed would hold after reading the early changes.
	var cursor time.Time
	read(t, s, func(tx store.Tx) error {
		ps, err := tx.PurposesUpdatedSince(ctx, time.Time{}, 10)
		if err != nil {
			return err
		}
		cs, err := tx.ContactsUpdatedSince(ctx, time.Time{}, 10)
		if err != nil {
			return err
		}
		if len(ps) != 1 || len(cs) != 1 || cs[0].Contact.ID != old.ID {
			t.Fatalf("changes from the start: %d purposes, %d contacts", len(ps), len(cs))
		}
		cursor = maxOf(ps[0].ChangedAt, cs[0].ChangedAt)
		return nil
	})
	time.Sleep(2 * time.Millisecond) // a later write, on any clock
	write(t, s, func(tx store.Tx) error { return tx.CreatePurpose(ctx, tn.ID, mkPurpose("late"), t0.Add(time.Hour)) })
	c := &store.Contact{ID: id("c"), TenantID: tn.ID, WrappedKey: []byte("wk"), CreatedAt: t0, UpdatedAt: t0.Add(2 * time.Hour)}
	write(t, s, func(tx store.Tx) error {
		return tx.CreateContact(ctx, c, []store.Identifier{{Kind: "phone", BlindIndex: []byte("bi-new"), Sealed: []byte("x")}})
	})
	next := cursor.Add(time.Microsecond)
	read(t, s, func(tx store.Tx) error {
		ps, err := tx.PurposesUpdatedSince(ctx, next, 10)
		if err != nil {
			return err
		}
		if len(ps) != 1 || ps[0].Purpose.Key != "late" || ps[0].TenantID != tn.ID || !ps[0].UpdatedAt.Equal(t0.Add(time.Hour)) ||
			!ps[0].ChangedAt.After(cursor) {
			t.Errorf("PurposesUpdatedSince = %+v", ps)
		}
		all, err := tx.PurposesUpdatedSince(ctx, time.Time{}, 1)
		if err != nil || len(all) != 1 || all[0].Purpose.Key != "early" {
			t.Errorf("PurposesUpdatedSince limit 1 = %+v, %v", all, err)
		}
		cs, err := tx.ContactsUpdatedSince(ctx, next, 10)
		if err != nil {
			return err
		}
		if len(cs) != 1 || cs[0].Contact.ID != c.ID || len(cs[0].Identifiers) != 1 || string(cs[0].Identifiers[0].BlindIndex) != "bi-new" ||
			!cs[0].ChangedAt.After(cursor) {
			t.Errorf("ContactsUpdatedSince = %+v", cs)
		}
		cs, err = tx.ContactsUpdatedSince(ctx, time.Time{}, 10)
		if err != nil || len(cs) != 2 || cs[0].Contact.ID != old.ID {
			t.Errorf("ContactsUpdatedSince from the start = %d, %v", len(cs), err)
		}
		return nil
	})
}

func maxOf(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
