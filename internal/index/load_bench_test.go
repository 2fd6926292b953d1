package index_test

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/index"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/sqlite"
	"github.com/oklog/ulid/v2"
)

var loadContacts = flag.Int("load-contacts", 1_000_000, "contacts seeded for BenchmarkLoad (each with 2 consent states)")

// seed writes n contacts, each with one identifier and two current consent
// states, straight through the store (no encryption: the index never
// decrypts). The file is kept under $CONSENTGATE_BENCH_DIR when set, so a
// second run skips the seeding.
func seed(b *testing.B, n int) store.Store {
	dir := os.Getenv("CONSENTGATE_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	path := filepath.Join(dir, fmt.Sprintf("load-%d.db", n))
	_, statErr := os.Stat(path)
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path, sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if statErr == nil {
		return db
	}
	tn := &store.Tenant{ID: ulid.Make().String(), Name: "bench", WrappedKey: []byte("k"), CreatedAt: time.Now()}
	p := &consent.Purpose{Key: "offers", Name: "Offers", Category: consent.Marketing, Basis: consent.BasisConsent, Channels: []consent.Channel{consent.SMS, consent.Email}}
	if err := db.Write(ctx, func(tx store.Tx) error {
		if err := tx.CreateTenant(ctx, tn); err != nil {
			return err
		}
		return tx.CreatePurpose(ctx, tn.ID, p, time.Now())
	}); err != nil {
		b.Fatal(err)
	}
	const perTx = 20_000
	now := time.Now()
	for start := 0; start < n; start += perTx {
		if err := db.Write(ctx, func(tx store.Tx) error {
			for i := start; i < min(n, start+perTx); i++ {
				c := &store.Contact{ID: ulid.Make().String(), TenantID: tn.ID, WrappedKey: []byte("wk"), CreatedAt: now, UpdatedAt: now}
				bi := make([]byte, 32)
				rand.Read(bi)
				if err := tx.CreateContact(ctx, c, []store.Identifier{{Kind: consent.KindPhone, BlindIndex: bi, Sealed: []byte("s")}}); err != nil {
					return err
				}
				for _, ch := range p.Channels {
					e := &store.ConsentEvent{ID: ulid.Make().String(), TenantID: tn.ID, ContactID: c.ID, Purpose: "offers", Channel: ch,
						Status: consent.StatusGranted, Confirmed: true, Source: "import", NoticeVersion: 1, OccurredAt: now, RecordedAt: now}
					if err := tx.AppendConsentEvent(ctx, e); err != nil {
						return err
					}
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	return db
}

// BenchmarkLoad is the start-up rebuild of the decision index. Run it with
// -benchtime=1x; -load-contacts sets the size (default 1,000,000 contacts ×
// 2 states).
func BenchmarkLoad(b *testing.B) {
	db := seed(b, *loadContacts)
	b.ResetTimer()
	for b.Loop() {
		ix := index.New()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		t0 := time.Now()
		if _, err := ix.Load(context.Background(), db); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(t0).Seconds(), "load_s")
		runtime.GC()
		runtime.ReadMemStats(&after)
		st := ix.Stats()
		if st.States != 2**loadContacts || st.Contacts != *loadContacts {
			b.Fatalf("loaded %+v", st)
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(st.States), "heap_bytes/state")
	}
}
