package sqlite_test

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/ledger"
	"github.com/consentgate/consentgate/internal/store/sqlite"
	"github.com/oklog/ulid/v2"
)

var ledgerLeaves = flag.Int("ledger-leaves", 1_000_000, "leaves in the tree for BenchmarkLedgerInclusionProof")

func benchLeaf(i int) []byte {
	return ledger.Leaf{EventID: ulid.Make().String(), Tenant: "01JQ8Z0T3V4W5X6Y7Z8A9BCDEF", Contact: ulid.Make().String(),
		Purpose: "offers", Channel: "sms", Status: ledger.Status("granted"), Time: time.Unix(1_790_000_000+int64(i), 0).UTC(),
		Source: "api", NoticeVersion: 1, Evidence: fmt.Sprintf("%064x", i)}.Encode()
}

// BenchmarkLedgerAppend is durable ledger appends on SQLite
// (synchronous=FULL) in batches of 1,024 leaves, as the sequencer makes them.
func BenchmarkLedgerAppend(b *testing.B) {
	db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "l.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	log := ledger.NewLog(db.Ledger())
	batch := make([][]byte, 1024)
	for i := range batch {
		batch[i] = benchLeaf(i)
	}
	b.ResetTimer()
	n := 0
	for b.Loop() {
		for i := range batch { // event ids must be unique
			batch[i] = benchLeaf(n + i)
		}
		if _, err := log.Append(context.Background(), batch...); err != nil {
			b.Fatal(err)
		}
		n += len(batch)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkLedgerInclusionProof serves inclusion proofs from a SQLite
// ledger of -ledger-leaves leaves (built once, not timed).
func BenchmarkLedgerInclusionProof(b *testing.B) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "l.db"), sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	log := ledger.NewLog(db.Ledger())
	batch := make([][]byte, 8192)
	for n := 0; n < *ledgerLeaves; n += len(batch) {
		m := min(len(batch), *ledgerLeaves-n)
		for i := 0; i < m; i++ {
			batch[i] = benchLeaf(n + i)
		}
		if _, err := log.Append(ctx, batch[:m]...); err != nil {
			b.Fatal(err)
		}
	}
	size := int64(*ledgerLeaves)
	b.ResetTimer()
	i := int64(0)
	for b.Loop() {
		if _, err := log.InclusionProof(ctx, (i*7919)%size, size); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkLedgerVerify is `consentgate ledger verify` over a SQLite ledger
// of -ledger-leaves leaves with a checkpoint every 100,000 (built once, not
// timed).
func BenchmarkLedgerVerify(b *testing.B) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "l.db"), sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	skey, vkey, err := ledger.GenerateKey("bench.consentgate.local/ledger")
	if err != nil {
		b.Fatal(err)
	}
	signer, err := ledger.NewSigner(skey)
	if err != nil {
		b.Fatal(err)
	}
	log := ledger.NewLog(db.Ledger())
	batch := make([][]byte, 10_000)
	for n := 0; n < *ledgerLeaves; n += len(batch) {
		m := min(len(batch), *ledgerLeaves-n)
		for i := 0; i < m; i++ {
			batch[i] = benchLeaf(n + i)
		}
		if _, err := log.Append(ctx, batch[:m]...); err != nil {
			b.Fatal(err)
		}
		if (n+m)%100_000 == 0 || n+m == *ledgerLeaves {
			if _, _, err := log.Checkpoint(ctx, signer, time.Now()); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ResetTimer()
	for b.Loop() {
		rep, err := ledger.Verify(ctx, db.Ledger(), vkey)
		if err != nil {
			b.Fatal(err)
		}
		if rep.TreeSize != int64(*ledgerLeaves) {
			b.Fatalf("verified %d leaves", rep.TreeSize)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/verify")
}
