package ledger

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// BenchmarkAppendBatch measures committed events per second through
// Log.Append into MemStorage, for several group-commit batch sizes. Leaf
// validation and all hashing are included; a SQL store adds its own
// transaction cost once per batch.
func BenchmarkAppendBatch(b *testing.B) {
	ctx := context.Background()
	for _, size := range []int{1, 16, 256, 4096} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			batch := encodedLeaves(0, size)
			var l *Log
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if i%(1<<20/size) == 0 { // keep memory bounded: a fresh log every ~1M events
					b.StopTimer()
					l = NewLog(NewMemStorage())
					b.StartTimer()
				}
				if _, err := l.Append(ctx, batch...); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

var (
	largeMu   sync.Mutex
	largeLogs = map[int]*Log{}
)

// largeLog returns a log of n synthetic leaves, built once per test binary,
// with a checkpoint every n/10 leaves.
func largeLog(b *testing.B, n int) *Log {
	largeMu.Lock()
	defer largeMu.Unlock()
	if l, ok := largeLogs[n]; ok {
		return l
	}
	start := time.Now()
	l, _, _ := buildLog(b, n, 4096, n/10)
	b.Logf("built a %d-leaf log in %v", n, time.Since(start).Round(time.Millisecond))
	largeLogs[n] = l
	return l
}

// BenchmarkInclusionProof proves a random leaf in trees of growing size;
// tlog reads O(log n) stored hashes per proof.
func BenchmarkInclusionProof(b *testing.B) {
	ctx := context.Background()
	l := largeLog(b, 1_000_000)
	for _, size := range []int64{1_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, uint64(size)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := l.InclusionProof(ctx, rng.Int64N(size), size); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerify runs the full-ledger verification `consentgate verify`
// does: every leaf decoded and rehashed, every stored hash compared, every
// checkpoint checked.
func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	for _, size := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("leaves=%d", size), func(b *testing.B) {
			l := largeLog(b, size)
			vkey := testSigner(b).VerifierKey()
			for b.Loop() {
				rep, err := Verify(ctx, l.Storage(), vkey)
				if err != nil || rep.TreeSize != int64(size) {
					b.Fatal(err, rep.TreeSize)
				}
			}
			b.ReportMetric(float64(size)*float64(b.N)/b.Elapsed().Seconds(), "leaves/s")
		})
	}
}

// BenchmarkVerifyReceipt is the offline check a receipt holder runs.
func BenchmarkVerifyReceipt(b *testing.B) {
	r, _, s := testReceipt(b, 22)
	vkey := s.VerifierKey()
	b.ReportAllocs()
	for b.Loop() {
		if err := VerifyReceipt(r, vkey); err != nil {
			b.Fatal(err)
		}
	}
}
