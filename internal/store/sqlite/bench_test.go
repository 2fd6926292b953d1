package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/sqlite"
)

// BenchmarkConsentWrites appends consent events the way group commit does:
// 256 units, each one AppendConsentEvent in its own savepoint, per durable
// transaction, and reports events/s. The PostgreSQL store has the same
// benchmark, for comparison.
//
//	go test -run '^$' -bench ConsentWrites ./internal/store/sqlite/
func BenchmarkConsentWrites(b *testing.B) {
	for _, sync := range []string{"FULL", "NORMAL"} {
		b.Run("synchronous="+sync, func(b *testing.B) {
			db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), sqlite.Options{Synchronous: sync})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			benchWrites(b, db)
		})
	}
}

func benchWrites(b *testing.B, s store.Store) {
	const batchSize = 256
	ctx := context.Background()
	tn := &store.Tenant{ID: "bench-tenant", Name: "bench", WrappedKey: []byte("k"), CreatedAt: time.Now()}
	contacts := make([]string, 1000)
	if err := s.Write(ctx, func(tx store.Tx) error {
		if err := tx.CreateTenant(ctx, tn); err != nil {
			return err
		}
		for i := range contacts {
			contacts[i] = fmt.Sprintf("c%06d", i)
			c := &store.Contact{ID: contacts[i], TenantID: tn.ID, WrappedKey: []byte("wk"), CreatedAt: time.Now(), UpdatedAt: time.Now()}
			if err := tx.CreateContact(ctx, c, nil); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	digest, evidence := make([]byte, 32), make([]byte, 120)
	b.ResetTimer()
	for start := 0; start < b.N; start += batchSize {
		n := min(batchSize, b.N-start)
		err := s.Write(ctx, func(tx store.Tx) error {
			for i := start; i < start+n; i++ {
				e := &store.ConsentEvent{ID: fmt.Sprintf("e%012d", i), TenantID: tn.ID, ContactID: contacts[i%len(contacts)],
					Purpose: "news", Channel: consent.SMS, Status: consent.StatusGranted, Confirmed: true, Source: "api",
					NoticeVersion: 1, EvidenceSealed: evidence, EvidenceDigest: digest, Actor: "bench",
					OccurredAt: time.Now(), RecordedAt: time.Now()}
				if err := tx.Unit(ctx, func(tx store.Tx) error { return tx.AppendConsentEvent(ctx, e) }); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
