package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
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

// dismantleRest is how long taking a partition apart rests after each
// step, as a share of the step's time. A step is CPU-bound (zeroing pages
// and writing them to the WAL); run back to back, the steps kept one of two
// cores busy, and decisions' p99 went to 2.0-2.9 times idle. Resting half
// as long as each step took brought it to 1.6-1.9 times, at 120,000 rows/s
// instead of 175,000 (docs/benchmarks.md).
const dismantleRest = 0.5

// dismantleStep is the time after which a step of taking a partition apart
// commits instead of going on to the next index.
const dismantleStep = 5 * time.Millisecond

// dismantleChunk is about how long deleting one chunk of a partition's rows
// takes, before its commit. Chunks of 5, 10 and 15 ms left the sends' p99
// during a drop at 22-37 ms alike, because the longest steps are the index
// drops; 5 ms made the purge slower (docs/benchmarks.md).
const dismantleChunk = 10 * time.Millisecond

// DropExpired implements store.PartitionDropper in two stages. First, each
// partition whose rows have all expired is detached in a short write
// transaction: it leaves the catalog's live set and the views, so no query
// sees its rows from then on, and its rows are counted. Then every detached
// partition, including any a crash left behind, is taken apart in steps of
// one transaction each (dismantleTable), children's tables first.
// secure_delete zeroes what each step frees. The partition of the current
// period is never dropped.
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
		if p.hi > now {
			continue
		}
		// The rows are counted in the transaction that detaches them: a
		// count afterwards could find the tables gone, dropped by another
		// process's purge (`consentgate purge` beside a server). The count
		// reads one index of the partition; it is shorter than the steps
		// of taking the partition apart.
		var counts map[string]int
		err := db.writeTx(ctx, func(t *tx) error {
			tenants, err := t.expiredTenants(ctx, k, p.name, cutoffs)
			if err != nil || tenants == nil {
				return err
			}
			n, err := rowsAffected(t.exec(ctx, `UPDATE partitions SET state = 'detached'
				WHERE kind = ? AND name = ? AND state = 'live'`, k.name, p.name))
			if err != nil || n == 0 {
				return err // another process detached it
			}
			counts = map[string]int{}
			for _, tn := range tenants {
				var c int
				if err := t.tx.QueryRowContext(ctx, "SELECT count(*) FROM "+k.tables[0].base+"_"+p.name+" WHERE tenant_id = ?",
					tn).Scan(&c); err != nil {
					return mapErr(err)
				}
				counts[tn] = c
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

// expiredTenants returns the tenants whose rows partition p holds if every
// one of those rows has expired under cutoffs, or nil if any has not. Each
// check is an index lookup, so the writer is not held for a scan.
func (t *tx) expiredTenants(ctx context.Context, k *partKind, p string, cutoffs map[string]time.Time) ([]string, error) {
	table := k.tables[0].base + "_" + p
	if k.pending != "" {
		var n int
		if err := t.tx.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM "+table+" WHERE "+k.pending+" LIMIT 1)").Scan(&n); err != nil {
			return nil, mapErr(err)
		}
		if n > 0 {
			return nil, nil
		}
	}
	tenants := []string{}
	for tenant := ""; ; {
		err := t.tx.QueryRowContext(ctx, "SELECT tenant_id FROM "+table+" WHERE tenant_id > ? ORDER BY tenant_id LIMIT 1",
			tenant).Scan(&tenant)
		if errors.Is(err, sql.ErrNoRows) {
			return tenants, nil
		}
		if err != nil {
			return nil, mapErr(err)
		}
		cutoff, ok := cutoffs[tenant]
		if !ok {
			return nil, nil // a tenant whose rows this pass does not purge
		}
		// With no row pending, "finished" holds for all of them; saying so
		// lets SQLite read the newest time off the purge's partial index.
		finished := ""
		if k.pending != "" {
			finished = " AND NOT (" + k.pending + ")"
		}
		var newest int64
		if err := t.tx.QueryRowContext(ctx, "SELECT max("+k.expiry+") FROM "+table+" WHERE tenant_id = ?"+finished,
			tenant).Scan(&newest); err != nil {
			return nil, mapErr(err)
		}
		if newest >= us(cutoff) {
			return nil, nil
		}
		tenants = append(tenants, tenant)
	}
}

// dismantleDetached takes every detached partition of k apart, children's
// tables before their parent's.
func (db *DB) dismantleDetached(ctx context.Context, k *partKind) error {
	var names []string
	if err := db.readTx(ctx, func(t *tx) (err error) {
		names, err = queryStrings(ctx, t, `SELECT name FROM partitions WHERE kind = ? AND state = 'detached' ORDER BY lo`, k.name)
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

// dismantleTable takes table apart in steps of one transaction each, so
// that a request waits for one step at most instead of the whole partition:
// first its indexes, one per step, then its rows in rowid order, in chunks
// sized to take about dismantleChunk each, then the empty table.
//
// secure_delete zeroes every page a step frees, so a step costs in
// proportion to the pages it frees. On the 2-vCPU VM, dropping the table of
// a partition of 100,000 messages whole took 60-120 ms, the longest wait a
// send had during a purge. Deleting its rows in chunks once its indexes are
// gone costs about twice what the drop does (with the indexes still there,
// a random page write per entry made it four times slower). An index still
// goes in one step: 10-60 ms for such a partition, in proportion to its
// rows. Closing partitions at a number of rows as well would bound that,
// but every lookup not by id would have more partitions to visit, and a
// lookup through the views costs more than linearly in their arms
// (docs/benchmarks.md). Each step commits durably, so that the purge pays
// for syncing what it wrote, not the next send, and the rest after it
// (dismantleRest) leaves the CPU to requests.
func (db *DB) dismantleTable(ctx context.Context, table string) error {
	var indexes []string
	if err := db.readTx(ctx, func(t *tx) (err error) {
		indexes, err = queryStrings(ctx, t, `SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL`, table)
		return err
	}); err != nil {
		return err
	}
	for len(indexes) > 0 {
		if err := db.dismantleStep(ctx, func(t *tx, began time.Time) error {
			// Small indexes (a partial one with few entries) share a
			// transaction, so that they share its fsync: the first always
			// goes, the next ones while the transaction is young.
			for len(indexes) > 0 {
				if _, err := t.exec(ctx, `DROP INDEX IF EXISTS "`+indexes[0]+`"`); err != nil {
					return err
				}
				indexes = indexes[1:]
				if time.Since(began) >= dismantleStep {
					break
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	// The legacy partition's tables keep their primary keys' indexes, which
	// cannot be dropped; their order is the rows' (ids made as they came).
	// A chunk ends at the rowid chunk rows in, found by walking the table's
	// b-tree, and goes by a range delete: no list of rowids is built.
	end := `SELECT rowid FROM "` + table + `" ORDER BY rowid LIMIT 1 OFFSET ?`
	del := `DELETE FROM "` + table + `" WHERE rowid <= ?`
	for chunk, more := 1000, true; more; {
		if err := db.dismantleStep(ctx, func(t *tx, began time.Time) error {
			exists, err := t.tableExists(ctx, table)
			if err != nil || !exists {
				more = false
				return err // gone: taken apart by another process's purge
			}
			var last int64
			switch err := t.tx.QueryRowContext(ctx, end, chunk-1).Scan(&last); {
			case errors.Is(err, sql.ErrNoRows):
				more, last = false, math.MaxInt64 // fewer than chunk left: all of them
			case err != nil:
				return mapErr(err)
			}
			_, err = t.exec(ctx, del, last)
			chunk = nextChunk(chunk, time.Since(began))
			return err
		}); err != nil {
			return err
		}
	}
	return db.dismantleStep(ctx, func(t *tx, _ time.Time) error {
		_, err := t.exec(ctx, `DROP TABLE IF EXISTS "`+table+`"`)
		return err
	})
}

func (t *tx) tableExists(ctx context.Context, table string) (bool, error) {
	var n int
	err := t.tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?`, table).Scan(&n)
	return n > 0, mapErr(err)
}

// nextChunk sizes the next chunk of rows to take about dismantleChunk, from
// the time the last one of size chunk took, changing by at most a factor of
// two at a time.
func nextChunk(chunk int, took time.Duration) int {
	want := float64(chunk) * float64(dismantleChunk) / float64(max(took, time.Microsecond))
	return int(min(max(want, float64(chunk)/2, 100), float64(chunk)*2, 100_000))
}

// dismantleStep runs fn in one durable write transaction, then rests for
// dismantleRest of the time it took.
func (db *DB) dismantleStep(ctx context.Context, fn func(t *tx, began time.Time) error) error {
	var began time.Time
	if err := db.Write(ctx, func(st store.Tx) error {
		began = time.Now()
		return fn(st.(*tx), began)
	}); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Duration(float64(time.Since(began)) * dismantleRest)):
		return nil
	}
}

// readTx and writeTx run fn in a read or a relaxed write transaction (the
// purge's durability, see WriteRelaxed) with the package's own tx type.
func (db *DB) readTx(ctx context.Context, fn func(*tx) error) error {
	return db.Read(ctx, func(st store.Tx) error { return fn(st.(*tx)) })
}

func (db *DB) writeTx(ctx context.Context, fn func(*tx) error) error {
	return db.WriteRelaxed(ctx, func(st store.Tx) error { return fn(st.(*tx)) })
}
