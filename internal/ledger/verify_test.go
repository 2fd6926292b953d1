package ledger

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

func TestVerifyClean(t *testing.T) {
	ctx := context.Background()
	l, m, s := buildLog(t, 300, 17, 40)
	rep, err := Verify(ctx, m, s.VerifierKey(), latestNote(t, m))
	if err != nil {
		t.Fatal(err)
	}
	root, _ := l.Root(ctx, 300)
	if rep.TreeSize != 300 || rep.Root != root || rep.Hashes != int64(len(m.hashes)) ||
		rep.Checkpoints != int64(len(m.checkpoints)) || rep.Anchors != 1 || len(rep.Problems) != 0 {
		t.Fatalf("report %+v", rep)
	}
}

func TestVerifyEmpty(t *testing.T) {
	s := testSigner(t)
	if _, err := Verify(context.Background(), NewMemStorage(), s.VerifierKey()); err != nil {
		t.Fatal(err)
	}
}

// mutation tampers with a stored ledger the way a person with write access
// to the database, but not the signing key, could.
type mutation struct {
	name  string
	apply func(t *testing.T, rng *rand.Rand, m *MemStorage)
}

func flipBit(rng *rand.Rand, b []byte) { b[rng.IntN(len(b))] ^= 1 << rng.IntN(8) }

func twoIndexes(rng *rand.Rand, n int) (int, int) {
	i := rng.IntN(n)
	j := (i + 1 + rng.IntN(n-1)) % n
	return i, j
}

var mutations = []mutation{
	{"flip a leaf bit", func(t *testing.T, rng *rand.Rand, m *MemStorage) { flipBit(rng, m.leaves[rng.IntN(len(m.leaves))]) }},
	{"flip a hash bit", func(t *testing.T, rng *rand.Rand, m *MemStorage) { flipBit(rng, m.hashes[rng.IntN(len(m.hashes))][:]) }},
	{"flip a checkpoint bit", func(t *testing.T, rng *rand.Rand, m *MemStorage) {
		flipBit(rng, m.checkpoints[rng.IntN(len(m.checkpoints))].Note)
	}},
	{"change a stored checkpoint size", func(t *testing.T, rng *rand.Rand, m *MemStorage) {
		m.checkpoints[rng.IntN(len(m.checkpoints))].Size += int64(1 + rng.IntN(3))
	}},
	{"change a stored checkpoint seq", func(t *testing.T, rng *rand.Rand, m *MemStorage) {
		m.checkpoints[rng.IntN(len(m.checkpoints))].Seq++
	}},
	{"delete a leaf", func(t *testing.T, rng *rand.Rand, m *MemStorage) {
		i := rng.IntN(len(m.leaves))
		m.leaves = slices.Delete(m.leaves, i, i+1)
	}},
	{"delete a hash", func(t *testing.T, rng *rand.Rand, m *MemStorage) {
		i := rng.IntN(len(m.hashes))
		m.hashes = slices.Delete(m.hashes, i, i+1)
	}},
	{"delete a checkpoint", func(t *testing.T, rng *rand.Rand, m *MemStorage) {
		i := rng.IntN(len(m.checkpoints))
		m.checkpoints = slices.Delete(m.checkpoints, i, i+1)
	}},
	{"duplicate a checkpoint", func(t *testing.T, rng *rand.Rand, m *MemStorage) {
		i := rng.IntN(len(m.checkpoints))
		m.checkpoints = slices.Insert(m.checkpoints, i, m.checkpoints[i])
	}},
	{"swap two leaves", func(t *testing.T, rng *rand.Rand, m *MemStorage) {
		i, j := twoIndexes(rng, len(m.leaves))
		m.leaves[i], m.leaves[j] = m.leaves[j], m.leaves[i]
	}},
	{"swap two hashes", func(t *testing.T, rng *rand.Rand, m *MemStorage) {
		i, j := twoIndexes(rng, len(m.hashes))
		m.hashes[i], m.hashes[j] = m.hashes[j], m.hashes[i]
	}},
	{"swap two checkpoints", func(t *testing.T, rng *rand.Rand, m *MemStorage) {
		i, j := twoIndexes(rng, len(m.checkpoints))
		m.checkpoints[i], m.checkpoints[j] = m.checkpoints[j], m.checkpoints[i]
	}},
	{"truncate leaves", func(t *testing.T, rng *rand.Rand, m *MemStorage) { m.leaves = m.leaves[:rng.IntN(len(m.leaves))] }},
	{"truncate hashes", func(t *testing.T, rng *rand.Rand, m *MemStorage) { m.hashes = m.hashes[:rng.IntN(len(m.hashes))] }},
	{"truncate checkpoints", func(t *testing.T, rng *rand.Rand, m *MemStorage) {
		m.checkpoints = m.checkpoints[:rng.IntN(len(m.checkpoints))]
	}},
	// The rest rewrite history and then recompute every stored hash, so the
	// tree is self-consistent and only the signed checkpoints can tell.
	{"edit a leaf and rehash", func(t *testing.T, rng *rand.Rand, m *MemStorage) {
		i := rng.IntN(len(m.leaves))
		l, _ := DecodeLeaf(m.leaves[i])
		l.Status = testStatuses[(slices.Index(testStatuses, l.Status)+1)%len(testStatuses)]
		m.leaves[i] = l.Encode()
		m.rehash(t)
	}},
	{"delete a leaf and rehash", func(t *testing.T, rng *rand.Rand, m *MemStorage) {
		i := rng.IntN(len(m.leaves))
		m.leaves = slices.Delete(m.leaves, i, i+1)
		m.rehash(t)
	}},
	{"swap two leaves and rehash", func(t *testing.T, rng *rand.Rand, m *MemStorage) {
		i, j := twoIndexes(rng, len(m.leaves))
		m.leaves[i], m.leaves[j] = m.leaves[j], m.leaves[i]
		m.rehash(t)
	}},
	{"insert a leaf and rehash", func(t *testing.T, rng *rand.Rand, m *MemStorage) {
		m.leaves = slices.Insert(m.leaves, rng.IntN(len(m.leaves)), testLeaf(100000).Encode())
		m.rehash(t)
	}},
	{"truncate leaves, rehash, drop later checkpoints", func(t *testing.T, rng *rand.Rand, m *MemStorage) {
		k := rng.IntN(len(m.leaves))
		m.leaves = m.leaves[:k]
		m.rehash(t)
		m.checkpoints = slices.DeleteFunc(m.checkpoints, func(c StoredCheckpoint) bool { return c.Size > int64(k) })
	}},
}

// TestVerifyDetectsTampering is the property: every random edit of a stored
// ledger is reported by Verify, given the latest checkpoint as an anchor.
func TestVerifyDetectsTampering(t *testing.T) {
	ctx := context.Background()
	_, base, s := buildLog(t, 160, 11, 25)
	anchor := latestNote(t, base)
	rng := rand.New(rand.NewPCG(5, 6))
	trials := 300
	if testing.Short() {
		trials = 100
	}
	for trial := range trials {
		mu := mutations[trial%len(mutations)]
		m := base.clone()
		mu.apply(t, rng, m)
		rep, err := Verify(ctx, m, s.VerifierKey(), anchor)
		if !errors.Is(err, ErrTampered) {
			t.Fatalf("trial %d, %s: not detected (err %v, report %+v)", trial, mu.name, err, rep)
		}
		if len(rep.Problems) == 0 || rep.TotalProblems < len(rep.Problems) {
			t.Fatalf("trial %d, %s: error without problems: %+v", trial, mu.name, rep)
		}
	}
}

// TestVerifyMessages pins the wording operators will see for common cases.
func TestVerifyMessages(t *testing.T) {
	ctx := context.Background()
	l, base, s := buildLog(t, 100, 10, 20)
	cases := []struct {
		name   string
		tamper func(m *MemStorage)
		want   string
	}{
		{"leaf byte", func(m *MemStorage) { m.leaves[42][30] ^= 1 }, "leaf 42: stored hash differs from recomputed"},
		{"leaf hash", func(m *MemStorage) { m.hashes[tlog.StoredHashIndex(0, 57)][0] ^= 1 }, "leaf 57: stored hash differs from recomputed"},
		{"interior hash", func(m *MemStorage) { m.hashes[tlog.StoredHashIndex(2, 3)][0] ^= 1 }, "leaf 15: stored interior hash (level 2, node 3) differs"},
		{"rewritten history", func(m *MemStorage) { m.leaves[3] = testLeaf(999).Encode(); m.rehash(t) }, "checkpoint 0 (size 20): root mismatch"},
		{"checkpoint signature", func(m *MemStorage) { m.checkpoints[2].Note[5] ^= 1 }, "checkpoint 2: "},
		{"deleted checkpoint", func(m *MemStorage) { m.checkpoints = slices.Delete(m.checkpoints, 1, 2) }, "checkpoint 1: holds seq 2 (stored) / 2 (signed): checkpoints deleted or reordered?"},
		{"truncated", func(m *MemStorage) { m.leaves = m.leaves[:90] }, "checkpoint 4 (size 100): beyond the 90 leaves in storage"},
		{"missing hashes", func(m *MemStorage) { m.hashes = m.hashes[:20] }, "leaf 11: stored hashes missing"},
		{"malformed leaf", func(m *MemStorage) {
			m.leaves[7] = []byte(strings.Replace(string(m.leaves[7]), "tenant acme-dk", "tenant Jane Doe", 1))
			m.rehash(t)
		}, "leaf 7: malformed leaf: invalid tenant"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := base.clone()
			c.tamper(m)
			_, err := Verify(ctx, m, s.VerifierKey())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Verify = %v\nwant it to contain %q", err, c.want)
			}
		})
	}
	// A checkpoint signed with the right key over a wrong root (a buggy or
	// compromised writer) is caught by recomputation, not by the signature.
	m := base.clone()
	bad := Checkpoint{Origin: testOrigin, Size: 100, Seq: int64(len(m.checkpoints)), Time: testEpoch.Add(time.Hour)}
	bad.Root, _ = l.Root(ctx, 99)
	note, err := s.Sign(bad)
	if err != nil {
		t.Fatal(err)
	}
	m.checkpoints = append(m.checkpoints, StoredCheckpoint{Seq: bad.Seq, Size: 100, Note: note})
	rep, err := Verify(ctx, m, s.VerifierKey())
	if !errors.Is(err, ErrTampered) {
		t.Fatalf("Verify = %v", err)
	}
	got := strings.Join(rep.Problems, "\n")
	for _, want := range []string{
		"checkpoint 5 (size 100): not consistent with checkpoint 4 (size 100)",
		"checkpoint 5 (size 100): root mismatch",
	} {
		if !strings.Contains(got, want) {
			t.Fatalf("problems:\n%s\nwant %q", got, want)
		}
	}
}

// TestVerifyAnchorsDetectRollback shows what the anchor is for: dropping the
// newest checkpoint together with the leaves it alone covered leaves a
// shorter, self-consistent ledger that only an outside copy can expose.
func TestVerifyAnchorsDetectRollback(t *testing.T) {
	ctx := context.Background()
	_, m, s := buildLog(t, 100, 10, 40)
	anchor := latestNote(t, m)
	prev := m.checkpoints[len(m.checkpoints)-2]
	m.checkpoints = m.checkpoints[:len(m.checkpoints)-1]
	m.leaves = m.leaves[:prev.Size]
	m.rehash(t)
	if _, err := Verify(ctx, m, s.VerifierKey()); err != nil {
		t.Fatalf("rollback without anchor: %v (expected undetectable)", err)
	}
	_, err := Verify(ctx, m, s.VerifierKey(), anchor)
	if want := "missing from storage"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Verify with anchor = %v, want %q", err, want)
	}
}

func TestVerifyWrongKey(t *testing.T) {
	_, m, _ := buildLog(t, 10, 10, 0)
	_, otherV, _ := GenerateKey(testOrigin)
	_, err := Verify(context.Background(), m, otherV)
	if !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), "checkpoint 0: no signature by "+testOrigin) {
		t.Fatalf("Verify with another key = %v", err)
	}
}
