package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/consentgate/consentgate/internal/store"
	"github.com/jackc/pgx/v5"
)

// A rotation of a tenant's index key rewrites every stored blind index and
// keyed hash, a page at a time (store.BlindStore). A page is read whole
// before any row of it is written: the connection runs one statement at a
// time.
//
// Messages, inbound records and users are paged by id. Identifiers and
// suppressions have no id: they are paged by primary key, which the
// rewrite changes. A rewritten key can sort after the cursor and be read
// again, unchanged; the cursor only ever moves forward over keys that
// exist, so every row that was there at the start is read, and the loop
// ends.

const (
	// Each page statement returns a row's key, then its index-keyed
	// values: for identifiers and suppressions the blind index is both.
	qBlindIdentifiers = `SELECT kind, blind_index, blind_index FROM contact_identifiers
		WHERE tenant_id = $1 AND (kind, blind_index) > ($2::text, $3::bytea) ORDER BY kind, blind_index LIMIT $4`
	qBlindSuppressions = `SELECT kind, blind_index, scope, blind_index FROM suppressions
		WHERE tenant_id = $1 AND (kind, blind_index, scope) > ($2::text, $3::bytea, $4::text)
		ORDER BY kind, blind_index, scope LIMIT $5`
	qBlindUsers    = `SELECT id, email_index FROM users WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3`
	qBlindMessages = `SELECT id, recipient_index, body_hash, request_hash FROM messages
		WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3`
	qBlindInbound = `SELECT id, from_index, text_hash FROM inbound_messages
		WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3`

	qForwardIdentifier = `UPDATE contact_identifiers SET blind_index = $1 WHERE tenant_id = $2 AND kind = $3 AND blind_index = $4`
	// The old row goes and a copy under the new form comes, unless a
	// suppression with that form is on the list already: it is the same
	// suppression. ON CONFLICT also holds when another transaction adds
	// the new form meanwhile, which a check before an UPDATE would miss.
	// The count is of the old rows: 0 when the row went meanwhile.
	qForwardSuppression = `WITH old AS (
			DELETE FROM suppressions WHERE tenant_id = $1 AND kind = $2 AND blind_index = $3 AND scope = $4
			RETURNING tenant_id, kind, scope, reason, created_at),
		moved AS (INSERT INTO suppressions (tenant_id, kind, blind_index, scope, reason, created_at)
			SELECT tenant_id, kind, $5, scope, reason, created_at FROM old ON CONFLICT DO NOTHING)
		SELECT count(*) FROM old`
	qForwardUser = `UPDATE users SET email_index = $1 WHERE tenant_id = $2 AND id = $3`
	// NULL keeps a column: only what changed is written, and a column that
	// was empty or NULL stays as it was.
	qForwardMessage = `UPDATE messages SET recipient_index = coalesce($1::bytea, recipient_index),
		body_hash = coalesce($2::bytea, body_hash), request_hash = coalesce($3::bytea, request_hash)
		WHERE tenant_id = $4 AND id = $5`
	qForwardInbound = `UPDATE inbound_messages SET from_index = coalesce($1::bytea, from_index),
		text_hash = coalesce($2::bytea, text_hash) WHERE tenant_id = $3 AND id = $4`

	qLockBlindIndex = `SELECT pg_advisory_xact_lock($1)`
)

// blindSpec is how one table is paged: its page statement (arguments: the
// tenant, the cursor's columns, the limit; columns: the key, then the
// index-keyed values), the shape of its key and how a row is written back:
// write queues the row's statement, and written reads its result, which
// says whether the row was still there. A page is read at READ COMMITTED,
// and a row can go (an erasure, a purge) before it is written, which
// leaves nothing to forward. A page's writes go in one round trip.
type blindSpec struct {
	page    string
	shape   store.BlindKeyShape
	vals    int
	write   func(b *pgx.Batch, tenantID string, r *blindRow)
	written func(br pgx.BatchResults) (bool, error)
}

// blindRow is one row of a page.
type blindRow struct {
	key  store.BlindKey
	vals [][]byte // the stored values; empty or nil where there is none
	next [][]byte // the values that changed, nil where one did not
}

// updated reads the result of an update by key: whether it found its row.
func updated(br pgx.BatchResults) (bool, error) {
	tag, err := br.Exec()
	return err == nil && tag.RowsAffected() > 0, err
}

var blindSpecs = map[store.BlindTable]blindSpec{
	store.BlindIdentifiers: {page: qBlindIdentifiers, shape: store.BlindKeyKindIndex, vals: 1, written: updated,
		write: func(b *pgx.Batch, tenantID string, r *blindRow) {
			b.Queue(qForwardIdentifier, r.next[0], tenantID, r.key.Kind, r.key.Index)
		}},
	store.BlindSuppressions: {page: qBlindSuppressions, shape: store.BlindKeyKindIndexScope, vals: 1,
		write: func(b *pgx.Batch, tenantID string, r *blindRow) {
			b.Queue(qForwardSuppression, tenantID, r.key.Kind, r.key.Index, r.key.Scope, r.next[0])
		},
		written: func(br pgx.BatchResults) (bool, error) {
			var n int
			err := br.QueryRow().Scan(&n)
			return n > 0, err
		}},
	store.BlindUsers: {page: qBlindUsers, shape: store.BlindKeyID, vals: 1, written: updated,
		write: func(b *pgx.Batch, tenantID string, r *blindRow) {
			b.Queue(qForwardUser, r.next[0], tenantID, r.key.ID)
		}},
	store.BlindMessages: {page: qBlindMessages, shape: store.BlindKeyID, vals: 3, written: updated,
		write: func(b *pgx.Batch, tenantID string, r *blindRow) {
			b.Queue(qForwardMessage, r.next[0], r.next[1], r.next[2], tenantID, r.key.ID)
		}},
	store.BlindInbound: {page: qBlindInbound, shape: store.BlindKeyID, vals: 2, written: updated,
		write: func(b *pgx.Batch, tenantID string, r *blindRow) {
			b.Queue(qForwardInbound, r.next[0], r.next[1], tenantID, r.key.ID)
		}},
}

// ForwardBlindForms implements store.BlindStore.
func (t *tx) ForwardBlindForms(ctx context.Context, tenantID string, table store.BlindTable, after string, limit int,
	fwd store.ForwardFunc) (string, int, error) {
	spec, ok := blindSpecs[table]
	if !ok {
		return "", 0, fmt.Errorf("postgres: no index-keyed values in table %q", table)
	}
	if limit <= 0 {
		return "", 0, fmt.Errorf("postgres: forward %s: limit %d", table, limit)
	}
	from, err := spec.shape.Decode(after)
	if err != nil {
		return "", 0, fmt.Errorf("postgres: forward %s: %w", table, err)
	}
	args := append(append([]any{tenantID}, spec.shape.Args(from)...), limit)
	rows, err := queryAll(ctx, t, spec.page, func(rw row) (*blindRow, error) {
		r := &blindRow{vals: make([][]byte, spec.vals)}
		dest := spec.shape.Dest(&r.key)
		for i := range r.vals {
			dest = append(dest, &r.vals[i])
		}
		return r, mapErr(rw.Scan(dest...))
	}, args...)
	if err != nil {
		return "", 0, fmt.Errorf("postgres: forward %s: %w", table, err)
	}
	b := &pgx.Batch{}
	for _, r := range rows {
		var changed bool
		if r.next, changed, err = store.ForwardValues(r.vals, fwd); err != nil {
			return "", 0, fmt.Errorf("postgres: forward %s: %w", table, err)
		}
		if changed {
			spec.write(b, tenantID, r)
		}
	}
	rewritten, err := t.writeBlind(ctx, b, spec.written)
	if err != nil {
		return "", 0, fmt.Errorf("postgres: forward %s: %w", table, err)
	}
	if len(rows) < limit {
		return "", rewritten, nil
	}
	return spec.shape.Encode(rows[len(rows)-1].key), rewritten, nil
}

// writeBlind sends a page's writes in one round trip and counts the rows
// they found; the first failure ends it (the server skips the rest).
func (t *tx) writeBlind(ctx context.Context, b *pgx.Batch, written func(pgx.BatchResults) (bool, error)) (int, error) {
	if b.Len() == 0 {
		return 0, nil
	}
	br, err := t.pipeline(ctx, b)
	if err != nil {
		return 0, err
	}
	n := 0
	for range b.Len() {
		var ok bool
		if ok, err = written(br); err != nil {
			break
		}
		if ok {
			n++
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return n, t.check(err)
}

// LockBlindIndex implements store.BlindStore with a transaction-level
// advisory lock: the unique indexes cannot see that two forms of one
// identifier are the same while the index key rotates, so the inserts of
// an identifier queue on a lock named by it instead.
//
// The lock is the single-bigint kind; the migration lock (qMigrateLock) is
// the two-int4 kind, a key space PostgreSQL keeps apart. The bigint is the
// first 8 bytes of SHA-256 over a name of this use, the tenant and key,
// NUL-separated (a tenant id, text, holds no NUL; key comes last): 64 bits
// that nobody picks, so two identifiers share a lock only by a collision,
// whose cost is that their inserts wait for each other.
func (t *tx) LockBlindIndex(ctx context.Context, tenantID string, key []byte) error {
	_, err := t.exec(ctx, qLockBlindIndex, blindLockID(tenantID, key))
	return err
}

func blindLockID(tenantID string, key []byte) int64 {
	h := sha256.New()
	h.Write([]byte("consentgate.blind-index-lock\x00" + tenantID + "\x00"))
	h.Write(key)
	return int64(binary.BigEndian.Uint64(h.Sum(nil)[:8]))
}
