package sqlite

import (
	"context"
	"fmt"

	"github.com/consentgate/consentgate/internal/store"
)

// A rotation of a tenant's index key rewrites every stored blind index and
// keyed hash, a page at a time (store.BlindStore). A page is read whole
// before any row of it is written: an update must not run under an open
// cursor on the table it changes.
//
// Messages and inbound records are paged through the views, in id order
// across every partition, as MessageKeysAfter does; the view names the
// partition that holds each row (part), and the row is written there.
// Identifiers and suppressions have no id: they are paged by primary key,
// which the rewrite changes. A rewritten key can sort after the cursor and
// be read again, unchanged; the cursor only ever moves forward over keys
// that exist, so every row that was there at the start is read, and the
// loop ends.

const (
	// Each page statement returns a row's key, then its index-keyed
	// values: for identifiers and suppressions the blind index is both.
	qBlindIdentifiers = `SELECT kind, blind_index, blind_index FROM contact_identifiers
		WHERE tenant_id = ? AND (kind, blind_index) > (?, ?) ORDER BY kind, blind_index LIMIT ?`
	qBlindSuppressions = `SELECT kind, blind_index, scope, blind_index FROM suppressions
		WHERE tenant_id = ? AND (kind, blind_index, scope) > (?, ?, ?) ORDER BY kind, blind_index, scope LIMIT ?`
	qBlindUsers = `SELECT id, email_index FROM users WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?`
	// "+tenant_id" keeps the planner off the indexes that lead with the
	// tenant: by one of those each partition would read every row of the
	// tenant after the cursor and sort them, for every page. By the id
	// index each partition's rows come in order, and the merge of the
	// view's arms stops at the limit (TestPartitionQueryPlans): a pass
	// reads the partitions' rows from the tenant's first to its last once.
	qBlindMessages = `SELECT part, id, recipient_index, body_hash, request_hash FROM messages
		WHERE +tenant_id = ? AND id > ? ORDER BY id LIMIT ?`
	qBlindInbound = `SELECT part, id, from_index, text_hash FROM inbound_messages
		WHERE +tenant_id = ? AND id > ? ORDER BY id LIMIT ?`

	qForwardIdentifier = `UPDATE contact_identifiers SET blind_index = ? WHERE tenant_id = ? AND kind = ? AND blind_index = ?`
	// A suppression whose new form is on the list already is the same
	// suppression: OR IGNORE leaves the row whose update would collide, and
	// the delete after it removes that row.
	qForwardSuppression = `UPDATE OR IGNORE suppressions SET blind_index = ?
		WHERE tenant_id = ? AND kind = ? AND blind_index = ? AND scope = ?`
	qDropSuppression = `DELETE FROM suppressions WHERE tenant_id = ? AND kind = ? AND blind_index = ? AND scope = ?`
	qForwardUser     = `UPDATE users SET email_index = ? WHERE tenant_id = ? AND id = ?`
	// NULL keeps a column: only what changed is written, and a column that
	// was empty or NULL stays as it was.
	qForwardMessage = `UPDATE {messages} SET recipient_index = coalesce(?, recipient_index),
		body_hash = coalesce(?, body_hash), request_hash = coalesce(?, request_hash) WHERE tenant_id = ? AND id = ?`
	qForwardInbound = `UPDATE {inbound_messages} SET from_index = coalesce(?, from_index),
		text_hash = coalesce(?, text_hash) WHERE tenant_id = ? AND id = ?`
)

// blindSpec is how one table is paged: its page statement (arguments: the
// tenant, the cursor's columns, the limit; columns: part for a partitioned
// table, the key, then the index-keyed values) and the shape of its key.
type blindSpec struct {
	page   string
	shape  store.BlindKeyShape
	vals   int
	parted bool
	write  func(ctx context.Context, t *tx, tenantID string, r *blindRow) error
}

// blindRow is one row of a page.
type blindRow struct {
	part string // the partition holding the row (messages, inbound)
	key  store.BlindKey
	vals [][]byte // the stored values; empty or nil where there is none
	next [][]byte // the values that changed, nil where one did not
}

var blindSpecs = map[store.BlindTable]blindSpec{
	store.BlindIdentifiers: {page: qBlindIdentifiers, shape: store.BlindKeyKindIndex, vals: 1,
		write: func(ctx context.Context, t *tx, tenantID string, r *blindRow) error {
			return oneRow(t.exec(ctx, qForwardIdentifier, r.next[0], tenantID, r.key.Kind, r.key.Index))
		}},
	store.BlindSuppressions: {page: qBlindSuppressions, shape: store.BlindKeyKindIndexScope, vals: 1,
		write: func(ctx context.Context, t *tx, tenantID string, r *blindRow) error {
			k := r.key
			n, err := rowsAffected(t.exec(ctx, qForwardSuppression, r.next[0], tenantID, k.Kind, k.Index, k.Scope))
			if err != nil || n > 0 {
				return err
			}
			return oneRow(t.exec(ctx, qDropSuppression, tenantID, k.Kind, k.Index, k.Scope))
		}},
	store.BlindUsers: {page: qBlindUsers, shape: store.BlindKeyID, vals: 1,
		write: func(ctx context.Context, t *tx, tenantID string, r *blindRow) error {
			return oneRow(t.exec(ctx, qForwardUser, r.next[0], tenantID, r.key.ID))
		}},
	store.BlindMessages: {page: qBlindMessages, shape: store.BlindKeyID, vals: 3, parted: true,
		write: func(ctx context.Context, t *tx, tenantID string, r *blindRow) error {
			return oneRow(t.exec(ctx, in(qForwardMessage, r.part),
				orNull(r.next[0]), orNull(r.next[1]), orNull(r.next[2]), tenantID, r.key.ID))
		}},
	store.BlindInbound: {page: qBlindInbound, shape: store.BlindKeyID, vals: 2, parted: true,
		write: func(ctx context.Context, t *tx, tenantID string, r *blindRow) error {
			return oneRow(t.exec(ctx, in(qForwardInbound, r.part), orNull(r.next[0]), orNull(r.next[1]), tenantID, r.key.ID))
		}},
}

// orNull binds a value that did not change as NULL, whatever the driver
// makes of a nil slice.
func orNull(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

// ForwardBlindForms implements store.BlindStore.
func (t *tx) ForwardBlindForms(ctx context.Context, tenantID string, table store.BlindTable, after string, limit int,
	fwd store.ForwardFunc) (string, int, error) {
	spec, ok := blindSpecs[table]
	if !ok {
		return "", 0, fmt.Errorf("sqlite: no index-keyed values in table %q", table)
	}
	if limit <= 0 {
		return "", 0, fmt.Errorf("sqlite: forward %s: limit %d", table, limit)
	}
	from, err := spec.shape.Decode(after)
	if err != nil {
		return "", 0, fmt.Errorf("sqlite: forward %s: %w", table, err)
	}
	args := append(append([]any{tenantID}, spec.shape.Args(from)...), limit)
	rows, err := queryAll(ctx, t, spec.page, func(row interface{ Scan(...any) error }) (*blindRow, error) {
		r := &blindRow{vals: make([][]byte, spec.vals)}
		var dest []any
		if spec.parted {
			dest = append(dest, &r.part)
		}
		dest = append(dest, spec.shape.Dest(&r.key)...)
		for i := range r.vals {
			dest = append(dest, &r.vals[i])
		}
		return r, mapErr(row.Scan(dest...))
	}, args...)
	if err != nil {
		return "", 0, fmt.Errorf("sqlite: forward %s: %w", table, err)
	}
	rewritten := 0
	for _, r := range rows {
		var changed bool
		if r.next, changed, err = store.ForwardValues(r.vals, fwd); err != nil {
			return "", rewritten, fmt.Errorf("sqlite: forward %s: %w", table, err)
		}
		if !changed {
			continue
		}
		if err := spec.write(ctx, t, tenantID, r); err != nil {
			return "", rewritten, fmt.Errorf("sqlite: forward %s: %w", table, err)
		}
		rewritten++
	}
	if len(rows) < limit {
		return "", rewritten, nil
	}
	return spec.shape.Encode(rows[len(rows)-1].key), rewritten, nil
}

// LockBlindIndex implements store.BlindStore: SQLite has one writer, so
// the transactions it would serialise run one after another already.
func (t *tx) LockBlindIndex(context.Context, string, []byte) error { return nil }
