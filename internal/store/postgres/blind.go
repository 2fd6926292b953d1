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

	// The set-based rewrites take a page's changed rows as arrays: the
	// tenant, the key columns, then each value, NULL where it did not
	// change (NULL keeps a column: a column that was empty or NULL stays as
	// it was). Their row count is the rows that were still there. A new
	// form (33 bytes) never equals an old one (32), so rewriting a page in
	// one statement cannot trip the unique index over its own rows.
	qForwardIdentifiers = `UPDATE contact_identifiers c SET blind_index = v.new
		FROM unnest($2::text[], $3::bytea[], $4::bytea[]) AS v(kind, old, new)
		WHERE c.tenant_id = $1 AND c.kind = v.kind AND c.blind_index = v.old`
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
	qForwardUsers = `UPDATE users u SET email_index = v.e FROM unnest($2::text[], $3::bytea[]) AS v(id, e)
		WHERE u.tenant_id = $1 AND u.id = v.id`
	qForwardMessages = `UPDATE messages m SET recipient_index = coalesce(v.r, m.recipient_index),
		body_hash = coalesce(v.b, m.body_hash), request_hash = coalesce(v.q, m.request_hash)
		FROM unnest($2::text[], $3::bytea[], $4::bytea[], $5::bytea[]) AS v(id, r, b, q)
		WHERE m.tenant_id = $1 AND m.id = v.id`
	qForwardInbound = `UPDATE inbound_messages i SET from_index = coalesce(v.f, i.from_index),
		text_hash = coalesce(v.t, i.text_hash)
		FROM unnest($2::text[], $3::bytea[], $4::bytea[]) AS v(id, f, t)
		WHERE i.tenant_id = $1 AND i.id = v.id`

	qLockBlindIndex = `SELECT pg_advisory_xact_lock($1)`
)

// blindSpec is how one table is paged: its page statement (arguments: the
// tenant, the cursor's columns, the limit; columns: the key, then the
// index-keyed values), the shape of its key, and how the changed rows are
// written back: in one set-based statement (update), or, for
// suppressions, one statement per row in one round trip (write, written).
// A page is read at READ COMMITTED, and a row can go (an erasure, a purge)
// before it is written, which leaves nothing to forward: the counts are of
// the rows found.
type blindSpec struct {
	page    string
	shape   store.BlindKeyShape
	vals    int
	update  string
	write   func(b *pgx.Batch, tenantID string, r *blindRow)
	written func(br pgx.BatchResults) (bool, error)
}

// blindRow is one row of a page.
type blindRow struct {
	key  store.BlindKey
	vals [][]byte // the stored values; empty or nil where there is none
	next [][]byte // the values that changed, nil where one did not
}

var blindSpecs = map[store.BlindTable]blindSpec{
	store.BlindIdentifiers: {page: qBlindIdentifiers, shape: store.BlindKeyKindIndex, vals: 1, update: qForwardIdentifiers},
	store.BlindSuppressions: {page: qBlindSuppressions, shape: store.BlindKeyKindIndexScope, vals: 1,
		write: func(b *pgx.Batch, tenantID string, r *blindRow) {
			b.Queue(qForwardSuppression, tenantID, r.key.Kind, r.key.Index, r.key.Scope, r.next[0])
		},
		written: func(br pgx.BatchResults) (bool, error) {
			var n int
			err := br.QueryRow().Scan(&n)
			return n > 0, err
		}},
	store.BlindUsers:    {page: qBlindUsers, shape: store.BlindKeyID, vals: 1, update: qForwardUsers},
	store.BlindMessages: {page: qBlindMessages, shape: store.BlindKeyID, vals: 3, update: qForwardMessages},
	store.BlindInbound:  {page: qBlindInbound, shape: store.BlindKeyID, vals: 2, update: qForwardInbound},
}

// updateArgs are the arguments of a set-based rewrite of rows: the tenant,
// an array per key column, an array per value.
func (spec blindSpec) updateArgs(tenantID string, rows []*blindRow) []any {
	var ids, kinds []string
	var olds [][]byte
	vals := make([][][]byte, spec.vals)
	for _, r := range rows {
		if spec.shape == store.BlindKeyID {
			ids = append(ids, r.key.ID)
		} else {
			kinds, olds = append(kinds, r.key.Kind), append(olds, r.key.Index)
		}
		for i := range vals {
			vals[i] = append(vals[i], r.next[i])
		}
	}
	args := []any{tenantID}
	if spec.shape == store.BlindKeyID {
		args = append(args, ids)
	} else {
		args = append(args, kinds, olds)
	}
	for _, v := range vals {
		args = append(args, v)
	}
	return args
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
	var changed []*blindRow
	for _, r := range rows {
		var ch bool
		if r.next, ch, err = store.ForwardValues(r.vals, fwd); err != nil {
			return "", 0, fmt.Errorf("postgres: forward %s: %w", table, err)
		}
		if ch {
			changed = append(changed, r)
		}
	}
	rewritten, err := t.writeBlind(ctx, spec, tenantID, changed)
	if err != nil {
		return "", 0, fmt.Errorf("postgres: forward %s: %w", table, err)
	}
	if len(rows) < limit {
		return "", rewritten, nil
	}
	return spec.shape.Encode(rows[len(rows)-1].key), rewritten, nil
}

// writeBlind writes a page's changed rows back and counts the rows it
// found: in one statement, or for suppressions one per row in one round
// trip, where the first failure ends it (the server skips the rest).
func (t *tx) writeBlind(ctx context.Context, spec blindSpec, tenantID string, rows []*blindRow) (int, error) {
	if len(rows) == 0 {
		return 0, nil
	}
	if spec.update != "" {
		tag, err := t.exec(ctx, spec.update, spec.updateArgs(tenantID, rows)...)
		return int(tag.RowsAffected()), err
	}
	b := &pgx.Batch{}
	for _, r := range rows {
		spec.write(b, tenantID, r)
	}
	br, err := t.pipeline(ctx, b)
	if err != nil {
		return 0, err
	}
	n := 0
	for range b.Len() {
		var ok bool
		if ok, err = spec.written(br); err != nil {
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
