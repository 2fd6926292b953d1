package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/service"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/sqlite"
	"github.com/oklog/ulid/v2"
)

// openBenchSQLite is a file database with the production synchronous
// setting, so that the figures include real commits.
func openBenchSQLite(t testing.TB) store.Store {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "bench.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// bulkContacts inserts n contacts with one identifier each straight into
// the store, 10,000 per transaction. Their keys are placeholders: the
// benchmarks never open them.
func bulkContacts(t testing.TB, st store.Store, tenantID string, n int) {
	ctx := context.Background()
	now := time.Now()
	for done := 0; done < n; {
		err := st.Write(ctx, func(tx store.Tx) error {
			for i := 0; i < 10_000 && done < n; i, done = i+1, done+1 {
				c := &store.Contact{ID: ulid.Make().String(), TenantID: tenantID, WrappedKey: []byte("placeholder"), CreatedAt: now, UpdatedAt: now}
				bi := sha256.Sum256([]byte(c.ID))
				if err := tx.CreateContact(ctx, c, []store.Identifier{{Kind: consent.KindPhone, BlindIndex: bi[:], Sealed: []byte("x")}}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// BenchmarkErasureAmongMillion erases one contact (with identifiers,
// consent, certificate, suppression and ledger marker) from a database of
// 1,000,000 contacts (100,000 with -short). Target: < 50 ms.
func BenchmarkErasureAmongMillion(b *testing.B) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	e := newEnv(b, openBenchSQLite)
	bulkContacts(b, e.store, e.tenant, n)
	if _, err := e.index.Load(context.Background(), e.store); err != nil {
		b.Fatal(err)
	}
	runSteps(b, e, []step{{name: "purpose", method: "POST", path: "/v1/purposes", role: owner, body: newsPurpose, status: 201}})
	pr := auth.Principal{TenantID: e.tenant, KeyID: "bench", Role: auth.Owner}
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		id, err := e.svc.CreateContact(ctx, pr, service.ContactInput{Identifiers: map[string]string{"phone": fmt.Sprintf("+4540%06d", 120000+i%800_000)}})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := e.svc.SetConsent(ctx, pr, id, "newsletter", "sms", service.ConsentInput{Status: consent.StatusGranted}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		v, _, err := e.svc.CreateDSR(ctx, pr, service.DSRInput{Type: service.DSRErasure, ContactID: id})
		if err != nil || v.Status != "completed" {
			b.Fatalf("erase: %v %v", v.Status, err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/erasure")
}

// BenchmarkAccessExport builds the access export of a contact with 10,000
// messages (and their consent events and receipts). Target: < 500 ms.
func BenchmarkAccessExport(b *testing.B) {
	e := newEnv(b, openBenchSQLite)
	ctx := context.Background()
	pr := auth.Principal{TenantID: e.tenant, KeyID: "bench", Role: auth.Owner}
	runSteps(b, e, []step{{name: "purpose", method: "POST", path: "/v1/purposes", role: owner, body: newsPurpose, status: 201}})
	id, err := e.svc.CreateContact(ctx, pr, service.ContactInput{Identifiers: map[string]string{"phone": "+4520123456", "email": "a@example.com"},
		Attributes: map[string]any{"first_name": "Anna"}})
	if err != nil {
		b.Fatal(err)
	}
	for _, st := range []consent.Status{consent.StatusGranted, consent.StatusWithdrawn, consent.StatusGranted} {
		if _, err := e.svc.SetConsent(ctx, pr, id, "newsletter", "sms", service.ConsentInput{Status: st}); err != nil {
			b.Fatal(err)
		}
	}
	insertMessages(b, e.store, e.tenant, id, 10_000, time.Now())
	v, _, err := e.svc.CreateDSR(ctx, pr, service.DSRInput{Type: service.DSRAccess, ContactID: id})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ex, err := e.svc.DSRExport(ctx, pr, v.ID)
		if err != nil || len(ex.Messages) != 10_000 {
			b.Fatalf("export: %v", err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/export")
}

// insertMessages stores n finished messages of a contact, made and updated
// at at, as the service would have made them then (ids of that time).
func insertMessages(t testing.TB, st store.Store, tenantID, contactID string, n int, at time.Time) {
	ctx := context.Background()
	for done := 0; done < n; {
		err := st.Write(ctx, func(tx store.Tx) error {
			for i := 0; i < 10_000 && done < n; i, done = i+1, done+1 {
				m := &store.Message{ID: ulid.MustNew(ulid.Timestamp(at), rand.Reader).String(), TenantID: tenantID, ContactID: contactID, Kind: store.MessageKindSend,
					Purpose: "newsletter", Channel: consent.SMS, Sender: "ACME", RecipientKind: consent.KindPhone,
					RecipientIndex: []byte("ri"), Status: store.MessageDelivered, Reason: consent.ReasonConsentGranted,
					BodyHash: []byte("h"), BodyLen: 40, DueAt: at, CreatedAt: at, UpdatedAt: at}
				if err := tx.CreateMessage(ctx, m); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// insertInbound stores n inbound message records recorded at at.
func insertInbound(t testing.TB, st store.Store, tenantID string, n int, at time.Time) {
	ctx := context.Background()
	for done := 0; done < n; {
		err := st.Write(ctx, func(tx store.Tx) error {
			for i := 0; i < 10_000 && done < n; i, done = i+1, done+1 {
				id := ulid.Make().String()
				m := &store.InboundMessage{ID: id, TenantID: tenantID, Channel: consent.SMS, ProviderID: id, SenderID: "s",
					FromIndex: []byte("fi"), TextHash: []byte("th"), TextLen: 4, Outcome: "ignored", ReceivedAt: at, RecordedAt: at}
				if err := tx.CreateInboundMessage(ctx, m); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
