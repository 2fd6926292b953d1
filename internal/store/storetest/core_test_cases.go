package storetest

import (
	"bytes"
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
)

var ctx = context.Background()

func testTenants(t *testing.T, s store.Store) {
	tn := mkTenant(t, s)
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetTenant(ctx, tn.ID)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(got, tn) {
			t.Errorf("GetTenant = %+v, want %+v", got, tn)
		}
		byName, err := tx.GetTenantByName(ctx, tn.Name)
		if err != nil || byName.ID != tn.ID {
			t.Errorf("GetTenantByName = %v, %v", byName, err)
		}
		_, err = tx.GetTenant(ctx, "missing")
		wantErr(t, err, store.ErrNotFound)
		all, err := tx.ListTenants(ctx)
		if err != nil || len(all) != 1 {
			t.Errorf("ListTenants = %d, %v", len(all), err)
		}
		return nil
	})
	err := s.Write(ctx, func(tx store.Tx) error {
		return tx.CreateTenant(ctx, &store.Tenant{ID: id("t"), Name: tn.Name, WrappedKey: []byte{1}, CreatedAt: t0})
	})
	wantErr(t, err, store.ErrConflict)
}

func testAPIKeys(t *testing.T, s store.Store) {
	tn := mkTenant(t, s)
	k := &store.APIKey{ID: id("k"), TenantID: tn.ID, Role: "owner", Label: "ci", Hash: bytes.Repeat([]byte{9}, 32),
		Hint: "cg_abcd", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	write(t, s, func(tx store.Tx) error { return tx.CreateAPIKey(ctx, k) })
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetAPIKeyByHash(ctx, k.Hash)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(got, k) {
			t.Errorf("GetAPIKeyByHash = %+v, want %+v", got, k)
		}
		_, err = tx.GetAPIKeyByHash(ctx, []byte("nope"))
		wantErr(t, err, store.ErrNotFound)
		list, err := tx.ListAPIKeys(ctx, tn.ID)
		if err != nil || len(list) != 1 {
			t.Errorf("ListAPIKeys = %d, %v", len(list), err)
		}
		return nil
	})
	dup := *k
	dup.ID = id("k")
	wantErr(t, s.Write(ctx, func(tx store.Tx) error { return tx.CreateAPIKey(ctx, &dup) }), store.ErrConflict)
	write(t, s, func(tx store.Tx) error { return tx.RevokeAPIKey(ctx, tn.ID, k.ID, t0.Add(time.Minute)) })
	wantErr(t, s.Write(ctx, func(tx store.Tx) error { return tx.RevokeAPIKey(ctx, tn.ID, k.ID, t0) }), store.ErrNotFound)
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetAPIKeyByHash(ctx, k.Hash)
		if err == nil && !got.RevokedAt.Equal(t0.Add(time.Minute)) {
			t.Errorf("revoked_at = %v", got.RevokedAt)
		}
		return err
	})
}

func testPurposes(t *testing.T, s store.Store) {
	tn := mkTenant(t, s)
	p := mkPurpose("newsletter")
	write(t, s, func(tx store.Tx) error { return tx.CreatePurpose(ctx, tn.ID, p, t0) })
	wantErr(t, s.Write(ctx, func(tx store.Tx) error { return tx.CreatePurpose(ctx, tn.ID, p, t0) }), store.ErrConflict)
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetPurpose(ctx, tn.ID, "newsletter")
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(got, p) {
			t.Errorf("GetPurpose = %+v, want %+v", got, p)
		}
		_, err = tx.GetPurpose(ctx, tn.ID, "missing")
		wantErr(t, err, store.ErrNotFound)
		return nil
	})
	p2 := *p
	p2.Name, p2.NoticeVersion, p2.Channels, p2.DoubleOptIn = "Renamed", 2, []consent.Channel{consent.WhatsApp}, false
	write(t, s, func(tx store.Tx) error { return tx.UpdatePurpose(ctx, tn.ID, &p2, t0) })
	missing := mkPurpose("missing")
	wantErr(t, s.Write(ctx, func(tx store.Tx) error { return tx.UpdatePurpose(ctx, tn.ID, missing, t0) }), store.ErrNotFound)
	write(t, s, func(tx store.Tx) error { return tx.CreatePurpose(ctx, tn.ID, mkPurpose("alpha"), t0) })
	read(t, s, func(tx store.Tx) error {
		list, err := tx.ListPurposes(ctx, tn.ID)
		if err != nil {
			return err
		}
		if len(list) != 2 || list[0].Key != "alpha" || !reflect.DeepEqual(list[1], &p2) {
			t.Errorf("ListPurposes = %+v", list)
		}
		return nil
	})
}

func testContacts(t *testing.T, s store.Store) {
	tn := mkTenant(t, s)
	c := mkContact(t, s, tn.ID, "bi-1", "bi-2")
	read(t, s, func(tx store.Tx) error {
		got, ids, err := tx.GetContact(ctx, tn.ID, c.ID)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(got, c) {
			t.Errorf("GetContact = %+v, want %+v", got, c)
		}
		if len(ids) != 2 || ids[0].ContactID != c.ID || ids[0].TenantID != tn.ID {
			t.Errorf("identifiers = %+v", ids)
		}
		found, err := tx.FindContactID(ctx, tn.ID, consent.KindPhone, []byte("bi-2"))
		if err != nil || found != c.ID {
			t.Errorf("FindContactID = %q, %v", found, err)
		}
		_, err = tx.FindContactID(ctx, tn.ID, consent.KindEmail, []byte("bi-2"))
		wantErr(t, err, store.ErrNotFound)
		_, _, err = tx.GetContact(ctx, tn.ID, "missing")
		wantErr(t, err, store.ErrNotFound)
		return nil
	})
	// A second contact with a taken identifier is refused whole: no contact
	// row is left behind.
	dup := &store.Contact{ID: id("c"), TenantID: tn.ID, WrappedKey: []byte("wk"), CreatedAt: t0, UpdatedAt: t0}
	err := s.Write(ctx, func(tx store.Tx) error {
		return tx.CreateContact(ctx, dup, []store.Identifier{{Kind: consent.KindPhone, BlindIndex: []byte("bi-1"), Sealed: []byte("x")}})
	})
	wantErr(t, err, store.ErrConflict)
	read(t, s, func(tx store.Tx) error {
		_, _, err := tx.GetContact(ctx, tn.ID, dup.ID)
		wantErr(t, err, store.ErrNotFound)
		n := 0
		err = tx.ScanContacts(ctx, func(*store.Contact) error { n++; return nil })
		if n != 1 {
			t.Errorf("ScanContacts saw %d contacts, want 1", n)
		}
		m := 0
		err2 := tx.ScanIdentifiers(ctx, func(*store.Identifier) error { m++; return nil })
		if m != 2 {
			t.Errorf("ScanIdentifiers saw %d, want 2", m)
		}
		if err != nil {
			return err
		}
		return err2
	})
}
