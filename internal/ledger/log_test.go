package ledger

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// TestAppendMatchesTlog checks that batched appends store exactly the hashes
// that appending one record at a time with tlog.StoredHashes stores.
func TestAppendMatchesTlog(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	m := NewMemStorage()
	l := NewLog(m)
	var want []tlog.Hash
	reader := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = want[x]
		}
		return out, nil
	})
	n := 0
	for n < 600 {
		k := 1 + rng.IntN(70)
		batch := encodedLeaves(n, n+k)
		first, err := l.Append(ctx, batch...)
		if err != nil {
			t.Fatal(err)
		}
		if first != int64(n) {
			t.Fatalf("first index %d, want %d", first, n)
		}
		for i, b := range batch {
			hs, err := tlog.StoredHashes(int64(n+i), b, reader)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, hs...)
		}
		n += k
		root, err := l.Root(ctx, int64(n))
		if err != nil {
			t.Fatal(err)
		}
		wantRoot, err := tlog.TreeHash(int64(n), reader)
		if err != nil || root != wantRoot {
			t.Fatalf("size %d: root %v, want %v (%v)", n, root, wantRoot, err)
		}
	}
	if len(m.hashes) != len(want) {
		t.Fatalf("%d stored hashes, want %d", len(m.hashes), len(want))
	}
	for i := range want {
		if m.hashes[i] != want[i] {
			t.Fatalf("stored hash %d differs from tlog's", i)
		}
	}
}

func TestAppendRejectsInvalidLeafAtomically(t *testing.T) {
	ctx := context.Background()
	l := NewLog(NewMemStorage())
	batch := encodedLeaves(0, 5)
	batch[3] = []byte("consentgate-leaf/v1\nevent jane@example.com\n")
	if _, err := l.Append(ctx, batch...); !errors.Is(err, ErrMalformedLeaf) {
		t.Fatalf("Append = %v, want ErrMalformedLeaf", err)
	}
	if n, _ := l.Size(ctx); n != 0 {
		t.Fatalf("tree size %d after a rejected batch, want 0", n)
	}
	if _, err := l.Append(ctx); err == nil {
		t.Fatal("empty append accepted")
	}
}

// TestConcurrentAppends runs writers in one process (one Log) and across
// "nodes" (two Logs sharing a storage, racing through ErrConflict retries).
func TestConcurrentAppends(t *testing.T) {
	ctx := context.Background()
	m := NewMemStorage()
	logs := []*Log{NewLog(m), NewLog(m)}
	const writers, batches, size = 6, 20, 7
	var wg sync.WaitGroup
	errs := make(chan error, writers*batches)
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				start := (w*batches + b) * size
				if _, err := logs[w%2].Append(ctx, encodedLeaves(start, start+size)...); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n, _ := m.TreeSize(ctx); n != writers*batches*size {
		t.Fatalf("tree size %d, want %d", n, writers*batches*size)
	}
	s := testSigner(t)
	if _, _, err := logs[0].Checkpoint(ctx, s, testEpoch); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(ctx, m, s.VerifierKey()); err != nil {
		t.Fatal(err)
	}
}

// conflictStorage makes every Append lose the race, like a node whose
// neighbours always commit first.
type conflictStorage struct{ *MemStorage }

func (conflictStorage) Append(context.Context, int64, [][]byte, []tlog.Hash) error {
	return ErrConflict
}

func TestAppendGivesUpAfterRetries(t *testing.T) {
	l := NewLog(conflictStorage{NewMemStorage()})
	if _, err := l.Append(context.Background(), encodedLeaves(0, 1)...); !errors.Is(err, ErrConflict) {
		t.Fatalf("Append = %v, want ErrConflict", err)
	}
}

func TestCheckpointSequenceAndClock(t *testing.T) {
	ctx := context.Background()
	l, m, s := buildLog(t, 10, 10, 0)
	first, err := ParseCheckpoint(latestNote(t, m), s.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(ctx, encodedLeaves(10, 12)...); err != nil {
		t.Fatal(err)
	}
	// A node whose clock is behind still produces a non-decreasing time.
	c, signed, err := l.Checkpoint(ctx, s, first.Time.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if c.Seq != first.Seq+1 || c.Size != 12 || !c.Time.Equal(first.Time) {
		t.Fatalf("checkpoint %+v after %+v", c, first)
	}
	if got, _ := ParseCheckpoint(signed, s.VerifierKey()); got != c {
		t.Fatalf("signed note says %+v, returned %+v", got, c)
	}
	root, _ := l.Root(ctx, 12)
	if c.Root != root {
		t.Fatal("checkpoint root is not the tree root")
	}
}

func TestCheckpointOfEmptyLog(t *testing.T) {
	ctx := context.Background()
	l := NewLog(NewMemStorage())
	s := testSigner(t)
	c, _, err := l.Checkpoint(ctx, s, testEpoch)
	if err != nil {
		t.Fatal(err)
	}
	if c.Size != 0 || c.Root != emptyRoot || c.Seq != 0 {
		t.Fatalf("empty checkpoint %+v", c)
	}
	if _, err := Verify(ctx, l.Storage(), s.VerifierKey()); err != nil {
		t.Fatal(err)
	}
}

// TestAllProofs proves every leaf in every tree size 1..N and every pair of
// sizes, checks each proof verifies, and that one flipped bit anywhere (proof,
// leaf, either root) makes it fail.
func TestAllProofs(t *testing.T) {
	const N = 100
	ctx := context.Background()
	l, _, _ := buildLog(t, N, 13, 0)
	leaves := encodedLeaves(0, N)
	roots := make([]Checkpoint, N+1)
	for n := range roots {
		r, err := l.Root(ctx, int64(n))
		if err != nil {
			t.Fatal(err)
		}
		roots[n] = Checkpoint{Origin: testOrigin, Size: int64(n), Root: r}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	flip := func(h tlog.Hash) tlog.Hash { h[rng.IntN(len(h))] ^= 1 << rng.IntN(8); return h }
	for size := int64(1); size <= N; size++ {
		for i := range size {
			p, err := l.InclusionProof(ctx, i, size)
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyInclusion(roots[size], i, leaves[i], p); err != nil {
				t.Fatalf("size %d leaf %d: %v", size, i, err)
			}
			leaf := []byte(string(leaves[i]))
			leaf[rng.IntN(len(leaf))] ^= 1 << rng.IntN(8)
			bad := roots[size]
			bad.Root = flip(bad.Root)
			if VerifyInclusion(roots[size], i, leaf, p) == nil || VerifyInclusion(bad, i, leaves[i], p) == nil {
				t.Fatalf("size %d leaf %d: flipped leaf or root verified", size, i)
			}
			if len(p) > 0 {
				q := append(tlog.RecordProof(nil), p...)
				k := rng.IntN(len(q))
				q[k] = flip(q[k])
				if VerifyInclusion(roots[size], i, leaves[i], q) == nil {
					t.Fatalf("size %d leaf %d: flipped proof hash %d verified", size, i, k)
				}
			}
		}
		for from := int64(1); from <= size; from++ {
			p, err := l.ConsistencyProof(ctx, from, size)
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyConsistency(roots[from], roots[size], p); err != nil {
				t.Fatalf("%d -> %d: %v", from, size, err)
			}
			older, newer := roots[from], roots[size]
			older.Root, newer.Root = flip(older.Root), flip(newer.Root)
			if VerifyConsistency(older, roots[size], p) == nil || VerifyConsistency(roots[from], newer, p) == nil {
				t.Fatalf("%d -> %d: flipped root verified", from, size)
			}
			if len(p) > 0 {
				q := append(tlog.TreeProof(nil), p...)
				k := rng.IntN(len(q))
				q[k] = flip(q[k])
				if VerifyConsistency(roots[from], roots[size], q) == nil {
					t.Fatalf("%d -> %d: flipped proof hash %d verified", from, size, k)
				}
			}
		}
	}
	if _, err := l.InclusionProof(ctx, 5, N+1); err == nil {
		t.Fatal("proof for a size beyond the tree")
	}
	if _, err := l.InclusionProof(ctx, N, N); err == nil {
		t.Fatal("proof for a leaf beyond the tree size")
	}
	if _, err := l.ConsistencyProof(ctx, 0, N); err == nil {
		t.Fatal("consistency proof from the empty tree")
	}
}
