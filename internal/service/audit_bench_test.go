package service

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/audit"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/index"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/sqlite"
	"github.com/consentgate/consentgate/internal/vault"
)

// The budget: authorization plus the audit write add under 1 ms at
// the 99th percentile to a request. These benchmarks measure a contact read
// with and without its audit event, on the production SQLite settings
// (synchronous FULL, group commit) and with NORMAL, from one caller and
// from 16 concurrent ones:
//
//	go test -run '^$' -bench ContactRead -benchtime 20000x ./internal/service/
//
// They are not run in CI.

func benchService(b *testing.B, sync string) (*Service, auth.Principal, string) {
	b.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "b.db"), sqlite.Options{Synchronous: sync})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	master, _ := vault.NewKey()
	s := New(Config{Store: st, Index: index.New(), MasterKey: master, DefaultRegion: "DK", AuditChainEvery: -1})
	b.Cleanup(s.Close)
	tn, err := s.CreateTenant(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	pr := auth.Principal{TenantID: tn.ID, KeyID: "01BENCHKEY0000000000000000", Role: auth.Support}
	id, err := s.CreateContact(ctx, auth.Principal{TenantID: tn.ID, KeyID: "k", Role: auth.Owner},
		ContactInput{Identifiers: map[string]string{"phone": "+4520123456", "email": "anna@example.com"}})
	if err != nil {
		b.Fatal(err)
	}
	return s, pr, id
}

// unauditedRead is the contact read as it was before the audit trail: one
// read transaction and the unsealing, no audit event.
func (s *Service) unauditedRead(ctx context.Context, pr auth.Principal, id string) error {
	if err := authorize(pr, auth.ContactsRead); err != nil {
		return err
	}
	var c *store.Contact
	var ids []store.Identifier
	if err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		c, ids, err = tx.GetContact(ctx, pr.TenantID, id)
		return err
	}); err != nil {
		return err
	}
	_, err := s.viewContact(ctx, pr, c, ids, Reveal{})
	return err
}

// measure runs op b.N times from conc goroutines and reports p50 and p99.
// With rate > 0 the requests are offered at that fixed rate (open loop)
// instead of back to back, from enough goroutines that none waits for
// another, so a stall delays every request that falls due during it (no
// coordinated omission). Latency is taken from the moment a request
// starts: the pacing sleep's own overshoot is not the server's.
func measure(b *testing.B, conc, rate int, op func() error) {
	lat := make([]time.Duration, b.N)
	var interval time.Duration
	if rate > 0 {
		interval, conc = time.Second/time.Duration(rate), 64
	}
	var mu sync.Mutex
	next := 0
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= b.N {
					return
				}
				if interval > 0 {
					time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
				}
				t0 := time.Now()
				if err := op(); err != nil {
					b.Error(err)
					return
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.50), "p50_ms")
	b.ReportMetric(q(0.99), "p99_ms")
}

func BenchmarkContactRead(b *testing.B) {
	for _, conc := range []int{1, 16} {
		for _, sync := range []string{"FULL", "NORMAL"} {
			sfx := fmt.Sprintf("/%s/conc=%d", sync, conc)
			b.Run("unaudited"+sfx, func(b *testing.B) {
				s, pr, id := benchService(b, sync)
				measure(b, conc, 0, func() error { return s.unauditedRead(context.Background(), pr, id) })
			})
			b.Run("audited"+sfx, func(b *testing.B) {
				s, pr, id := benchService(b, sync)
				measure(b, conc, 0, func() error { _, err := s.GetContact(context.Background(), pr, id, Reveal{}); return err })
			})
			b.Run("audit-unit-only"+sfx, func(b *testing.B) {
				s, pr, _ := benchService(b, sync)
				ctx := context.Background()
				measure(b, conc, 0, func() error {
					if err := authorize(pr, auth.ContactsRead); err != nil {
						return err
					}
					ev, err := s.auditEvent(ctx, pr, auditRec{action: audit.ContactRead, objectType: "contact", objectID: "c", contactID: "c"})
					if err != nil {
						return err
					}
					return s.commit.doRead(ctx, func(tx store.Tx) error { return writeAudit(ctx, tx, ev) })
				})
			})
		}
	}
}

// BenchmarkContactReadPaced compares audited and unaudited contact reads at
// fixed offered rates:
//
//	go test -run '^$' -bench ContactReadPaced -benchtime 20000x ./internal/service/
func BenchmarkContactReadPaced(b *testing.B) {
	for _, rate := range []int{1000, 2000, 4000} {
		sfx := fmt.Sprintf("/FULL/rate=%d", rate)
		b.Run("unaudited"+sfx, func(b *testing.B) {
			s, pr, id := benchService(b, "FULL")
			measure(b, 0, rate, func() error { return s.unauditedRead(context.Background(), pr, id) })
		})
		b.Run("audited"+sfx, func(b *testing.B) {
			s, pr, id := benchService(b, "FULL")
			measure(b, 0, rate, func() error { _, err := s.GetContact(context.Background(), pr, id, Reveal{}); return err })
		})
	}
}
