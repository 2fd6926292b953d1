package storetest

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/audit"
	"github.com/consentgate/consentgate/internal/store"
)

// testAccess holds the conformance cases of store.AccessStore: key scopes,
// users, the audit trail and its chain bookkeeping. They share one store;
// the chain case runs first because the chain is installation-wide and it
// expects none yet.
func testAccess(t *testing.T, s store.Store) {
	for _, c := range []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"AuditChainBookkeeping", testAuditChain},
		{"KeyScopes", testKeyScopes},
		{"Users", testUsers},
		{"AuditAppendAndList", testAuditList},
		{"AuditUnitRollsBack", testAuditUnit},
	} {
		t.Run(c.name, func(t *testing.T) { c.fn(t, s) })
	}
}

func testKeyScopes(t *testing.T, s store.Store) {
	tn, other := mkTenant(t, s), mkTenant(t, s)
	k := &store.APIKey{ID: id("k"), TenantID: tn.ID, Role: "support", Hash: bytes.Repeat([]byte{3}, 32), Hint: "cg_x", CreatedAt: t0}
	plain := &store.APIKey{ID: id("k"), TenantID: tn.ID, Role: "owner", Hash: bytes.Repeat([]byte{4}, 32), Hint: "cg_y", CreatedAt: t0}
	write(t, s, func(tx store.Tx) error {
		if err := tx.CreateAPIKey(ctx, k); err != nil {
			return err
		}
		if err := tx.CreateAPIKey(ctx, plain); err != nil {
			return err
		}
		return tx.SetAPIKeyScopes(ctx, tn.ID, k.ID, []string{"consents:read", "contacts:read"})
	})
	wantErr(t, s.Write(ctx, func(tx store.Tx) error { return tx.SetAPIKeyScopes(ctx, other.ID, k.ID, []string{"x"}) }), store.ErrNotFound)
	read(t, s, func(tx store.Tx) error {
		sc, err := tx.APIKeyScopes(ctx, tn.ID, k.ID)
		if err != nil || !reflect.DeepEqual(sc, []string{"consents:read", "contacts:read"}) {
			t.Errorf("APIKeyScopes = %v, %v", sc, err)
		}
		if sc, err := tx.APIKeyScopes(ctx, tn.ID, plain.ID); err != nil || len(sc) != 0 {
			t.Errorf("APIKeyScopes(unscoped) = %v, %v", sc, err)
		}
		_, err = tx.APIKeyScopes(ctx, other.ID, k.ID)
		wantErr(t, err, store.ErrNotFound)
		all, err := tx.ListAPIKeyScopes(ctx, tn.ID)
		if err != nil || len(all) != 1 || len(all[k.ID]) != 2 {
			t.Errorf("ListAPIKeyScopes = %v, %v", all, err)
		}
		got, err := tx.GetAPIKey(ctx, tn.ID, k.ID)
		if err != nil || !reflect.DeepEqual(got, k) {
			t.Errorf("GetAPIKey = %+v, %v", got, err)
		}
		_, err = tx.GetAPIKey(ctx, other.ID, k.ID)
		wantErr(t, err, store.ErrNotFound)
		return nil
	})
}

func testUsers(t *testing.T, s store.Store) {
	tn, other := mkTenant(t, s), mkTenant(t, s)
	u := &store.User{ID: id("u"), TenantID: tn.ID, Role: "compliance", EmailSealed: []byte("sealed"),
		EmailIndex: []byte("bi-1"), PasswordHash: "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA", CreatedAt: t0}
	write(t, s, func(tx store.Tx) error { return tx.CreateUser(ctx, u) })
	dup := *u
	dup.ID = id("u")
	wantErr(t, s.Write(ctx, func(tx store.Tx) error { return tx.CreateUser(ctx, &dup) }), store.ErrConflict)
	// The same address in another tenant is another user.
	dup.TenantID = other.ID
	write(t, s, func(tx store.Tx) error { return tx.CreateUser(ctx, &dup) })
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetUser(ctx, tn.ID, u.ID)
		if err != nil || !reflect.DeepEqual(got, u) {
			t.Errorf("GetUser = %+v, %v", got, err)
		}
		_, err = tx.GetUser(ctx, other.ID, u.ID)
		wantErr(t, err, store.ErrNotFound)
		list, err := tx.ListUsers(ctx, tn.ID)
		if err != nil || len(list) != 1 {
			t.Errorf("ListUsers = %d, %v", len(list), err)
		}
		return nil
	})
	wantErr(t, s.Write(ctx, func(tx store.Tx) error { return tx.DeleteUser(ctx, other.ID, u.ID) }), store.ErrNotFound)
	write(t, s, func(tx store.Tx) error { return tx.DeleteUser(ctx, tn.ID, u.ID) })
	read(t, s, func(tx store.Tx) error {
		_, err := tx.GetUser(ctx, tn.ID, u.ID)
		wantErr(t, err, store.ErrNotFound)
		return nil
	})
}

func mkAudit(tenantID, actor, contact string, action audit.Action, at time.Time) *audit.Event {
	return &audit.Event{ID: id("a"), TenantID: tenantID, At: at, ActorType: audit.ActorKey, ActorID: actor, Role: "support",
		Action: action, ObjectType: "contact", ObjectID: contact, ContactID: contact, Fields: []string{"identifiers.phone"},
		RequestID: id("r"), Result: audit.OK}
}

func testAuditList(t *testing.T, s store.Store) {
	tn, other := mkTenant(t, s), mkTenant(t, s)
	var evs []*audit.Event
	for i := range 10 {
		e := mkAudit(tn.ID, fmt.Sprintf("k%d", i%2), fmt.Sprintf("c%d", i%3), audit.ContactRead, t0.Add(time.Duration(i)*time.Minute))
		if i == 9 {
			e.Reason, e.Action, e.Fields = []byte("sealed-reason"), audit.ContactReveal, nil
		}
		evs = append(evs, e)
	}
	foreign := mkAudit(other.ID, "k0", "c0", audit.ContactRead, t0)
	write(t, s, func(tx store.Tx) error {
		for _, e := range append(evs, foreign) {
			if err := tx.AppendAudit(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	for i := 1; i < len(evs); i++ {
		if evs[i].Seq <= evs[i-1].Seq {
			t.Fatalf("seq not increasing: %d after %d", evs[i].Seq, evs[i-1].Seq)
		}
	}
	list := func(f store.AuditFilter) []*audit.Event {
		t.Helper()
		var out []*audit.Event
		read(t, s, func(tx store.Tx) (err error) {
			out, err = tx.ListAudit(ctx, f)
			return err
		})
		return out
	}
	all := list(store.AuditFilter{TenantID: tn.ID, Limit: 100})
	if len(all) != 10 || all[0].Seq != evs[9].Seq {
		t.Fatalf("ListAudit = %d events, first seq %d", len(all), all[0].Seq)
	}
	got, want := all[0], evs[9]
	if got.ID != want.ID || !got.At.Equal(want.At) || got.Action != audit.ContactReveal || !bytes.Equal(got.Reason, want.Reason) ||
		got.ActorType != want.ActorType || got.RequestID != want.RequestID || got.Result != audit.OK || len(got.Fields) != 0 || got.ChainPos != 0 {
		t.Errorf("stored event = %+v, want %+v", got, want)
	}
	if n := len(list(store.AuditFilter{TenantID: tn.ID, ActorID: "k1", Limit: 100})); n != 5 {
		t.Errorf("by actor: %d, want 5", n)
	}
	if n := len(list(store.AuditFilter{TenantID: tn.ID, ContactID: "c0", Limit: 100})); n != 4 {
		t.Errorf("by contact: %d, want 4", n)
	}
	if n := len(list(store.AuditFilter{TenantID: tn.ID, ObjectType: "contact", ObjectID: "c1", Limit: 100})); n != 3 {
		t.Errorf("by object: %d, want 3", n)
	}
	if n := len(list(store.AuditFilter{TenantID: tn.ID, Action: string(audit.ContactReveal), Limit: 100})); n != 1 {
		t.Errorf("by action: %d, want 1", n)
	}
	if n := len(list(store.AuditFilter{TenantID: tn.ID, From: t0.Add(2 * time.Minute), To: t0.Add(5 * time.Minute), Limit: 100})); n != 3 {
		t.Errorf("by time: %d, want 3", n)
	}
	// Cursor paging walks every event once, newest first.
	seen, before := 0, int64(0)
	for {
		page := list(store.AuditFilter{TenantID: tn.ID, BeforeSeq: before, Limit: 3})
		seen += len(page)
		if len(page) < 3 {
			break
		}
		before = page[len(page)-1].Seq
	}
	if seen != 10 {
		t.Errorf("paging saw %d events", seen)
	}
	if n := len(list(store.AuditFilter{TenantID: other.ID, Limit: 100})); n != 1 {
		t.Errorf("other tenant sees %d events, want 1", n)
	}
	var after []*audit.Event
	read(t, s, func(tx store.Tx) (err error) {
		after, err = tx.AuditEventsAfter(ctx, evs[4].Seq, 100)
		return err
	})
	if len(after) != 6 || after[0].Seq != evs[5].Seq {
		t.Errorf("AuditEventsAfter = %d events", len(after))
	}
}

func testAuditChain(t *testing.T, s store.Store) {
	tn := mkTenant(t, s)
	var evs []*audit.Event
	write(t, s, func(tx store.Tx) error {
		for i := range 3 {
			e := mkAudit(tn.ID, "k", "c", audit.ContactRead, t0.Add(time.Duration(i)*time.Second))
			if err := tx.AppendAudit(ctx, e); err != nil {
				return err
			}
			evs = append(evs, e)
		}
		return nil
	})
	read(t, s, func(tx store.Tx) error {
		h, err := tx.AuditHead(ctx)
		if err != nil || h.Pos != 0 || len(h.Hash) != 0 {
			t.Errorf("empty head = %+v, %v", h, err)
		}
		un, err := tx.UnchainedAudit(ctx, 10)
		if err != nil || len(un) != 3 {
			t.Errorf("UnchainedAudit = %d, %v", len(un), err)
		}
		return nil
	})
	h1, h2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	write(t, s, func(tx store.Tx) error {
		if err := tx.ChainAudit(ctx, evs[0].Seq, 1, h1); err != nil {
			return err
		}
		if err := tx.ChainAudit(ctx, evs[1].Seq, 2, h2); err != nil {
			return err
		}
		return tx.AdvanceAuditHead(ctx, 0, audit.Head{Pos: 2, Hash: h2})
	})
	// A chainer that read the head before it moved loses, whole.
	err := s.Write(ctx, func(tx store.Tx) error {
		if err := tx.ChainAudit(ctx, evs[2].Seq, 3, h1); err != nil {
			return err
		}
		return tx.AdvanceAuditHead(ctx, 0, audit.Head{Pos: 1, Hash: h1})
	})
	wantErr(t, err, store.ErrConflict)
	wantErr(t, s.Write(ctx, func(tx store.Tx) error { return tx.ChainAudit(ctx, evs[0].Seq, 9, h1) }), store.ErrConflict)
	read(t, s, func(tx store.Tx) error {
		h, err := tx.AuditHead(ctx)
		if err != nil || h.Pos != 2 || !bytes.Equal(h.Hash, h2) {
			t.Errorf("head = %+v, %v", h, err)
		}
		chained, err := tx.ChainedAudit(ctx, 0, 10)
		if err != nil || len(chained) != 2 || chained[1].ChainPos != 2 || !bytes.Equal(chained[1].ChainHash, h2) {
			t.Errorf("ChainedAudit = %v, %v", chained, err)
		}
		n, err := tx.CountUnchainedAudit(ctx)
		if err != nil || n != 1 {
			t.Errorf("CountUnchainedAudit = %d, %v", n, err)
		}
		return nil
	})
}

func testAuditUnit(t *testing.T, s store.Store) {
	tn := mkTenant(t, s)
	write(t, s, func(tx store.Tx) error {
		err := tx.Unit(ctx, func(tx store.Tx) error {
			if err := tx.AppendAudit(ctx, mkAudit(tn.ID, "k", "c", audit.ContactRead, t0)); err != nil {
				return err
			}
			return store.ErrConflict
		})
		wantErr(t, err, store.ErrConflict)
		return tx.AppendAudit(ctx, mkAudit(tn.ID, "k", "c", audit.ConsentList, t0))
	})
	read(t, s, func(tx store.Tx) error {
		evs, err := tx.ListAudit(ctx, store.AuditFilter{TenantID: tn.ID, Limit: 10})
		if err != nil || len(evs) != 1 || evs[0].Action != audit.ConsentList {
			t.Errorf("after a failed unit: %d events, %v", len(evs), err)
		}
		return nil
	})
}
