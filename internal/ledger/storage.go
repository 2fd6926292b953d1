package ledger

import (
	"context"
	"errors"

	"golang.org/x/mod/sumdb/tlog"
)

// Sentinel errors that Storage implementations return (wrapped or bare), so
// the Log can react to them without knowing which database is underneath.
var (
	// ErrNotFound means a requested leaf, hash or checkpoint is not stored.
	ErrNotFound = errors.New("ledger: not found")
	// ErrConflict means an optimistic write lost a race: another writer
	// (another node, on PostgreSQL) appended or checkpointed first. The Log
	// re-reads the tree size and retries.
	ErrConflict = errors.New("ledger: conflicting write")
)

// StoredCheckpoint is a signed checkpoint as persisted. Seq numbers the
// checkpoints 0, 1, 2, ... and is also inside the signed text, so deleting or
// reordering stored checkpoints is detectable. Size is redundant with the
// signed text; it is kept so a store can find "the first checkpoint covering
// leaf i" with an index instead of parsing notes.
type StoredCheckpoint struct {
	Seq  int64
	Size int64
	Note []byte // the signed note exactly as signed
}

// Storage is where the ledger keeps its leaves, hashes and checkpoints. It is
// deliberately small so that each database store can implement it in a
// handful of named queries. Hashes are addressed by tlog's stored-hash index
// (tlog.StoredHashIndex), a dense numbering in which the hashes written for
// leaf n start at StoredHashIndex(0, n) and are never rewritten.
//
// Implementations must be safe for concurrent use. Only Append and
// SaveCheckpoint write, and both are conditional on the current state, which
// is what lets several stateless nodes share one PostgreSQL ledger.
type Storage interface {
	// TreeSize returns the number of committed leaves.
	TreeSize(ctx context.Context) (int64, error)

	// ReadHashes returns the stored hashes at the given stored-hash indexes,
	// in the same order, or an error wrapping ErrNotFound if any is missing.
	// Callers usually pass sorted indexes; runs of consecutive indexes are
	// common and worth a range query.
	ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error)

	// ReadLeaves returns at most n encoded leaves in index order, starting
	// at index start: an ordered scan ("index >= start ORDER BY index
	// LIMIT n"), so a missing row shows up as a shifted leaf, not a silent
	// gap. It returns fewer (possibly none) when the tree ends sooner.
	ReadLeaves(ctx context.Context, start int64, n int) ([][]byte, error)

	// Append atomically stores leaves at indexes first, first+1, ... and
	// hashes at stored-hash indexes StoredHashIndex(0, first), ... . It must
	// fail with ErrConflict, writing nothing, unless TreeSize is exactly
	// first; that check and the writes form one transaction.
	Append(ctx context.Context, first int64, leaves [][]byte, hashes []tlog.Hash) error

	// SaveCheckpoint stores a signed checkpoint. It must fail with
	// ErrConflict, writing nothing, unless cp.Seq equals the number of
	// checkpoints already stored.
	SaveCheckpoint(ctx context.Context, cp StoredCheckpoint) error

	// ReadCheckpoints returns at most n checkpoints in Seq order, starting
	// with the first whose Seq >= start: an ordered scan, so a deleted row
	// shows up as a wrong Seq rather than ending the list early. It returns
	// fewer (possibly none) when the list ends sooner.
	ReadCheckpoints(ctx context.Context, start int64, n int) ([]StoredCheckpoint, error)

	// LatestCheckpoint returns the checkpoint with the highest Seq, or an
	// error wrapping ErrNotFound when none has been saved yet.
	LatestCheckpoint(ctx context.Context) (StoredCheckpoint, error)
}

// hashReader adapts a Storage to tlog.HashReader, which has no context.
func hashReader(ctx context.Context, s Storage) tlog.HashReader {
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		return s.ReadHashes(ctx, indexes)
	})
}
