package storetest

import (
	"errors"
	"reflect"
	"testing"

	"github.com/consentgate/consentgate/internal/store"
)

// testCreateMessages: many messages at once are created as CreateMessage
// would create each on its own; the others get ErrConflict (a taken id or
// idempotency key, also within the call) or their own error, and the
// transaction goes on.
func testCreateMessages(t *testing.T, s store.Store) {
	tn := mkTenant(t, s)
	msg := func(idem string) *store.Message {
		m := mkMessage(tn.ID, "c1")
		m.IdempotencyKey = idem
		return m
	}
	first := msg("k1")
	write(t, s, func(tx store.Tx) error { return tx.CreateMessage(ctx, first) })
	plain := msg("")
	plain.ContactID, plain.WrappedKey = "", []byte("wrapped")
	ms := []*store.Message{plain, msg("k1"), msg("k2"), msg("k2"), msg(""), msg("")}
	ms[2].RequestHash = []byte("rh")
	ms[5].ID = first.ID
	want := []error{nil, store.ErrConflict, nil, store.ErrConflict, nil, store.ErrConflict}
	var errs []error
	write(t, s, func(tx store.Tx) error {
		errs = tx.CreateMessages(ctx, ms)
		return nil
	})
	if len(errs) != len(ms) {
		t.Fatalf("%d errors for %d messages", len(errs), len(ms))
	}
	for i := range ms {
		if !errors.Is(errs[i], want[i]) || (want[i] == nil) != (errs[i] == nil) {
			t.Errorf("message %d: %v, want %v", i, errs[i], want[i])
		}
	}
	read(t, s, func(tx store.Tx) error {
		for _, i := range []int{0, 2, 4} {
			got, err := tx.GetMessage(ctx, tn.ID, ms[i].ID)
			if err != nil {
				t.Errorf("message %d: %v", i, err)
				continue
			}
			if !reflect.DeepEqual(got, ms[i]) {
				t.Errorf("message %d read back as\n%+v\nwant\n%+v", i, got, ms[i])
			}
		}
		return nil
	})

	// A message that cannot be created at all (no such tenant) fails
	// alone, and the transaction goes on.
	bad, good := mkMessage("no-such-tenant", "c1"), msg("k3")
	write(t, s, func(tx store.Tx) error {
		errs = tx.CreateMessages(ctx, []*store.Message{bad, good})
		return tx.CreatePurpose(ctx, tn.ID, mkPurpose("after"), t0)
	})
	if errs[0] == nil || errors.Is(errs[0], store.ErrConflict) || errs[1] != nil {
		t.Errorf("errs = %v, want [an error that is not a conflict, nil]", errs)
	}
	read(t, s, func(tx store.Tx) error {
		if _, err := tx.GetMessageByIdempotencyKey(ctx, tn.ID, "k3"); err != nil {
			t.Errorf("the good message: %v", err)
		}
		ps, err := tx.ListPurposes(ctx, tn.ID)
		if err != nil || len(ps) != 1 || ps[0].Key != "after" {
			t.Errorf("purposes = %v, %v: the transaction must go on", ps, err)
		}
		return nil
	})
	// Nothing to create is no error.
	write(t, s, func(tx store.Tx) error {
		if errs := tx.CreateMessages(ctx, nil); len(errs) != 0 {
			t.Errorf("CreateMessages(nil) = %v", errs)
		}
		return nil
	})
}

// testContactKeys: the dispatcher's read of many contacts' keys returns
// the tenant's existing contacts only.
func testContactKeys(t *testing.T, s store.Store) {
	tn, other := mkTenant(t, s), mkTenant(t, s)
	a, b, c := id("c"), id("c"), id("c")
	write(t, s, func(tx store.Tx) error {
		for _, k := range []*store.Contact{{ID: a, TenantID: tn.ID, WrappedKey: []byte("ka"), CreatedAt: t0, UpdatedAt: t0},
			{ID: b, TenantID: tn.ID, WrappedKey: []byte("kb"), CreatedAt: t0, UpdatedAt: t0},
			{ID: c, TenantID: other.ID, WrappedKey: []byte("kc"), CreatedAt: t0, UpdatedAt: t0}} {
			if err := tx.CreateContact(ctx, k, nil); err != nil {
				return err
			}
		}
		return nil
	})
	read(t, s, func(tx store.Tx) error {
		got, err := tx.ContactKeys(ctx, tn.ID, []string{a, b, c, "missing"})
		if err != nil {
			return err
		}
		if want := map[string][]byte{a: []byte("ka"), b: []byte("kb")}; !reflect.DeepEqual(got, want) {
			t.Errorf("ContactKeys = %q, want %q", got, want)
		}
		got, err = tx.ContactKeys(ctx, tn.ID, nil)
		if err != nil || len(got) != 0 {
			t.Errorf("ContactKeys(none) = %q, %v", got, err)
		}
		return nil
	})
}
