package ledger

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"golang.org/x/mod/sumdb/tlog"
)

// MemStorage is an in-memory Storage for tests, benchmarks and tools. It
// follows the Storage contract exactly (conditional writes, copies in and
// out), so code tested against it behaves the same on the SQL stores.
type MemStorage struct {
	mu          sync.RWMutex
	leaves      [][]byte
	hashes      []tlog.Hash
	checkpoints []StoredCheckpoint
}

var _ Storage = (*MemStorage)(nil)

// NewMemStorage returns an empty in-memory ledger storage.
func NewMemStorage() *MemStorage { return &MemStorage{} }

// TreeSize implements Storage.
func (m *MemStorage) TreeSize(ctx context.Context) (int64, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return int64(len(m.leaves)), ctx.Err()
}

// ReadHashes implements Storage.
func (m *MemStorage) ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(m.hashes)) {
			return nil, fmt.Errorf("stored hash %d: %w", x, ErrNotFound)
		}
		out[i] = m.hashes[x]
	}
	return out, nil
}

// ReadLeaves implements Storage.
func (m *MemStorage) ReadLeaves(ctx context.Context, start int64, n int) ([][]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if start < 0 || n < 0 {
		return nil, fmt.Errorf("ledger: ReadLeaves(%d, %d): invalid range", start, n)
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	end := min(start+int64(n), int64(len(m.leaves)))
	if start >= end {
		return nil, nil
	}
	out := make([][]byte, 0, end-start)
	for _, l := range m.leaves[start:end] {
		out = append(out, bytes.Clone(l))
	}
	return out, nil
}

// Append implements Storage.
func (m *MemStorage) Append(ctx context.Context, first int64, leaves [][]byte, hashes []tlog.Hash) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if first != int64(len(m.leaves)) {
		return fmt.Errorf("append at %d, tree size %d: %w", first, len(m.leaves), ErrConflict)
	}
	base, end := tlog.StoredHashIndex(0, first), tlog.StoredHashIndex(0, first+int64(len(leaves)))
	if int64(len(m.hashes)) != base {
		return fmt.Errorf("ledger: memstorage holds %d hashes, want %d for %d leaves", len(m.hashes), base, first)
	}
	if int64(len(hashes)) != end-base {
		return fmt.Errorf("ledger: append of %d leaves needs %d hashes, got %d", len(leaves), end-base, len(hashes))
	}
	for _, l := range leaves {
		m.leaves = append(m.leaves, bytes.Clone(l))
	}
	m.hashes = append(m.hashes, hashes...)
	return nil
}

// SaveCheckpoint implements Storage.
func (m *MemStorage) SaveCheckpoint(ctx context.Context, cp StoredCheckpoint) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if cp.Seq != int64(len(m.checkpoints)) {
		return fmt.Errorf("checkpoint seq %d, have %d: %w", cp.Seq, len(m.checkpoints), ErrConflict)
	}
	cp.Note = bytes.Clone(cp.Note)
	m.checkpoints = append(m.checkpoints, cp)
	return nil
}

// ReadCheckpoints implements Storage.
func (m *MemStorage) ReadCheckpoints(ctx context.Context, start int64, n int) ([]StoredCheckpoint, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if start < 0 || n < 0 {
		return nil, fmt.Errorf("ledger: ReadCheckpoints(%d, %d): invalid range", start, n)
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	end := min(start+int64(n), int64(len(m.checkpoints)))
	var out []StoredCheckpoint
	for i := start; i < end; i++ {
		cp := m.checkpoints[i]
		cp.Note = bytes.Clone(cp.Note)
		out = append(out, cp)
	}
	return out, nil
}

// LatestCheckpoint implements Storage.
func (m *MemStorage) LatestCheckpoint(ctx context.Context) (StoredCheckpoint, error) {
	if err := ctx.Err(); err != nil {
		return StoredCheckpoint{}, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if len(m.checkpoints) == 0 {
		return StoredCheckpoint{}, fmt.Errorf("latest checkpoint: %w", ErrNotFound)
	}
	cp := m.checkpoints[len(m.checkpoints)-1]
	cp.Note = bytes.Clone(cp.Note)
	return cp, nil
}
