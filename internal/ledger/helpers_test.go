package ledger

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const testOrigin = "consentgate.example/ledger"

// testEpoch is the injected "now" of the tests; nothing reads the wall clock.
var testEpoch = time.Date(2025, 3, 14, 9, 26, 53, 589793000, time.UTC)

var (
	keyOnce            sync.Once
	testSKey, testVKey string
)

// testSigner returns the signer for testOrigin with the fixed test key.
func testSigner(t testing.TB) *Signer {
	t.Helper()
	keyOnce.Do(func() {
		// A fixed seed makes signatures, receipts and fuzz corpora
		// reproducible across runs (Ed25519 signing is deterministic).
		seed := sha256.Sum256([]byte("consentgate ledger test key"))
		var err error
		if testSKey, testVKey, err = note.GenerateKey(bytes.NewReader(seed[:]), testOrigin); err != nil {
			panic(err)
		}
	})
	s, err := NewSigner(testSKey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// testULID returns a canonical ULID derived from (kind, n): distinct inputs
// give distinct ids, and the first 10 characters encode a plausible time.
func testULID(kind string, n uint64) string {
	var in [16]byte
	copy(in[:8], kind)
	binary.BigEndian.PutUint64(in[8:], n)
	sum := sha256.Sum256(in[:])
	b := make([]byte, 26)
	b[0] = '0'
	for i := 1; i < 26; i++ {
		b[i] = crockford[sum[i]%32]
	}
	// Make distinct n distinct ids regardless of hash collisions mod 32.
	for i := 0; i < 8; i++ {
		b[25-i] = crockford[(n>>(5*i))&31]
	}
	return string(b)
}

var testStatuses = []Status{StatusGranted, StatusWithdrawn, StatusObjected, StatusPending, StatusConfirmed, StatusErased}

// testLeaf returns the n'th synthetic consent event.
func testLeaf(n int) Leaf {
	ev := sha256.Sum256([]byte{byte(n), byte(n >> 8), byte(n >> 16), byte(n >> 24)})
	return Leaf{
		EventID:       testULID("event", uint64(n)),
		Tenant:        "acme-dk",
		Contact:       testULID("contact", uint64(n%97)),
		Purpose:       []string{"newsletter", "offers", "order-updates", "2fa"}[n%4],
		Channel:       []string{"sms", "email", "whatsapp"}[n%3],
		Status:        testStatuses[n%len(testStatuses)],
		Time:          testEpoch.Add(time.Duration(n) * 1500 * time.Millisecond),
		Source:        []string{SourceKeyword, SourceWeb, SourceAPI, SourceImport}[n%4],
		NoticeVersion: 1 + n%5,
		Evidence:      hex.EncodeToString(ev[:]),
	}
}

// encodedLeaves returns the encodings of synthetic leaves [from, to).
func encodedLeaves(from, to int) [][]byte {
	out := make([][]byte, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, testLeaf(i).Encode())
	}
	return out
}

// buildLog appends n synthetic leaves in batches of batch, signing a
// checkpoint after every cpEvery leaves (0: never) and one at the end.
func buildLog(t testing.TB, n, batch, cpEvery int) (*Log, *MemStorage, *Signer) {
	t.Helper()
	ctx := context.Background()
	m := NewMemStorage()
	l := NewLog(m)
	s := testSigner(t)
	now := testEpoch
	sinceCP := 0
	for i := 0; i < n; {
		k := min(batch, n-i)
		if _, err := l.Append(ctx, encodedLeaves(i, i+k)...); err != nil {
			t.Fatal(err)
		}
		i += k
		sinceCP += k
		if cpEvery > 0 && sinceCP >= cpEvery && i < n {
			now = now.Add(time.Minute)
			if _, _, err := l.Checkpoint(ctx, s, now); err != nil {
				t.Fatal(err)
			}
			sinceCP = 0
		}
	}
	if _, _, err := l.Checkpoint(ctx, s, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	return l, m, s
}

// clone deep-copies a MemStorage so a test can tamper with the copy.
func (m *MemStorage) clone() *MemStorage {
	m.mu.RLock()
	defer m.mu.RUnlock()
	c := &MemStorage{hashes: append([]tlog.Hash(nil), m.hashes...)}
	for _, l := range m.leaves {
		c.leaves = append(c.leaves, bytes.Clone(l))
	}
	for _, cp := range m.checkpoints {
		cp.Note = bytes.Clone(cp.Note)
		c.checkpoints = append(c.checkpoints, cp)
	}
	return c
}

// rehash recomputes every stored hash from the leaves, as an attacker with
// write access to the database (but not the signing key) would after
// rewriting history.
func (m *MemStorage) rehash(t testing.TB) {
	t.Helper()
	m.hashes = nil
	for i, leaf := range m.leaves {
		hs, err := tlog.StoredHashes(int64(i), leaf, tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
			out := make([]tlog.Hash, len(idx))
			for j, x := range idx {
				out[j] = m.hashes[x]
			}
			return out, nil
		}))
		if err != nil {
			t.Fatal(err)
		}
		m.hashes = append(m.hashes, hs...)
	}
}

// latestNote returns the newest stored signed checkpoint.
func latestNote(t testing.TB, m *MemStorage) []byte {
	t.Helper()
	cp, err := m.LatestCheckpoint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return cp.Note
}
