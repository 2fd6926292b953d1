package storetest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
)

// testPrivacy covers the privacy store: attribute declarations, requests,
// legal holds, rectification, erasure, retention purges and the key
// rotation scans.
func testPrivacy(t *testing.T, s store.Store) {
	ctx := context.Background()
	tn := mkTenant(t, s)
	other := mkTenant(t, s)

	t.Run("attributes", func(t *testing.T) {
		d := &store.AttributeDef{TenantID: tn.ID, Name: "first_name", Type: "string", Category: "contact_details",
			Purpose: "news", Retention: 48 * time.Hour, CreatedAt: t0}
		write(t, s, func(tx store.Tx) error { return tx.CreateAttributeDef(ctx, d) })
		wantErr(t, s.Write(ctx, func(tx store.Tx) error { return tx.CreateAttributeDef(ctx, d) }), store.ErrConflict)
		read(t, s, func(tx store.Tx) error {
			ds, err := tx.ListAttributeDefs(ctx, tn.ID)
			if err != nil || len(ds) != 1 || ds[0].Retention != 48*time.Hour || ds[0].Purpose != "news" {
				t.Fatalf("list = %+v, %v", ds, err)
			}
			if ds, _ := tx.ListAttributeDefs(ctx, other.ID); len(ds) != 0 {
				t.Fatal("declarations leak across tenants")
			}
			return nil
		})
	})

	t.Run("dsr", func(t *testing.T) {
		r := &store.DSR{ID: id("d"), TenantID: tn.ID, Type: "access", ContactID: "c1", Status: "open",
			ReceivedAt: t0, DueAt: t0.AddDate(0, 1, 0), Actor: "k1"}
		done := &store.DSR{ID: id("d"), TenantID: tn.ID, Type: "erasure", Status: "completed",
			ReceivedAt: t0, DueAt: t0.AddDate(0, 1, 0), CompletedAt: t0, Result: []byte(`{}`)}
		write(t, s, func(tx store.Tx) error {
			if err := tx.CreateDSR(ctx, r); err != nil {
				return err
			}
			return tx.CreateDSR(ctx, done)
		})
		r.Extended, r.ExtensionReason, r.DueAt = true, "complex", t0.AddDate(0, 3, 0)
		write(t, s, func(tx store.Tx) error { return tx.UpdateDSR(ctx, r) })
		read(t, s, func(tx store.Tx) error {
			got, err := tx.GetDSR(ctx, tn.ID, r.ID)
			if err != nil || !got.Extended || !got.DueAt.Equal(r.DueAt) {
				t.Fatalf("get = %+v, %v", got, err)
			}
			open, _ := tx.ListDSRs(ctx, tn.ID, true, 10)
			all, _ := tx.ListDSRs(ctx, tn.ID, false, 10)
			if len(open) != 1 || len(all) != 2 {
				t.Fatalf("open %d, all %d", len(open), len(all))
			}
			_, err = tx.GetDSR(ctx, other.ID, r.ID)
			wantErr(t, err, store.ErrNotFound)
			return nil
		})
	})

	t.Run("erasure", func(t *testing.T) {
		c := mkContact(t, s, tn.ID, "bi-erase-1", "bi-erase-2")
		keep := mkContact(t, s, tn.ID, "bi-keep")
		write(t, s, func(tx store.Tx) error {
			for _, cid := range []string{c.ID, keep.ID} {
				if err := tx.AppendConsentEvent(ctx, mkEvent(tn.ID, cid, "news", consent.SMS, consent.StatusGranted)); err != nil {
					return err
				}
			}
			return tx.PutLegalHold(ctx, &store.LegalHold{TenantID: tn.ID, ContactID: c.ID, Reason: "dispute", CreatedAt: t0})
		})
		read(t, s, func(tx store.Tx) error {
			h, err := tx.GetLegalHold(ctx, tn.ID, c.ID)
			if err != nil || h.Reason != "dispute" {
				t.Fatalf("hold = %+v, %v", h, err)
			}
			return nil
		})
		var counts map[string]int
		write(t, s, func(tx store.Tx) (err error) {
			counts, err = tx.EraseContact(ctx, tn.ID, c.ID, nil)
			return err
		})
		if counts["contacts"] != 1 || counts["identifiers"] != 2 || counts["consent_evidence"] != 1 || counts["legal_holds"] != 1 {
			t.Fatalf("counts = %v", counts)
		}
		read(t, s, func(tx store.Tx) error {
			_, _, err := tx.GetContact(ctx, tn.ID, c.ID)
			wantErr(t, err, store.ErrNotFound)
			_, err = tx.FindContactID(ctx, tn.ID, consent.KindPhone, []byte("bi-erase-1"))
			wantErr(t, err, store.ErrNotFound)
			evs, _ := tx.ListConsentEvents(ctx, tn.ID, c.ID)
			if len(evs) != 1 || evs[0].EvidenceSealed != nil || len(evs[0].EvidenceDigest) != 32 {
				t.Fatalf("events after erasure: %+v", evs)
			}
			if cur, _ := tx.CurrentConsents(ctx, tn.ID, c.ID); len(cur) != 0 {
				t.Fatal("consent states survive erasure")
			}
			if _, _, err := tx.GetContact(ctx, tn.ID, keep.ID); err != nil {
				t.Fatalf("another contact was erased: %v", err)
			}
			if evs, _ := tx.ListConsentEvents(ctx, tn.ID, keep.ID); len(evs) != 1 || evs[0].EvidenceSealed == nil {
				t.Fatal("another contact's evidence was touched")
			}
			return nil
		})
		_ = s.Write(ctx, func(tx store.Tx) error {
			_, err := tx.EraseContact(ctx, tn.ID, c.ID, nil)
			wantErr(t, err, store.ErrNotFound)
			return nil
		})
		cert := &store.ErasureCertificate{ID: id("x"), TenantID: tn.ID, ContactID: c.ID, Body: []byte(`{"ok":true}`), CreatedAt: t0}
		write(t, s, func(tx store.Tx) error {
			if err := tx.CreateErasureCertificate(ctx, cert); err != nil {
				return err
			}
			return tx.AddSuppression(ctx, &store.Suppression{TenantID: tn.ID, BlindIndex: []byte("bi-erase-1"),
				Kind: consent.KindPhone, Scope: "all", Reason: "erased:" + c.ID, CreatedAt: t0})
		})
		read(t, s, func(tx store.Tx) error {
			got, err := tx.GetErasureCertificate(ctx, tn.ID, c.ID)
			if err != nil || !bytes.Equal(got.Body, cert.Body) {
				t.Fatalf("certificate = %+v, %v", got, err)
			}
			reason, err := tx.FindSuppressionReason(ctx, tn.ID, string(consent.KindPhone), []byte("bi-erase-1"))
			if err != nil || reason != "erased:"+c.ID {
				t.Fatalf("suppression reason = %q, %v", reason, err)
			}
			return nil
		})
	})

	t.Run("rectify and restrict", func(t *testing.T) {
		c := mkContact(t, s, tn.ID, "bi-old")
		c.AttributesSealed, c.UpdatedAt = []byte("new-attrs"), t0.Add(time.Hour)
		ids := []store.Identifier{{Kind: consent.KindPhone, BlindIndex: []byte("bi-new"), Sealed: []byte("s")}}
		write(t, s, func(tx store.Tx) error {
			if err := tx.UpdateContact(ctx, c, ids); err != nil {
				return err
			}
			return tx.SetRestricted(ctx, tn.ID, c.ID, true, t0)
		})
		read(t, s, func(tx store.Tx) error {
			got, gids, err := tx.GetContact(ctx, tn.ID, c.ID)
			if err != nil || !got.Restricted || string(got.AttributesSealed) != "new-attrs" || len(gids) != 1 || string(gids[0].BlindIndex) != "bi-new" {
				t.Fatalf("after update: %+v %+v %v", got, gids, err)
			}
			_, err = tx.FindContactID(ctx, tn.ID, consent.KindPhone, []byte("bi-old"))
			wantErr(t, err, store.ErrNotFound)
			return nil
		})
		wantErr(t, s.Write(ctx, func(tx store.Tx) error { return tx.SetRestricted(ctx, other.ID, c.ID, true, t0) }), store.ErrNotFound)
	})

	t.Run("retention and purge", func(t *testing.T) {
		p := &store.RetentionPolicy{TenantID: tn.ID, Category: store.CategoryDSRRecords, Period: 24 * time.Hour, UpdatedAt: t0}
		write(t, s, func(tx store.Tx) error { return tx.PutRetentionPolicy(ctx, p) })
		read(t, s, func(tx store.Tx) error {
			ps, err := tx.ListRetentionPolicies(ctx, tn.ID)
			if err != nil || len(ps) != 1 || ps[0].Period != 24*time.Hour {
				t.Fatalf("policies = %+v, %v", ps, err)
			}
			return nil
		})
		write(t, s, func(tx store.Tx) error {
			for i := range 7 {
				r := &store.DSR{ID: id("d"), TenantID: other.ID, Type: "access", Status: "completed",
					ReceivedAt: t0, DueAt: t0, CompletedAt: t0.Add(time.Duration(i) * time.Hour)}
				if err := tx.CreateDSR(ctx, r); err != nil {
					return err
				}
			}
			return nil
		})
		cut := t0.Add(5 * time.Hour) // five of seven are older
		read(t, s, func(tx store.Tx) error {
			if n, err := tx.CountPurgeable(ctx, other.ID, store.CategoryDSRRecords, cut); err != nil || n != 5 {
				t.Fatalf("count = %d, %v", n, err)
			}
			return nil
		})
		total := 0
		for {
			var n int
			write(t, s, func(tx store.Tx) (err error) {
				n, err = tx.Purge(ctx, other.ID, store.CategoryDSRRecords, cut, 2)
				return err
			})
			if n == 0 {
				break
			}
			total += n
		}
		if total != 5 {
			t.Fatalf("purged %d, want 5", total)
		}
		for _, cat := range []string{store.CategoryMessageBodies, store.CategoryMessageMetadata, store.CategoryInbound, store.CategoryConsentEvidence} {
			write(t, s, func(tx store.Tx) error {
				_, err := tx.Purge(ctx, tn.ID, cat, cut, 10)
				return err
			})
		}
		rec := &store.PurgeRecord{ID: id("p"), TenantID: other.ID, Category: store.CategoryDSRRecords, Count: 5, Cutoff: cut, At: t0, Signature: []byte("sig")}
		write(t, s, func(tx store.Tx) error {
			if err := tx.AppendPurgeRecord(ctx, rec); err != nil {
				return err
			}
			return tx.SetPurgeSignature(ctx, rec.ID, []byte("sig2"))
		})
		read(t, s, func(tx store.Tx) error {
			rs, err := tx.ListPurgeRecords(ctx, other.ID, 10)
			if err != nil || len(rs) != 1 || rs[0].Count != 5 || string(rs[0].Signature) != "sig2" || !rs[0].Cutoff.Equal(cut) {
				t.Fatalf("purge log = %+v, %v", rs, err)
			}
			return nil
		})
	})

	t.Run("rotation scans", func(t *testing.T) {
		tr := mkTenant(t, s)
		var cs []*store.Contact
		for range 5 {
			cs = append(cs, mkContact(t, s, tr.ID))
		}
		var seen []store.WrappedKey
		after := ""
		for {
			var page []store.WrappedKey
			read(t, s, func(tx store.Tx) (err error) {
				page, err = tx.ContactKeysAfter(ctx, tr.ID, after, 2)
				return err
			})
			if len(page) == 0 {
				break
			}
			seen = append(seen, page...)
			after = page[len(page)-1].ID
		}
		if len(seen) != 5 {
			t.Fatalf("scan saw %d contacts, want 5", len(seen))
		}
		write(t, s, func(tx store.Tx) error {
			if err := tx.SetContactKey(ctx, tr.ID, cs[0].ID, []byte("rewrapped")); err != nil {
				return err
			}
			return tx.UpdateTenantKey(ctx, tr.ID, []byte("new-ring"))
		})
		read(t, s, func(tx store.Tx) error {
			c, _, _ := tx.GetContact(ctx, tr.ID, cs[0].ID)
			tn, _ := tx.GetTenant(ctx, tr.ID)
			if string(c.WrappedKey) != "rewrapped" || string(tn.WrappedKey) != "new-ring" {
				t.Fatal("rewrap not stored")
			}
			return nil
		})
		wantErr(t, s.Write(ctx, func(tx store.Tx) error { return tx.SetContactKey(ctx, other.ID, cs[0].ID, nil) }), store.ErrNotFound)
	})
}
