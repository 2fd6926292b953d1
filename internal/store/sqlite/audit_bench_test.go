package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/store"
)

// BenchmarkAuditQuery10M measures the audit API's queries over 10,000,000
// events (one tenant, 100,000 contacts with 100 events each, 1,000 actors
// with 10,000 each): a page of 100, newest first, by contact and by actor.
// The budget is 100 ms. The seeded database is kept in the temporary
// directory and reused, because seeding takes minutes:
//
//	go test -run '^$' -bench AuditQuery10M -timeout 30m ./internal/store/sqlite/
//
// It is not run in CI.
func BenchmarkAuditQuery10M(b *testing.B) {
	const events = 10_000_000
	ctx := context.Background()
	path := filepath.Join(os.TempDir(), "consentgate-audit-10m.db")
	db, err := Open(ctx, path, Options{Synchronous: "NORMAL"})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var n int64
	if err := db.reader.QueryRowContext(ctx, `SELECT count(*) FROM audit_events`).Scan(&n); err != nil {
		b.Fatal(err)
	}
	if n < events {
		start := time.Now()
		// One statement: a recursive counter feeds the rows, so the cost
		// is SQLite's own insert and index maintenance, not round trips.
		_, err := db.writer.ExecContext(ctx, `WITH RECURSIVE c(x) AS (SELECT ? UNION ALL SELECT x + 1 FROM c WHERE x < ?)
			INSERT INTO audit_events (id, tenant_id, at, actor_type, actor_id, role, action, object_type, object_id,
				contact_id, fields, reason, request_id, result)
			SELECT printf('ev%010d', x), 'tenant', 1767225600000000 + x * 1000, 'key', printf('key%04d', x % 1000), 'support',
				'contact.read', 'contact', printf('contact%06d', x % 100000), printf('contact%06d', x % 100000),
				'["identifiers.phone"]', NULL, printf('req%010d', x), 'ok' FROM c`, n+1, events)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("seeded %d events in %s", events-n, time.Since(start).Round(time.Second))
	}
	for _, c := range []struct {
		name string
		f    store.AuditFilter
	}{
		{"by-contact", store.AuditFilter{TenantID: "tenant", ContactID: "contact004711", Limit: 100}},
		{"by-actor", store.AuditFilter{TenantID: "tenant", ActorID: "key0042", Limit: 100}},
		{"by-actor-page-50", store.AuditFilter{TenantID: "tenant", ActorID: "key0042", BeforeSeq: events - 50*100*1000, Limit: 100}},
		{"by-contact-and-time", store.AuditFilter{TenantID: "tenant", ContactID: "contact004711",
			From: time.UnixMicro(1767225600000000 + 1_000_000_000), To: time.UnixMicro(1767225600000000 + 5_000_000_000), Limit: 100}},
	} {
		b.Run(c.name, func(b *testing.B) {
			rows := 0
			for b.Loop() {
				err := db.Read(ctx, func(tx store.Tx) error {
					evs, err := tx.ListAudit(ctx, c.f)
					rows = len(evs)
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			if rows == 0 {
				b.Fatal("no events found")
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/query")
			b.ReportMetric(float64(rows), "rows")
		})
	}
}
