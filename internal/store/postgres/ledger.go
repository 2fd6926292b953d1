package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/consentgate/consentgate/internal/ledger"
	"github.com/consentgate/consentgate/internal/store"
	"golang.org/x/mod/sumdb/tlog"
)

// Ledger returns the database as the ledger's storage. Several nodes share
// it: Append and SaveCheckpoint check the tree size or checkpoint count and
// write in one transaction, and when two nodes race, the primary key on the
// index makes the second fail with ErrConflict (READ COMMITTED waits for the
// first to commit, then reports the duplicate), which the ledger retries.
func (db *DB) Ledger() ledger.Storage { return ledgerStorage{db} }

type ledgerStorage struct{ db *DB }

var _ ledger.Storage = ledgerStorage{}

// ledgerErr maps store sentinels onto the ledger's (store.LedgerErr).
func ledgerErr(err error) error { return store.LedgerErr(err) }

// read runs fn in a read transaction and maps its error for the ledger.
func (l ledgerStorage) read(ctx context.Context, fn func(t *tx) error) error {
	return ledgerErr(l.db.Read(ctx, func(stx store.Tx) error { return fn(stx.(*tx)) }))
}

func (l ledgerStorage) TreeSize(ctx context.Context) (int64, error) {
	var n int64
	err := l.read(ctx, func(t *tx) error { return t.queryRow(ctx, qLedgerSize).Scan(&n) })
	return n, err
}

func (l ledgerStorage) ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	pos := make(map[int64][]int, len(indexes))
	for i, x := range indexes {
		pos[x] = append(pos[x], i)
	}
	err := l.read(ctx, func(t *tx) error {
		return scanEach(ctx, t, qLedgerReadHashes, func(r row) error {
			var idx int64
			var h []byte
			if err := r.Scan(&idx, &h); err != nil {
				return mapErr(err)
			}
			if len(h) != tlog.HashSize {
				return fmt.Errorf("ledger: stored hash %d has %d bytes", idx, len(h))
			}
			for _, i := range pos[idx] {
				copy(out[i][:], h)
			}
			delete(pos, idx)
			return nil
		}, indexes)
	})
	if err != nil {
		return nil, err
	}
	for x := range pos {
		return nil, fmt.Errorf("stored hash %d: %w", x, ledger.ErrNotFound)
	}
	return out, nil
}

func (l ledgerStorage) ReadLeaves(ctx context.Context, start int64, n int) ([][]byte, error) {
	var out [][]byte
	err := l.read(ctx, func(t *tx) error {
		return scanEach(ctx, t, qLedgerReadLeaves, func(r row) error {
			var b []byte
			if err := r.Scan(&b); err != nil {
				return mapErr(err)
			}
			out = append(out, b)
			return nil
		}, start, n)
	})
	return out, err
}

// Append stores the leaves and hashes in one write transaction, conditional
// on the tree size, as ledger.Storage requires.
func (l ledgerStorage) Append(ctx context.Context, first int64, leaves [][]byte, hashes []tlog.Hash) error {
	return ledgerErr(l.db.Write(ctx, func(stx store.Tx) error {
		t := stx.(*tx)
		var size int64
		if err := t.queryRow(ctx, qLedgerSize).Scan(&size); err != nil {
			return err
		}
		if size != first {
			return fmt.Errorf("%w: tree size is %d, append expected %d", store.ErrConflict, size, first)
		}
		for i, b := range leaves {
			leaf, err := ledger.DecodeLeaf(b)
			if err != nil {
				return err
			}
			if _, err := t.exec(ctx, qLedgerInsertLeaf, first+int64(i), leaf.EventID, b); err != nil {
				return err
			}
		}
		base := tlog.StoredHashIndex(0, first)
		for i, h := range hashes {
			if _, err := t.exec(ctx, qLedgerInsertHash, base+int64(i), h[:]); err != nil {
				return err
			}
		}
		return nil
	}))
}

func (l ledgerStorage) SaveCheckpoint(ctx context.Context, cp ledger.StoredCheckpoint) error {
	return ledgerErr(l.db.Write(ctx, func(stx store.Tx) error {
		t := stx.(*tx)
		var n int64
		if err := t.queryRow(ctx, qLedgerCountCps).Scan(&n); err != nil {
			return err
		}
		if n != cp.Seq {
			return fmt.Errorf("%w: %d checkpoints stored, new one has seq %d", store.ErrConflict, n, cp.Seq)
		}
		_, err := t.exec(ctx, qLedgerInsertCp, cp.Seq, cp.Size, cp.Note)
		return err
	}))
}

func scanCheckpoint(r row) (ledger.StoredCheckpoint, error) {
	var cp ledger.StoredCheckpoint
	err := r.Scan(&cp.Seq, &cp.Size, &cp.Note)
	return cp, mapErr(err)
}

func (l ledgerStorage) ReadCheckpoints(ctx context.Context, start int64, n int) ([]ledger.StoredCheckpoint, error) {
	var out []ledger.StoredCheckpoint
	err := l.read(ctx, func(t *tx) error {
		return scanEach(ctx, t, qLedgerReadCps, func(r row) error {
			cp, err := scanCheckpoint(r)
			if err == nil {
				out = append(out, cp)
			}
			return err
		}, start, n)
	})
	return out, err
}

func (l ledgerStorage) LatestCheckpoint(ctx context.Context) (ledger.StoredCheckpoint, error) {
	var cp ledger.StoredCheckpoint
	err := l.read(ctx, func(t *tx) (err error) {
		cp, err = scanCheckpoint(t.queryRow(ctx, qLedgerLatestCp))
		return err
	})
	return cp, err
}

// The ledger's transactional methods (store.LedgerTx).

func (t *tx) UnsequencedEvents(ctx context.Context, afterSeq int64, limit int) ([]*store.ConsentEvent, error) {
	return queryAll(ctx, t, qLedgerUnsequenced, scanEvent, afterSeq, limit)
}

func (t *tx) LedgerIndexOf(ctx context.Context, eventID string) (int64, error) {
	var idx int64
	err := t.queryRow(ctx, qLedgerIndexOfEvent, eventID).Scan(&idx)
	return idx, err
}

func (t *tx) GetLedgerKey(ctx context.Context, name string) (vkey string, skeySealed []byte, err error) {
	err = t.queryRow(ctx, qLedgerGetKey, name).Scan(&vkey, &skeySealed)
	return vkey, skeySealed, err
}

func (t *tx) CreateLedgerKey(ctx context.Context, name, vkey string, skeySealed []byte, at time.Time) error {
	_, err := t.exec(ctx, qLedgerCreateKey, name, vkey, skeySealed, us(at))
	return err
}
