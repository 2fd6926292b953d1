package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/channel"
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

// insertMessages stores n finished messages of a contact, updated at at.
func insertMessages(t testing.TB, st store.Store, tenantID, contactID string, n int, at time.Time) {
	ctx := context.Background()
	for done := 0; done < n; {
		err := st.Write(ctx, func(tx store.Tx) error {
			for i := 0; i < 10_000 && done < n; i, done = i+1, done+1 {
				m := &store.Message{ID: ulid.Make().String(), TenantID: tenantID, ContactID: contactID, Kind: store.MessageKindSend,
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

// decisionLatencies sends n decisions one after another and returns their
// latencies, sorted.
func decisionLatencies(t testing.TB, e *env, n int) []time.Duration {
	body := []byte(`{"to":{"phone":"+4520123456"},"channel":"sms","purpose":"newsletter"}`)
	lat := make([]time.Duration, 0, n)
	for range n {
		req, _ := http.NewRequest("POST", e.srv.URL+"/v1/decisions", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e.keys[auth.Developer])
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		resp, err := e.srv.Client().Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("decision: %v", err)
		}
		resp.Body.Close()
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	return lat
}

func p99(lat []time.Duration) time.Duration { return lat[len(lat)*99/100] }

// purgeRows is how many expired rows of each category the purge
// benchmarks purge: inbound records and finished messages.
const purgeRows = 100_000

// purgeWhile runs a purge of the expired rows in e while measure runs
// again and again, and returns the purge rate and the sorted latencies
// measure returned meanwhile. Only the purge is timed.
func purgeWhile(b *testing.B, e *env, measure func() []time.Duration) (rowsPerSec float64, during []time.Duration) {
	done := make(chan struct{})
	var sums []service.PurgeSummary
	var perr error
	b.StartTimer()
	start := time.Now()
	go func() {
		defer close(done)
		sums, perr = e.svc.Purge(context.Background(), service.PurgeOptions{})
	}()
	for {
		during = append(during, measure()...)
		select {
		case <-done:
		default:
			continue
		}
		break
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if perr != nil {
		b.Fatal(perr)
	}
	n := 0
	for _, s := range sums {
		if s.Category == "message_metadata" || s.Category == "inbound_messages" {
			n += s.Count
		}
	}
	if n != 2*purgeRows {
		b.Fatalf("purged %d rows, want %d", n, 2*purgeRows)
	}
	slices.Sort(during)
	return float64(n) / elapsed.Seconds(), during
}

// BenchmarkPurgeUnderLoad purges 200,000 expired rows (inbound records and
// finished messages) while decisions are served, and reports the purge rate
// and the decisions' p99 idle and during the purge. Targets: ≥ 100,000
// rows/s, and p99 during ≤ 2 × idle.
func BenchmarkPurgeUnderLoad(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e := newEnv(b, openBenchSQLite)
		runSteps(b, e, privacySetup())
		old := time.Now().AddDate(-2, 0, 0)
		insertInbound(b, e.store, e.tenant, purgeRows, old)
		insertMessages(b, e.store, e.tenant, "", purgeRows, old)
		idle := p99(decisionLatencies(b, e, 3000))
		rate, during := purgeWhile(b, e, func() []time.Duration { return decisionLatencies(b, e, 50) })
		b.ReportMetric(rate, "rows/s")
		b.ReportMetric(float64(idle.Microseconds()), "idle_p99_µs")
		b.ReportMetric(float64(p99(during).Microseconds()), "purge_p99_µs")
	}
}

// BenchmarkPurgeUnderSends purges the same 200,000 rows while one client
// sends messages (POST /v1/messages, accept path: decide, seal, queue
// durably) one after another, and reports the sends' p99 idle and during
// the purge: the purge shares the single SQLite writer with the send
// path's group commit, and must not stall it.
func BenchmarkPurgeUnderSends(b *testing.B) {
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e, _ := benchEnv(b, "FULL", 2000)
		if err := e.store.Write(ctx, func(tx store.Tx) error {
			return tx.CreateSender(ctx, &store.Sender{ID: ulid.Make().String(), TenantID: e.tenant, Channel: consent.SMS,
				Kind: store.SenderAlphanumeric, Address: "ACME", CreatedAt: time.Now()})
		}); err != nil {
			b.Fatal(err)
		}
		e.svc.ConfigureSending(service.SendConfig{DefaultProvider: channel.KindSink, PublicURL: e.srv.URL})
		old := time.Now().AddDate(-2, 0, 0)
		insertInbound(b, e.store, e.tenant, purgeRows, old)
		insertMessages(b, e.store, e.tenant, "", purgeRows, old)
		next := 0
		send := func(n int) []time.Duration {
			lat := make([]time.Duration, 0, n)
			for range n {
				body := fmt.Appendf(nil, `{"to":{"phone":"+45%d"},"channel":"sms","purpose":"offers","sender":"ACME","body":"Offer %d"}`,
					20100000+next%2000, next)
				next++
				req, _ := http.NewRequest("POST", e.srv.URL+"/v1/messages", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+e.keys[auth.Developer])
				req.Header.Set("Content-Type", "application/json")
				start := time.Now()
				resp, err := e.srv.Client().Do(req)
				if err != nil || resp.StatusCode != 202 {
					b.Fatalf("send: %v %v", resp, err)
				}
				resp.Body.Close()
				lat = append(lat, time.Since(start))
			}
			slices.Sort(lat)
			return lat
		}
		idle := p99(send(1000))
		rate, during := purgeWhile(b, e, func() []time.Duration { return send(20) })
		b.ReportMetric(rate, "rows/s")
		b.ReportMetric(float64(idle.Microseconds()), "idle_send_p99_µs")
		b.ReportMetric(float64(p99(during).Microseconds()), "purge_send_p99_µs")
		b.ReportMetric(float64(len(during)), "sends_during")
	}
}
