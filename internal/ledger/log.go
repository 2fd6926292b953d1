package ledger

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// maxRetries bounds how often Append and Checkpoint retry after another
// writer (another node) won the race for the same tree size.
const maxRetries = 8

// emptyRoot is the RFC 6962 root of the empty tree, SHA-256 of nothing.
var emptyRoot = tlog.Hash(sha256.Sum256(nil))

// ErrNotCheckpointed means a leaf is not yet covered by any checkpoint, so no
// receipt can be issued for it until the next checkpoint is signed.
var ErrNotCheckpointed = errors.New("ledger: leaf not yet covered by a checkpoint")

// Log is the writer and prover over a Storage. Appends and checkpoints are
// serialised inside the process by a mutex; across processes the Storage's
// conditional writes (ErrConflict) keep the tree linear and the Log retries.
// Reads (proofs, sizes, roots) take no lock: stored hashes never change once
// written, so any committed size can be read while appends go on.
type Log struct {
	store Storage
	mu    sync.Mutex
}

// NewLog returns a Log over s.
func NewLog(s Storage) *Log { return &Log{store: s} }

// Storage returns the storage the log writes to, for Verify and tools.
func (l *Log) Storage() Storage { return l.store }

// Append validates and commits leaves (each an encoded Leaf) in one storage
// transaction and returns the index of the first. One call with many leaves
// is how a group commit should use it: the per-call cost (a size read, one
// frontier read, one write) is paid once per batch, not once per event.
func (l *Log) Append(ctx context.Context, leaves ...[]byte) (firstIndex int64, err error) {
	if len(leaves) == 0 {
		return 0, errors.New("ledger: append of no leaves")
	}
	records := make([]tlog.Hash, len(leaves))
	for i, b := range leaves {
		if _, err := DecodeLeaf(b); err != nil {
			return 0, fmt.Errorf("ledger: append: leaf %d of batch: %w", i, err)
		}
		records[i] = tlog.RecordHash(b)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for range maxRetries {
		first, err := l.store.TreeSize(ctx)
		if err != nil {
			return 0, fmt.Errorf("ledger: append: tree size: %w", err)
		}
		hashes, err := l.batchHashes(ctx, first, records)
		if err != nil {
			return 0, fmt.Errorf("ledger: append at %d: %w", first, err)
		}
		err = l.store.Append(ctx, first, leaves, hashes)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("ledger: append at %d: %w", first, err)
		}
		return first, nil
	}
	return 0, fmt.Errorf("ledger: append: %w after %d attempts", ErrConflict, maxRetries)
}

// batchHashes computes the stored hashes for records appended at index first.
// tlog.StoredHashes reads the left siblings of each completed subtree; those
// are either hashes of this batch or roots of the perfect subtrees that make
// up the current tree (its frontier), read from storage once up front.
func (l *Log) batchHashes(ctx context.Context, first int64, records []tlog.Hash) ([]tlog.Hash, error) {
	base := tlog.StoredHashIndex(0, first)
	frontier := map[int64]tlog.Hash{}
	if idx := frontierIndexes(first); len(idx) > 0 {
		hs, err := l.store.ReadHashes(ctx, idx)
		if err != nil {
			return nil, fmt.Errorf("reading frontier: %w", err)
		}
		if len(hs) != len(idx) {
			return nil, fmt.Errorf("reading frontier: got %d hashes for %d indexes", len(hs), len(idx))
		}
		for i, x := range idx {
			frontier[x] = hs[i]
		}
	}
	out := make([]tlog.Hash, 0, 2*len(records)+64)
	r := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		hs := make([]tlog.Hash, len(indexes))
		for i, x := range indexes {
			switch h, ok := frontier[x]; {
			case x >= base && x-base < int64(len(out)):
				hs[i] = out[x-base]
			case ok:
				hs[i] = h
			default:
				return nil, fmt.Errorf("stored hash %d outside frontier: %w", x, ErrNotFound)
			}
		}
		return hs, nil
	})
	for i, rec := range records {
		hs, err := tlog.StoredHashesForRecordHash(first+int64(i), rec, r)
		if err != nil {
			return nil, err
		}
		out = append(out, hs...)
	}
	return out, nil
}

// frontierIndexes returns the stored-hash indexes of the roots of the perfect
// subtrees that partition a tree of n leaves, largest first. They are all a
// writer needs to extend the tree and all a reader needs for its root.
func frontierIndexes(n int64) []int64 {
	var idx []int64
	lo := int64(0)
	for level := 62; level >= 0; level-- {
		if n&(1<<level) != 0 {
			idx = append(idx, tlog.StoredHashIndex(level, lo>>level))
			lo += 1 << level
		}
	}
	return idx
}

// Size returns the current number of leaves.
func (l *Log) Size(ctx context.Context) (int64, error) { return l.store.TreeSize(ctx) }

// Root returns the root hash of the tree of the first size leaves.
func (l *Log) Root(ctx context.Context, size int64) (tlog.Hash, error) {
	if err := l.checkSize(ctx, size); err != nil {
		return tlog.Hash{}, err
	}
	return tlog.TreeHash(size, hashReader(ctx, l.store))
}

// Checkpoint signs the tree as it is now and saves the checkpoint. The time
// comes from the caller's clock; if it is earlier than the previous
// checkpoint's (clock skew between nodes) the previous time is used, so
// checkpoint times never go backwards.
func (l *Log) Checkpoint(ctx context.Context, s *Signer, now time.Time) (Checkpoint, []byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for range maxRetries {
		c := Checkpoint{Origin: s.Origin(), Time: now.UTC()}
		prevSize := int64(0)
		prev, err := l.store.LatestCheckpoint(ctx)
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return Checkpoint{}, nil, fmt.Errorf("ledger: checkpoint: %w", err)
		default:
			p, err := ParseCheckpoint(prev.Note, s.VerifierKey())
			if err != nil {
				return Checkpoint{}, nil, fmt.Errorf("ledger: checkpoint: previous checkpoint %d: %w", prev.Seq, err)
			}
			c.Seq = prev.Seq + 1
			prevSize = p.Size
			if c.Time.Before(p.Time) {
				c.Time = p.Time
			}
		}
		if c.Size, err = l.store.TreeSize(ctx); err != nil {
			return Checkpoint{}, nil, fmt.Errorf("ledger: checkpoint: %w", err)
		}
		if c.Size < prevSize {
			return Checkpoint{}, nil, fmt.Errorf("ledger: checkpoint: tree has %d leaves, checkpoint %d signed %d", c.Size, c.Seq-1, prevSize)
		}
		if c.Root, err = tlog.TreeHash(c.Size, hashReader(ctx, l.store)); err != nil {
			return Checkpoint{}, nil, fmt.Errorf("ledger: checkpoint: root of %d: %w", c.Size, err)
		}
		signed, err := s.Sign(c)
		if err != nil {
			return Checkpoint{}, nil, err
		}
		err = l.store.SaveCheckpoint(ctx, StoredCheckpoint{Seq: c.Seq, Size: c.Size, Note: signed})
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return Checkpoint{}, nil, fmt.Errorf("ledger: checkpoint %d: %w", c.Seq, err)
		}
		return c, signed, nil
	}
	return Checkpoint{}, nil, fmt.Errorf("ledger: checkpoint: %w after %d attempts", ErrConflict, maxRetries)
}

// InclusionProof proves that leaf index is in the tree of size treeSize
// (RFC 6962 audit path, leaf to root, as tlog.RecordProof).
func (l *Log) InclusionProof(ctx context.Context, index, treeSize int64) (tlog.RecordProof, error) {
	if err := l.checkSize(ctx, treeSize); err != nil {
		return nil, err
	}
	if index < 0 || index >= treeSize {
		return nil, fmt.Errorf("ledger: inclusion proof: leaf %d not in tree of size %d", index, treeSize)
	}
	return tlog.ProveRecord(treeSize, index, hashReader(ctx, l.store))
}

// ConsistencyProof proves that the tree of size from is a prefix of the tree
// of size to (RFC 6962 consistency proof, as tlog.TreeProof).
func (l *Log) ConsistencyProof(ctx context.Context, from, to int64) (tlog.TreeProof, error) {
	if err := l.checkSize(ctx, to); err != nil {
		return nil, err
	}
	if from < 1 || from > to {
		return nil, fmt.Errorf("ledger: consistency proof: invalid sizes %d -> %d", from, to)
	}
	return tlog.ProveTree(to, from, hashReader(ctx, l.store))
}

func (l *Log) checkSize(ctx context.Context, size int64) error {
	n, err := l.store.TreeSize(ctx)
	if err != nil {
		return fmt.Errorf("ledger: tree size: %w", err)
	}
	if size < 0 || size > n {
		return fmt.Errorf("ledger: tree size %d requested, log has %d leaves", size, n)
	}
	return nil
}

// VerifyInclusion checks that leaf is at index in the tree that c signs.
// Only a checkpoint from ParseCheckpoint should be passed: this function
// trusts c's root, it does not look at any signature.
func VerifyInclusion(c Checkpoint, index int64, leaf []byte, proof tlog.RecordProof) error {
	if index < 0 || index >= c.Size {
		return fmt.Errorf("ledger: leaf %d outside checkpoint of size %d", index, c.Size)
	}
	if err := tlog.CheckRecord(proof, c.Size, c.Root, index, tlog.RecordHash(leaf)); err != nil {
		return fmt.Errorf("ledger: leaf %d: inclusion proof does not lead to the root of size %d: %w", index, c.Size, err)
	}
	return nil
}

// VerifyConsistency checks that the tree signed by older is a prefix of the
// tree signed by newer, i.e. that nothing was rewritten between them.
func VerifyConsistency(older, newer Checkpoint, proof tlog.TreeProof) error {
	switch {
	case older.Size > newer.Size:
		return fmt.Errorf("ledger: consistency: size %d is larger than %d", older.Size, newer.Size)
	case older.Size == 0 && older.Root != emptyRoot:
		return fmt.Errorf("ledger: consistency: empty tree with root %s", older.Root)
	case older.Size == 0:
		return nil // the empty tree is a prefix of every tree
	}
	if err := tlog.CheckTree(proof, newer.Size, newer.Root, older.Size, older.Root); err != nil {
		return fmt.Errorf("ledger: consistency %d -> %d: %w", older.Size, newer.Size, err)
	}
	return nil
}
