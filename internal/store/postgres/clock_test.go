package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/postgres/pgtest"
	"github.com/oklog/ulid/v2"
)

// TestChangeTimesIgnoreNodeClocks: the change feed's cursor follows the
// database's clock, so a change written by a node whose clock is an hour
// behind (its updated_at in the past) is still read by a feed whose cursor
// has passed that hour, and one written by a node an hour ahead does not
// push the cursor past changes that come after it. A key rotation, which
// changes no decision, is not a change for the feed.
func TestChangeTimesIgnoreNodeClocks(t *testing.T) {
	db := pgtest.Open(t)
	ctx := context.Background()
	now := time.Now()
	tn := &store.Tenant{ID: ulid.Make().String(), Name: "clock", WrappedKey: []byte{1}, CreatedAt: now}
	mk := func(updated time.Time) *store.Contact {
		c := &store.Contact{ID: ulid.Make().String(), TenantID: tn.ID, WrappedKey: []byte("wk"), CreatedAt: updated, UpdatedAt: updated}
		if err := db.Write(ctx, func(tx store.Tx) error { return tx.CreateContact(ctx, c, nil) }); err != nil {
			t.Fatal(err)
		}
		return c
	}
	since := func(at time.Time) (out []store.ContactChange) {
		if err := db.Read(ctx, func(tx store.Tx) (err error) {
			out, err = tx.ContactsUpdatedSince(ctx, at, 100)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if err := db.Write(ctx, func(tx store.Tx) error { return tx.CreateTenant(ctx, tn) }); err != nil {
		t.Fatal(err)
	}
	ahead := mk(now.Add(time.Hour)) // a node an hour ahead
	cs := since(time.Time{})
	if len(cs) != 1 || cs[0].Contact.ID != ahead.ID {
		t.Fatalf("changes = %+v", cs)
	}
	cursor := cs[0].ChangedAt
	if d := cursor.Sub(now); d < -time.Minute || d > time.Minute {
		t.Fatalf("change time %v is not the database's clock (now %v)", cursor, now)
	}
	time.Sleep(2 * time.Millisecond)
	behind := mk(now.Add(-time.Hour)) // a node an hour behind, writing later
	cs = since(cursor.Add(time.Microsecond))
	if len(cs) != 1 || cs[0].Contact.ID != behind.ID || !cs[0].Contact.UpdatedAt.Equal(behind.UpdatedAt.Truncate(time.Microsecond)) {
		t.Fatalf("a change from a lagging node after the cursor: %+v", cs)
	}
	cursor = cs[0].ChangedAt
	// A restriction from the lagging node moves the change time forward.
	time.Sleep(2 * time.Millisecond)
	if err := db.Write(ctx, func(tx store.Tx) error {
		return tx.SetRestricted(ctx, tn.ID, ahead.ID, true, now.Add(-2*time.Hour))
	}); err != nil {
		t.Fatal(err)
	}
	cs = since(cursor.Add(time.Microsecond))
	if len(cs) != 1 || cs[0].Contact.ID != ahead.ID || !cs[0].Contact.Restricted {
		t.Fatalf("a restriction from a lagging node: %+v", cs)
	}
	cursor = cs[0].ChangedAt
	// A rewrapped key is not a change the feed carries.
	if err := db.Write(ctx, func(tx store.Tx) error { return tx.SetContactKey(ctx, tn.ID, behind.ID, []byte("wk2")) }); err != nil {
		t.Fatal(err)
	}
	if cs = since(cursor.Add(time.Microsecond)); len(cs) != 0 {
		t.Fatalf("a key rotation showed as a change: %+v", cs)
	}
}
