package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
)

// testStatusForwards: pending status forwards come back whole when due,
// oldest first, are retried later, are deleted once delivered, and a tenant
// can neither retry nor delete another tenant's.
func testStatusForwards(t *testing.T, s store.Store) {
	a, b := mkTenant(t, s), mkTenant(t, s)
	f1 := &store.StatusForward{ID: id("sf"), TenantID: a.ID, MessageID: "m1", Status: store.MessageSent, Channel: consent.SMS,
		Purpose: "offers", ProviderRef: "prov-1", At: t0, NextAttempt: t0, CreatedAt: t0}
	f2 := &store.StatusForward{ID: id("sf"), TenantID: a.ID, MessageID: "m1", Status: store.MessageFailed, Channel: consent.SMS,
		Purpose: "offers", ErrorCode: "30003", At: t0.Add(time.Second), NextAttempt: t0.Add(time.Minute), CreatedAt: t0}
	f3 := &store.StatusForward{ID: id("sf"), TenantID: b.ID, MessageID: "m9", Status: store.MessageBlocked, Channel: consent.Email,
		At: t0, NextAttempt: t0.Add(30 * time.Second), CreatedAt: t0}
	write(t, s, func(tx store.Tx) error {
		for _, f := range []*store.StatusForward{f1, f2, f3} {
			if err := tx.CreateStatusForward(ctx, f); err != nil {
				return err
			}
		}
		return nil
	})
	due := func(at time.Time) (fs []*store.StatusForward) {
		read(t, s, func(tx store.Tx) (err error) {
			fs, err = tx.DueStatusForwards(ctx, at, 10)
			return err
		})
		return fs
	}
	if got := due(t0); len(got) != 1 || !reflect.DeepEqual(got[0], f1) {
		t.Fatalf("due at t0 = %+v", got)
	}
	if got := due(t0.Add(time.Hour)); len(got) != 3 || got[0].ID != f1.ID || got[1].ID != f3.ID || got[2].ID != f2.ID {
		t.Fatalf("due later = %+v", got)
	}
	wantErr(t, s.Write(ctx, func(tx store.Tx) error {
		return tx.RetryStatusForward(ctx, b.ID, f1.ID, 1, t0, "")
	}), store.ErrNotFound)
	wantErr(t, s.Write(ctx, func(tx store.Tx) error { return tx.DeleteStatusForward(ctx, b.ID, f1.ID) }), store.ErrNotFound)
	write(t, s, func(tx store.Tx) error {
		return tx.RetryStatusForward(ctx, a.ID, f1.ID, 1, t0.Add(2*time.Minute), "status 503")
	})
	if got := due(t0.Add(time.Minute)); len(got) != 2 || got[0].ID != f3.ID || got[1].ID != f2.ID {
		t.Fatalf("due after retry = %+v", got)
	}
	write(t, s, func(tx store.Tx) error { return tx.DeleteStatusForward(ctx, a.ID, f2.ID) })
	wantErr(t, s.Write(ctx, func(tx store.Tx) error { return tx.DeleteStatusForward(ctx, a.ID, f2.ID) }), store.ErrNotFound)
	got := due(t0.Add(time.Hour))
	if len(got) != 2 || got[1].ID != f1.ID || got[1].Attempts != 1 || got[1].LastError != "status 503" ||
		!got[1].NextAttempt.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("after retry and delete = %+v", got)
	}
}
