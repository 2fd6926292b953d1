package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/postgres/pgtest"
)

// BenchmarkConsentWrites appends consent events the way group commit does:
// batchSize units, each one AppendConsentEvent in its own savepoint, per
// durable transaction. With several writers it stands for several nodes
// writing at once. It reports events/s.
//
//	go test -run '^$' -bench ConsentWrites ./internal/store/postgres/
func BenchmarkConsentWrites(b *testing.B) {
	for _, writers := range []int{1, 4} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			benchWrites(b, pgtest.Open(b), writers)
		})
	}
}

const batchSize = 256

func benchWrites(b *testing.B, s store.Store, writers int) {
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
	digest := make([]byte, 32)
	evidence := make([]byte, 120)
	var next atomic.Int64
	b.ResetTimer()
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				start := next.Add(batchSize) - batchSize
				if start >= int64(b.N) {
					return
				}
				n := min(int64(batchSize), int64(b.N)-start)
				err := s.Write(ctx, func(tx store.Tx) error {
					for i := start; i < start+n; i++ {
						e := &store.ConsentEvent{ID: fmt.Sprintf("e%012d", i), TenantID: tn.ID, ContactID: contacts[i%int64(len(contacts))],
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
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
