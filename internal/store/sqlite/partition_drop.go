package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/consentgate/consentgate/internal/store"
)

var _ store.PartitionDropper = (*DB)(nil)

// dropKinds names the categories whose rows go by whole partitions. Message
// bodies are cleared, not deleted, so they stay with Tx.Purge.
var dropKinds = map[string]*partKind{
	store.CategoryMessageMetadata: messagesKind,
	store.CategoryInbound:         inboundKind,
}

// dismantleRows is how many rows one step of taking a partition apart
// deletes. A step holds the writer; sends wait for one step at most.
const dismantleRows = 2000

// DropExpired implements store.PartitionDropper in two stages. First, each
// partition whose rows have all expired is detached in a short write
// transaction: it leaves the catalog's live set and the views, so no query
// sees its rows from then on, and its rows are counted. Then every detached
// partition, including any a crash left behind, is taken apart in steps of
// one short transaction each: its indexes one by one, its rows in chunks
// in rowid order, then its empty tables. secure_delete zeroes what each step
// frees, and no step holds the writer for long. The partition of the
// current period and the legacy partition are never dropped.
func (db *DB) DropExpired(ctx context.Context, category string, cutoffs map[string]time.Time) (map[string]int, error) {
	k := dropKinds[category]
	if k == nil {
		return nil, nil
	}
	var parts []partition
	if err := db.readTx(ctx, func(t *tx) (err error) {
		parts, err = t.livePartitions(ctx, k)
		return err
	}); err != nil {
		return nil, err
	}
	out := map[string]int{}
	now := time.Now().UnixMicro()
	for _, p := range parts {
		if p.name == legacyPartition || p.hi > now {
			continue
		}
		var counts map[string]int
		err := db.writeTx(ctx, func(t *tx) (err error) {
			if counts, err = t.expiredCounts(ctx, k, p.name, cutoffs); err != nil || counts == nil {
				return err
			}
			n, err := rowsAffected(t.exec(ctx, `UPDATE partitions SET state = 'detached'
				WHERE kind = ? AND name = ? AND state = 'live'`, k.name, p.name))
			if err != nil || n == 0 {
				counts = nil // another process detached it
				return err
			}
			return t.rebuildViews(ctx, k)
		})
		if err != nil {
			return out, fmt.Errorf("sqlite: detach partition %s_%s: %w", k.tables[0].base, p.name, err)
		}
		for tn, c := range counts {
			out[tn] += c
		}
	}
	return out, db.dismantleDetached(ctx, k)
}

// expiredCounts returns, per tenant, how many rows partition p holds if
// every one of them has expired under cutoffs, or nil if any has not. Each
// check is an index lookup; the counts scan one index of the partition.
func (t *tx) expiredCounts(ctx context.Context, k *partKind, p string, cutoffs map[string]time.Time) (map[string]int, error) {
	table := k.tables[0].base + "_" + p
	if k.pending != "" {
		var n int
		if err := t.tx.QueryRowContext(ctx, "SELECT count(*) FROM "+table+" WHERE "+k.pending).Scan(&n); err != nil {
			return nil, mapErr(err)
		}
		if n > 0 {
			return nil, nil
		}
	}
	counts := map[string]int{}
	for tenant := ""; ; {
		err := t.tx.QueryRowContext(ctx, "SELECT tenant_id FROM "+table+" WHERE tenant_id > ? ORDER BY tenant_id LIMIT 1",
			tenant).Scan(&tenant)
		if errors.Is(err, sql.ErrNoRows) {
			return counts, nil
		}
		if err != nil {
			return nil, mapErr(err)
		}
		cutoff, ok := cutoffs[tenant]
		if !ok {
			return nil, nil // a tenant whose rows this pass does not purge
		}
		var newest int64
		if err := t.tx.QueryRowContext(ctx, "SELECT max("+k.expiry+") FROM "+table+" WHERE tenant_id = ?",
			tenant).Scan(&newest); err != nil {
			return nil, mapErr(err)
		}
		if newest >= us(cutoff) {
			return nil, nil
		}
		var n int
		if err := t.tx.QueryRowContext(ctx, "SELECT count(*) FROM "+table+" WHERE tenant_id = ?", tenant).Scan(&n); err != nil {
			return nil, mapErr(err)
		}
		counts[tenant] = n
	}
}

// dismantleDetached takes every detached partition of k apart, children's
// tables before their parent's.
func (db *DB) dismantleDetached(ctx context.Context, k *partKind) error {
	var names []string
	if err := db.readTx(ctx, func(t *tx) (err error) {
		names, err = queryAll(ctx, t, `SELECT name FROM partitions WHERE kind = ? AND state = 'detached' ORDER BY lo`,
			func(row interface{ Scan(...any) error }) (string, error) {
				var s string
				return s, mapErr(row.Scan(&s))
			}, k.name)
		return err
	}); err != nil {
		return err
	}
	for _, name := range names {
		for i := len(k.tables) - 1; i >= 0; i-- {
			if err := db.dismantleTable(ctx, k.tables[i].base+"_"+name); err != nil {
				return fmt.Errorf("sqlite: take partition %s apart: %w", name, err)
			}
		}
		if err := db.writeTx(ctx, func(t *tx) error {
			_, err := t.exec(ctx, `DELETE FROM partitions WHERE kind = ? AND name = ? AND state = 'detached'`, k.name, name)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

// dismantleTable drops table's indexes, deletes its rows a chunk at a time
// and drops it, each step in its own transaction. Dropping the table at once
// would hold the writer for as long as zeroing all its pages takes (1.3 s
// for 100,000 messages with their events, docs/benchmarks.md).
func (db *DB) dismantleTable(ctx context.Context, table string) error {
	var indexes []string
	if err := db.readTx(ctx, func(t *tx) (err error) {
		indexes, err = queryAll(ctx, t, `SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL`,
			func(row interface{ Scan(...any) error }) (string, error) {
				var s string
				return s, mapErr(row.Scan(&s))
			}, table)
		return err
	}); err != nil {
		return err
	}
	step := func(q string) (n int, err error) {
		runtime.Gosched() // let a waiting request have the writer between steps
		err = db.writeTx(ctx, func(t *tx) (err error) {
			n, err = rowsAffected(t.exec(ctx, q))
			return err
		})
		return n, err
	}
	for _, ix := range indexes {
		if _, err := step(`DROP INDEX IF EXISTS "` + ix + `"`); err != nil {
			return err
		}
	}
	var exists int
	if err := db.readTx(ctx, func(t *tx) error {
		return mapErr(t.tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?`, table).Scan(&exists))
	}); err != nil || exists == 0 {
		return err
	}
	for {
		n, err := step(fmt.Sprintf(`DELETE FROM "%s" WHERE rowid IN (SELECT rowid FROM "%[1]s" ORDER BY rowid LIMIT %d)`, table, dismantleRows))
		if err != nil {
			return err
		}
		if n < dismantleRows {
			break
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	_, err := step(`DROP TABLE IF EXISTS "` + table + `"`)
	return err
}

// readTx and writeTx run fn in a read or a relaxed write transaction (the
// purge's durability, see WriteRelaxed) with the package's own tx type.
func (db *DB) readTx(ctx context.Context, fn func(*tx) error) error {
	return db.Read(ctx, func(st store.Tx) error { return fn(st.(*tx)) })
}

func (db *DB) writeTx(ctx context.Context, fn func(*tx) error) error {
	return db.WriteRelaxed(ctx, func(st store.Tx) error { return fn(st.(*tx)) })
}
