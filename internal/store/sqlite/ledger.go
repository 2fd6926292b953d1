package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/consentgate/consentgate/internal/ledger"
	"github.com/consentgate/consentgate/internal/store"
	"golang.org/x/mod/sumdb/tlog"
)

// Ledger returns the database as the ledger's storage.
func (db *DB) Ledger() ledger.Storage { return ledgerStorage{db} }

type ledgerStorage struct{ db *DB }

var _ ledger.Storage = ledgerStorage{}

// ledgerErr maps store sentinels onto the ledger's (store.LedgerErr).
func ledgerErr(err error) error { return store.LedgerErr(err) }

func (l ledgerStorage) TreeSize(ctx context.Context) (int64, error) {
	var n int64
	err := l.db.reader.QueryRowContext(ctx, qLedgerSize).Scan(&n)
	return n, ledgerErr(mapErr(err))
}

func (l ledgerStorage) ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	pos := make(map[int64][]int, len(indexes))
	for i, x := range indexes {
		pos[x] = append(pos[x], i)
	}
	const chunk = 500
	found := 0
	for start := 0; start < len(indexes); start += chunk {
		part := indexes[start:min(len(indexes), start+chunk)]
		args := make([]any, len(part))
		for i, x := range part {
			args[i] = x
		}
		q := `SELECT idx, hash FROM ledger_hashes WHERE idx IN (?` + strings.Repeat(",?", len(part)-1) + `)`
		rows, err := l.db.reader.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, ledgerErr(mapErr(err))
		}
		for rows.Next() {
			var idx int64
			var h []byte
			if err := rows.Scan(&idx, &h); err != nil {
				rows.Close()
				return nil, ledgerErr(mapErr(err))
			}
			if len(h) != tlog.HashSize {
				rows.Close()
				return nil, fmt.Errorf("ledger: stored hash %d has %d bytes", idx, len(h))
			}
			for _, i := range pos[idx] {
				copy(out[i][:], h)
				found++
			}
			delete(pos, idx)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, ledgerErr(mapErr(err))
		}
	}
	if found != len(indexes) {
		for x := range pos {
			return nil, fmt.Errorf("stored hash %d: %w", x, ledger.ErrNotFound)
		}
	}
	return out, nil
}

func (l ledgerStorage) ReadLeaves(ctx context.Context, start int64, n int) ([][]byte, error) {
	rows, err := l.db.reader.QueryContext(ctx, qLedgerReadLeaves, start, n)
	if err != nil {
		return nil, ledgerErr(mapErr(err))
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, ledgerErr(mapErr(err))
		}
		out = append(out, b)
	}
	return out, ledgerErr(mapErr(rows.Err()))
}

// Append stores the leaves and hashes in one write transaction, conditional
// on the tree size, as ledger.Storage requires.
func (l ledgerStorage) Append(ctx context.Context, first int64, leaves [][]byte, hashes []tlog.Hash) error {
	return ledgerErr(l.db.Write(ctx, func(stx store.Tx) error {
		t := stx.(*tx)
		var size int64
		if err := t.tx.QueryRowContext(ctx, qLedgerSize).Scan(&size); err != nil {
			return mapErr(err)
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
		if err := t.tx.QueryRowContext(ctx, qLedgerCountCps).Scan(&n); err != nil {
			return mapErr(err)
		}
		if n != cp.Seq {
			return fmt.Errorf("%w: %d checkpoints stored, new one has seq %d", store.ErrConflict, n, cp.Seq)
		}
		_, err := t.exec(ctx, qLedgerInsertCp, cp.Seq, cp.Size, cp.Note)
		return err
	}))
}

func scanCheckpoint(row interface{ Scan(...any) error }) (ledger.StoredCheckpoint, error) {
	var cp ledger.StoredCheckpoint
	err := row.Scan(&cp.Seq, &cp.Size, &cp.Note)
	return cp, ledgerErr(mapErr(err))
}

func (l ledgerStorage) ReadCheckpoints(ctx context.Context, start int64, n int) ([]ledger.StoredCheckpoint, error) {
	rows, err := l.db.reader.QueryContext(ctx, qLedgerReadCps, start, n)
	if err != nil {
		return nil, ledgerErr(mapErr(err))
	}
	defer rows.Close()
	var out []ledger.StoredCheckpoint
	for rows.Next() {
		cp, err := scanCheckpoint(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, cp)
	}
	return out, ledgerErr(mapErr(rows.Err()))
}

func (l ledgerStorage) LatestCheckpoint(ctx context.Context) (ledger.StoredCheckpoint, error) {
	return scanCheckpoint(l.db.reader.QueryRowContext(ctx, qLedgerLatestCp))
}

// The ledger's transactional methods (store.LedgerTx).

func (t *tx) UnsequencedEvents(ctx context.Context, afterSeq int64, limit int) ([]*store.ConsentEvent, error) {
	return queryAll(ctx, t, qLedgerUnsequenced, scanEvent, afterSeq, limit)
}

func (t *tx) LedgerIndexOf(ctx context.Context, eventID string) (int64, error) {
	var idx int64
	err := t.tx.QueryRowContext(ctx, qLedgerIndexOfEvent, eventID).Scan(&idx)
	return idx, mapErr(err)
}

func (t *tx) GetLedgerKey(ctx context.Context, name string) (vkey string, skeySealed []byte, err error) {
	err = t.tx.QueryRowContext(ctx, qLedgerGetKey, name).Scan(&vkey, &skeySealed)
	return vkey, skeySealed, mapErr(err)
}

func (t *tx) CreateLedgerKey(ctx context.Context, name, vkey string, skeySealed []byte, at time.Time) error {
	_, err := t.exec(ctx, qLedgerCreateKey, name, vkey, skeySealed, us(at))
	return err
}
