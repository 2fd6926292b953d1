package storetest

import (
	"errors"
	"reflect"
	"sort"
	"testing"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
)

func testConsentEvents(t *testing.T, s store.Store) {
	tn := mkTenant(t, s)
	c := mkContact(t, s, tn.ID, "bi")
	e1 := mkEvent(tn.ID, c.ID, "news", consent.SMS, consent.StatusPending)
	e2 := mkEvent(tn.ID, c.ID, "news", consent.SMS, consent.StatusGranted)
	e3 := mkEvent(tn.ID, c.ID, "news", consent.Email, consent.StatusWithdrawn)
	for _, e := range []*store.ConsentEvent{e1, e2, e3} {
		write(t, s, func(tx store.Tx) error { return tx.AppendConsentEvent(ctx, e) })
	}
	if !(e1.Seq > 0 && e2.Seq > e1.Seq && e3.Seq > e2.Seq) {
		t.Fatalf("seqs not increasing: %d %d %d", e1.Seq, e2.Seq, e3.Seq)
	}
	dup := *e1
	wantErr(t, s.Write(ctx, func(tx store.Tx) error { return tx.AppendConsentEvent(ctx, &dup) }), store.ErrConflict)
	read(t, s, func(tx store.Tx) error {
		all, err := tx.ListConsentEvents(ctx, tn.ID, c.ID)
		if err != nil {
			return err
		}
		if len(all) != 3 || !reflect.DeepEqual(all[0], e1) || !reflect.DeepEqual(all[2], e3) {
			t.Errorf("ListConsentEvents = %+v", all)
		}
		cur, err := tx.CurrentConsents(ctx, tn.ID, c.ID)
		if err != nil {
			return err
		}
		if len(cur) != 2 || cur[0].ID != e3.ID || cur[1].ID != e2.ID { // ordered by purpose, channel
			t.Errorf("CurrentConsents = %+v", cur)
		}
		got, err := tx.GetConsentEvent(ctx, tn.ID, e2.ID)
		if err != nil || !reflect.DeepEqual(got, e2) {
			t.Errorf("GetConsentEvent = %+v, %v", got, err)
		}
		var scanned []string
		if err := tx.ScanCurrentConsents(ctx, func(e *store.ConsentEvent) error {
			scanned = append(scanned, e.ID)
			if e.Status == "" || e.TenantID != tn.ID {
				t.Errorf("scanned event incomplete: %+v", e)
			}
			return nil
		}); err != nil {
			return err
		}
		sort.Strings(scanned)
		if want := []string{e2.ID, e3.ID}; !reflect.DeepEqual(scanned, want) { // ids are ULIDs: sorted = created order
			t.Errorf("ScanCurrentConsents = %v", scanned)
		}
		after, err := tx.ConsentEventsAfter(ctx, e1.Seq, 10)
		if err != nil {
			return err
		}
		if len(after) != 2 || after[0].ID != e2.ID {
			t.Errorf("ConsentEventsAfter = %+v", after)
		}
		lim, err := tx.ConsentEventsAfter(ctx, 0, 1)
		if err != nil || len(lim) != 1 || lim[0].ID != e1.ID {
			t.Errorf("ConsentEventsAfter limit = %+v, %v", lim, err)
		}
		stop := errors.New("stop")
		if err := tx.ScanCurrentConsents(ctx, func(*store.ConsentEvent) error { return stop }); !errors.Is(err, stop) {
			t.Errorf("scan did not stop at the callback's error: %v", err)
		}
		return nil
	})
}

// testProjectionKeepsNewest: the current state only ever moves forward, so
// the projection cannot be rolled back by a late writer.
func testProjectionKeepsNewest(t *testing.T, s store.Store) {
	tn := mkTenant(t, s)
	c := mkContact(t, s, tn.ID, "bi")
	for i := 0; i < 20; i++ {
		st := consent.StatusGranted
		if i%2 == 1 {
			st = consent.StatusWithdrawn
		}
		e := mkEvent(tn.ID, c.ID, "offers", consent.SMS, st)
		write(t, s, func(tx store.Tx) error { return tx.AppendConsentEvent(ctx, e) })
	}
	read(t, s, func(tx store.Tx) error {
		cur, err := tx.CurrentConsents(ctx, tn.ID, c.ID)
		if err != nil {
			return err
		}
		if len(cur) != 1 || cur[0].Status != consent.StatusWithdrawn {
			t.Errorf("current = %+v, want the last (withdrawn) event", cur)
		}
		return nil
	})
}

func testSuppressions(t *testing.T, s store.Store) {
	tn := mkTenant(t, s)
	sup := &store.Suppression{TenantID: tn.ID, BlindIndex: []byte("bi"), Kind: consent.KindPhone, Scope: "all", Reason: "stopall", CreatedAt: t0}
	write(t, s, func(tx store.Tx) error { return tx.AddSuppression(ctx, sup) })
	// Adding the same suppression again is not an error: STOPALL twice is
	// still one suppression.
	write(t, s, func(tx store.Tx) error { return tx.AddSuppression(ctx, sup) })
	read(t, s, func(tx store.Tx) error {
		var got []*store.Suppression
		err := tx.ScanSuppressions(ctx, func(s *store.Suppression) error { got = append(got, s); return nil })
		if len(got) != 1 || !reflect.DeepEqual(got[0], sup) {
			t.Errorf("suppressions = %+v", got)
		}
		return err
	})
}

func testWriteRollsBack(t *testing.T, s store.Store) {
	tn := mkTenant(t, s)
	boom := errors.New("boom")
	err := s.Write(ctx, func(tx store.Tx) error {
		if err := tx.CreatePurpose(ctx, tn.ID, mkPurpose("gone"), t0); err != nil {
			return err
		}
		return boom
	})
	wantErr(t, err, boom)
	read(t, s, func(tx store.Tx) error {
		_, err := tx.GetPurpose(ctx, tn.ID, "gone")
		wantErr(t, err, store.ErrNotFound)
		return nil
	})
}

func testUnit(t *testing.T, s store.Store) {
	tn := mkTenant(t, s)
	boom := errors.New("boom")
	write(t, s, func(tx store.Tx) error {
		if err := tx.Unit(ctx, func(tx store.Tx) error { return tx.CreatePurpose(ctx, tn.ID, mkPurpose("kept"), t0) }); err != nil {
			return err
		}
		err := tx.Unit(ctx, func(tx store.Tx) error {
			if err := tx.CreatePurpose(ctx, tn.ID, mkPurpose("undone"), t0); err != nil {
				return err
			}
			return boom
		})
		wantErr(t, err, boom)
		// A unit that fails on a constraint leaves the transaction usable.
		err = tx.Unit(ctx, func(tx store.Tx) error { return tx.CreatePurpose(ctx, tn.ID, mkPurpose("kept"), t0) })
		wantErr(t, err, store.ErrConflict)
		return tx.Unit(ctx, func(tx store.Tx) error { return tx.CreatePurpose(ctx, tn.ID, mkPurpose("after"), t0) })
	})
	read(t, s, func(tx store.Tx) error {
		list, err := tx.ListPurposes(ctx, tn.ID)
		if err != nil {
			return err
		}
		var keys []string
		for _, p := range list {
			keys = append(keys, p.Key)
		}
		if !reflect.DeepEqual(keys, []string{"after", "kept"}) {
			t.Errorf("purposes after units = %v", keys)
		}
		return nil
	})
}

// testTenantIsolation: every tenant-scoped read ignores another tenant's
// rows, even when the caller knows their ids.
func testTenantIsolation(t *testing.T, s store.Store) {
	a, b := mkTenant(t, s), mkTenant(t, s)
	write(t, s, func(tx store.Tx) error { return tx.CreatePurpose(ctx, a.ID, mkPurpose("news"), t0) })
	ca := mkContact(t, s, a.ID, "same-bi")
	// The same blind index in another tenant is another person's.
	cb := mkContact(t, s, b.ID, "same-bi")
	e := mkEvent(a.ID, ca.ID, "news", consent.SMS, consent.StatusGranted)
	write(t, s, func(tx store.Tx) error { return tx.AppendConsentEvent(ctx, e) })
	read(t, s, func(tx store.Tx) error {
		_, err := tx.GetPurpose(ctx, b.ID, "news")
		wantErr(t, err, store.ErrNotFound)
		_, _, err = tx.GetContact(ctx, b.ID, ca.ID)
		wantErr(t, err, store.ErrNotFound)
		found, err := tx.FindContactID(ctx, b.ID, consent.KindPhone, []byte("same-bi"))
		if err != nil || found != cb.ID {
			t.Errorf("FindContactID in tenant b = %q, %v", found, err)
		}
		_, err = tx.GetConsentEvent(ctx, b.ID, e.ID)
		wantErr(t, err, store.ErrNotFound)
		evs, err := tx.ListConsentEvents(ctx, b.ID, ca.ID)
		if err != nil || len(evs) != 0 {
			t.Errorf("ListConsentEvents across tenants = %d, %v", len(evs), err)
		}
		cur, err := tx.CurrentConsents(ctx, b.ID, ca.ID)
		if err != nil || len(cur) != 0 {
			t.Errorf("CurrentConsents across tenants = %d, %v", len(cur), err)
		}
		keys, err := tx.ListAPIKeys(ctx, b.ID)
		if err != nil || len(keys) != 0 {
			t.Errorf("ListAPIKeys = %d, %v", len(keys), err)
		}
		return nil
	})
	wantErr(t, s.Write(ctx, func(tx store.Tx) error { return tx.UpdatePurpose(ctx, b.ID, mkPurpose("news"), t0) }), store.ErrNotFound)
}
