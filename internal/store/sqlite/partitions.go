package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/consentgate/consentgate/internal/store"
	"github.com/oklog/ulid/v2"
)

// Messages (with their status events) and inbound records live in time
// partitions (migration 0017): a table set per week of id times, listed in
// the partitions catalog. The retention purge drops a partition whose rows
// have all expired instead of deleting them one by one, which on SQLite
// costs a random page write per index entry (docs/benchmarks.md).
//
// Reads go through one view per table, rebuilt whenever a partition comes
// or goes, that unions every live partition and adds a part column; SQLite
// pushes the WHERE terms into each arm, so every arm is an index lookup.
// Writes go to the partition the row's id time falls in. The single writer
// SQLite allows makes a check-then-insert exact, so the unique constraints
// that span partitions (idempotency key, reply per inbound message, inbound
// provider id) are checked before an insert, in the partitions of the
// uniqueWindow before the new row.

// partitionPeriod is the width of a partition's window. A lookup that is not
// by id visits every live partition, and a drop removes a week of traffic:
// 53 partitions at the default message retention of 365 days.
const partitionPeriod = 7 * 24 * time.Hour

// maxViewArms bounds the arms of one compound SELECT; SQLite refuses more
// than 500. Beyond it the view unions views of up to this many arms.
var maxViewArms = 200 // a variable so that a test can see views of views without 200 partitions

// partKind is a kind of partition: the tables it holds, parent first.
type partKind struct {
	name   string
	tables []partTable
	// expiry is the parent's column the retention cut-off applies to, and
	// pending, when set, the condition of rows that have not finished and
	// so have not expired whatever their time (both have an index).
	expiry, pending string
}

type partTable struct {
	base string // the view's name; a partition's table is base_<name>
	cols string // the columns the view selects, after part
	ddl  []string
}

var (
	messagesKind = &partKind{name: "messages", expiry: "updated_at", pending: "status IN ('queued', 'sending')", tables: []partTable{
		{base: "messages", cols: messageCols, ddl: []string{
			`CREATE TABLE messages_{p} (
				id TEXT NOT NULL, tenant_id TEXT NOT NULL REFERENCES tenants(id), contact_id TEXT NOT NULL DEFAULT '',
				kind TEXT NOT NULL, inbound_id TEXT NOT NULL DEFAULT '', purpose TEXT NOT NULL DEFAULT '',
				channel TEXT NOT NULL, sender TEXT NOT NULL, recipient_kind TEXT NOT NULL, recipient_index BLOB NOT NULL,
				status TEXT NOT NULL, reason TEXT NOT NULL, basis TEXT NOT NULL DEFAULT '',
				consent_event_id TEXT NOT NULL DEFAULT '', body_hash BLOB NOT NULL, body_len INTEGER NOT NULL,
				sealed BLOB, wrapped_key BLOB, idempotency_key TEXT NOT NULL DEFAULT '', request_hash BLOB,
				attempts INTEGER NOT NULL DEFAULT 0, due_at INTEGER NOT NULL, lease_owner TEXT NOT NULL DEFAULT '',
				provider_ref TEXT NOT NULL DEFAULT '', last_error TEXT NOT NULL DEFAULT '',
				created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL) STRICT`,
			// The id is a unique index, not a PRIMARY KEY, so that taking a
			// partition apart can drop it like every other index.
			`CREATE UNIQUE INDEX messages_{p}_id ON messages_{p}(id)`,
			`CREATE INDEX messages_{p}_due ON messages_{p}(due_at) WHERE status IN ('queued', 'sending')`,
			`CREATE INDEX messages_{p}_tenant_created ON messages_{p}(tenant_id, created_at)`,
			`CREATE UNIQUE INDEX messages_{p}_idempotency ON messages_{p}(tenant_id, idempotency_key) WHERE idempotency_key <> ''`,
			`CREATE UNIQUE INDEX messages_{p}_reply ON messages_{p}(tenant_id, inbound_id, kind) WHERE inbound_id <> ''`,
			`CREATE INDEX messages_{p}_provider_ref ON messages_{p}(tenant_id, channel, provider_ref) WHERE provider_ref <> ''`,
			`CREATE INDEX messages_{p}_contact ON messages_{p}(tenant_id, contact_id) WHERE contact_id <> ''`,
			`CREATE INDEX messages_{p}_purge ON messages_{p}(tenant_id, updated_at) WHERE status NOT IN ('queued', 'sending')`,
			`CREATE INDEX messages_{p}_recipient ON messages_{p}(tenant_id, recipient_index)`,
			// Finished messages whose text is still kept: what the body
			// purge looks for, without reading every finished message.
			// Messages still holding their key: what key rotation pages through.
			`CREATE INDEX messages_{p}_keys ON messages_{p}(tenant_id, id) WHERE wrapped_key IS NOT NULL`,
			`CREATE INDEX messages_{p}_sealed ON messages_{p}(tenant_id, updated_at)
				WHERE sealed IS NOT NULL AND status NOT IN ('queued', 'sending')`,
		}},
		{base: "message_events", cols: `seq, tenant_id, message_id, status, detail, at`, ddl: []string{
			`CREATE TABLE message_events_{p} (
				seq INTEGER PRIMARY KEY AUTOINCREMENT, tenant_id TEXT NOT NULL,
				message_id TEXT NOT NULL REFERENCES messages_{p}(id) ON DELETE CASCADE,
				status TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '', at INTEGER NOT NULL) STRICT`,
			`CREATE INDEX message_events_{p}_message ON message_events_{p}(message_id, seq)`,
		}},
	}}
	inboundKind = &partKind{name: "inbound", expiry: "recorded_at", tables: []partTable{
		{base: "inbound_messages", cols: inboundCols, ddl: []string{
			`CREATE TABLE inbound_messages_{p} (
				tenant_id TEXT NOT NULL, channel TEXT NOT NULL, provider_id TEXT NOT NULL, id TEXT NOT NULL,
				sender_id TEXT NOT NULL, contact_id TEXT NOT NULL DEFAULT '', from_index BLOB NOT NULL,
				text_hash BLOB NOT NULL, text_len INTEGER NOT NULL, keyword TEXT NOT NULL DEFAULT '',
				action TEXT NOT NULL DEFAULT '', scope TEXT NOT NULL DEFAULT '', language TEXT NOT NULL DEFAULT '',
				outcome TEXT NOT NULL, received_at INTEGER NOT NULL, recorded_at INTEGER NOT NULL) STRICT`,
			`CREATE UNIQUE INDEX inbound_messages_{p}_provider ON inbound_messages_{p}(tenant_id, channel, provider_id)`,
			`CREATE UNIQUE INDEX inbound_messages_{p}_id ON inbound_messages_{p}(id)`,
			`CREATE INDEX inbound_messages_{p}_recorded ON inbound_messages_{p}(tenant_id, recorded_at)`,
			`CREATE INDEX inbound_messages_{p}_contact ON inbound_messages_{p}(tenant_id, contact_id) WHERE contact_id <> ''`,
			`CREATE INDEX inbound_messages_{p}_from ON inbound_messages_{p}(tenant_id, from_index)`,
		}},
	}}
)

// uniqueWindow is how far back the unique constraints that span partitions
// are checked: an idempotency key, a reply to an inbound message and an
// inbound provider id are unique among rows made in the last 30 days (at
// least; partitions are whole weeks). Checking every partition cost a send
// with a key and an inbound message 0.1-0.15 ms each at 53 partitions, in
// the single writer; a provider retries a webhook, and a client a request,
// within hours or days (docs/sending.md, docs/inbound.md).
const uniqueWindow = 30 * 24 * time.Hour

// partition is one catalog row.
type partition struct {
	name   string
	lo, hi int64 // the window of id times, microseconds, [lo, hi)
}

// legacyPartition holds the rows stored before partitioning, of any time:
// the row-by-row purge empties it, and it is dropped like any other once
// every row in it has expired.
const legacyPartition = "p0"

// in rewrites a statement written against a kind's views so that it acts on
// partition p's tables instead: "{messages}" becomes messages_p. The texts
// are kept: a handful of statements times the partitions a process sees.
func in(q, p string) string {
	key := inKey{q, p}
	if s, ok := inTexts.Load(key); ok {
		return s.(string)
	}
	s := strings.NewReplacer("{messages}", "messages_"+p, "{message_events}", "message_events_"+p,
		"{inbound_messages}", "inbound_messages_"+p).Replace(q)
	inTexts.Store(key, s)
	return s
}

type inKey struct{ q, p string }

var inTexts sync.Map // inKey → string

// idTime is the time an id was made at, in microseconds, for ids that are
// ULIDs; other ids (tests, imports) are placed by a time the caller gives.
func idTime(id string, otherwise time.Time) int64 {
	if u, err := ulid.ParseStrict(id); err == nil {
		return int64(u.Time()) * 1000
	}
	return us(otherwise)
}

// partCache keeps the live partitions a transaction has read from the
// catalog. Within a transaction only that transaction changes the catalog
// (SQLite has one writer, and a reader sees a snapshot), so the cache is
// exact as long as it forgets what the transaction itself changes.
type partCache struct{ live map[*partKind][]partition }

func (c *partCache) forget() { c.live = nil }

func (t *tx) livePartitions(ctx context.Context, k *partKind) ([]partition, error) {
	if parts, ok := t.parts.live[k]; ok {
		return parts, nil
	}
	parts, err := queryAll(ctx, t, `SELECT name, lo, hi FROM partitions WHERE kind = ? AND state = 'live' ORDER BY lo, name`,
		func(row interface{ Scan(...any) error }) (partition, error) {
			var p partition
			return p, mapErr(row.Scan(&p.name, &p.lo, &p.hi))
		}, k.name)
	if err != nil {
		return nil, err
	}
	if t.parts.live == nil {
		t.parts.live = map[*partKind][]partition{}
	}
	t.parts.live[k] = parts
	return parts, nil
}

// liveAt returns the live partition whose window holds at, or "".
func (t *tx) liveAt(ctx context.Context, k *partKind, at int64) (string, error) {
	parts, err := t.livePartitions(ctx, k)
	if err != nil {
		return "", err
	}
	for _, p := range parts {
		if p.lo <= at && at < p.hi {
			return p.name, nil
		}
	}
	return "", nil
}

// partitionFor returns the partition a row made at belongs in, creating it
// when no live partition's window holds at.
func (t *tx) partitionFor(ctx context.Context, k *partKind, at int64) (string, error) {
	name, err := t.liveAt(ctx, k, at)
	if name != "" || err != nil {
		return name, err
	}
	return t.createPartition(ctx, k, at)
}

// createPartition creates the partition for the period holding at, its
// window cut short where a neighbour's begins or ends, and adds it to the
// views. It runs in the caller's write transaction, so the row that needed
// it and the partition commit together.
func (t *tx) createPartition(ctx context.Context, k *partKind, at int64) (string, error) {
	period := partitionPeriod.Microseconds()
	lo := at - ((at%period)+period)%period
	hi := lo + period
	var below, above sql.NullInt64
	if err := t.tx.QueryRowContext(ctx, `SELECT (SELECT max(hi) FROM partitions WHERE kind = ?1 AND state = 'live' AND hi <= ?2),
		(SELECT min(lo) FROM partitions WHERE kind = ?1 AND state = 'live' AND lo > ?2)`, k.name, at).Scan(&below, &above); err != nil {
		return "", mapErr(err)
	}
	if below.Valid && below.Int64 > lo {
		lo = below.Int64
	}
	if above.Valid && above.Int64 < hi {
		hi = above.Int64
	}
	// A detached partition still being taken apart may hold the name.
	name := "w" + time.UnixMicro(lo).UTC().Format("20060102")
	var taken int
	if err := t.tx.QueryRowContext(ctx, `SELECT count(*) FROM partitions WHERE kind = ? AND (name = ? OR name LIKE ? || '\_%' ESCAPE '\')`,
		k.name, name, name).Scan(&taken); err != nil {
		return "", mapErr(err)
	}
	if taken > 0 {
		name = fmt.Sprintf("%s_%d", name, time.Now().UnixNano())
	}
	for _, tb := range k.tables {
		for _, q := range tb.ddl {
			if _, err := t.exec(ctx, strings.ReplaceAll(q, "{p}", name)); err != nil {
				return "", fmt.Errorf("sqlite: create partition %s: %w", name, err)
			}
		}
	}
	if _, err := t.exec(ctx, `INSERT INTO partitions (kind, name, lo, hi, state) VALUES (?, ?, ?, ?, 'live')`,
		k.name, name, lo, hi); err != nil {
		return "", err
	}
	t.parts.forget()
	return name, t.rebuildViews(ctx, k)
}

// rebuildViews recreates the kind's views over its live partitions. The
// callers changed the catalog just before.
func (t *tx) rebuildViews(ctx context.Context, k *partKind) error {
	t.parts.forget()
	parts, err := t.livePartitions(ctx, k)
	if err != nil {
		return err
	}
	for _, tb := range k.tables {
		old, err := queryStrings(ctx, t, `SELECT name FROM sqlite_schema WHERE type = 'view' AND (name = ? OR name LIKE ? || '\_\_%' ESCAPE '\')`, tb.base, tb.base)
		if err != nil {
			return err
		}
		for _, v := range old {
			if _, err := t.exec(ctx, `DROP VIEW "`+v+`"`); err != nil {
				return err
			}
		}
		// Newest first: SQLite reads the arms in order, so a lookup that
		// stops at its first row (a delivery report's provider reference,
		// a retried key) finds a recent row without visiting the rest.
		arms := make([]string, len(parts))
		for i, p := range parts {
			arms[len(parts)-1-i] = fmt.Sprintf("SELECT '%s' AS part, %s FROM %s_%s", p.name, tb.cols, tb.base, p.name)
		}
		if len(arms) == 0 { // every partition dropped: a view of no rows with the same columns
			cols := strings.Split(tb.cols, ",")
			for i, c := range cols {
				cols[i] = "NULL AS " + strings.TrimSpace(c)
			}
			arms = []string{"SELECT NULL AS part, " + strings.Join(cols, ", ") + " WHERE 0"}
		}
		if len(arms) > maxViewArms {
			var outer []string
			for i := 0; i*maxViewArms < len(arms); i++ {
				chunk := fmt.Sprintf("%s__%d", tb.base, i)
				if _, err := t.exec(ctx, "CREATE VIEW "+chunk+" AS "+
					strings.Join(arms[i*maxViewArms:min(len(arms), (i+1)*maxViewArms)], " UNION ALL ")); err != nil {
					return err
				}
				outer = append(outer, "SELECT * FROM "+chunk)
			}
			arms = outer
		}
		if _, err := t.exec(ctx, "CREATE VIEW "+tb.base+" AS "+strings.Join(arms, " UNION ALL ")); err != nil {
			return err
		}
	}
	return nil
}

// noneRecent returns store.ErrConflict when q, a statement on one
// partition's tables, finds a row in the legacy partition or in one whose
// window reaches into the uniqueWindow before at, the new row's time.
func (t *tx) noneRecent(ctx context.Context, k *partKind, at int64, q string, args ...any) error {
	text, err := t.recent(ctx, k, at-uniqueWindow.Microseconds(), q)
	if err != nil || text == "" {
		return err
	}
	return t.noneExist(ctx, text, args...)
}

// recent returns q, a statement on one partition's tables with numbered
// parameters, as one compound statement over the legacy partition and the
// live partitions whose window reaches past since, newest first, that stops
// at its first row; "" when there are none. A lookup through the views
// visits every partition, and costs more than linearly in their number
// (docs/benchmarks.md); a key unique within uniqueWindow needs only these.
// The text of the last partition set is kept per statement.
func (t *tx) recent(ctx context.Context, k *partKind, since int64, q string) (string, error) {
	parts, err := t.livePartitions(ctx, k)
	if err != nil {
		return "", err
	}
	var names []string
	for i := len(parts) - 1; i >= 0; i-- {
		if parts[i].hi > since || parts[i].name == legacyPartition {
			names = append(names, parts[i].name)
		}
	}
	if len(names) == 0 {
		return "", nil
	}
	set := strings.Join(names, ",")
	if c, ok := recentTexts.Load(q); ok && c.(recentText).set == set {
		return c.(recentText).text, nil
	}
	arms := make([]string, len(names))
	for i, p := range names {
		arms[i] = in(q, p)
	}
	text := strings.Join(arms, " UNION ALL ") + " LIMIT 1"
	recentTexts.Store(q, recentText{set, text})
	return text, nil
}

type recentText struct{ set, text string }

var recentTexts sync.Map // statement → recentText

// inEach returns q rewritten for each live partition of k, oldest first:
// for the statements that must visit them all one by one.
func (t *tx) inEach(ctx context.Context, k *partKind, q string) ([]string, error) {
	parts, err := t.livePartitions(ctx, k)
	if err != nil {
		return nil, err
	}
	qs := make([]string, len(parts))
	for i, p := range parts {
		qs[i] = in(q, p.name)
	}
	return qs, nil
}

// guess returns the live partition the id's time points at: where a row
// with a ULID id was put, unless it was stored before partitions (p0 holds
// those) or under another clock. "" when there is none.
func (t *tx) guess(ctx context.Context, k *partKind, id string) (string, error) {
	u, err := ulid.ParseStrict(id)
	if err != nil {
		return "", nil
	}
	return t.liveAt(ctx, k, int64(u.Time())*1000)
}

// holder returns, through the view, the partition that holds the row with
// id in the kind's parent table, or store.ErrNotFound. Callers try the
// guess first; this is for rows placed by another clock.
func (t *tx) holder(ctx context.Context, k *partKind, id string) (string, error) {
	var p string
	err := t.tx.QueryRowContext(ctx, "SELECT part FROM "+k.tables[0].base+" WHERE id = ?", id).Scan(&p)
	return p, mapErr(err)
}

// updateMessage runs the update q (a statement on {messages} whose last
// argument but more is the id) in the partition that holds message id: in
// the guessed one directly, which is the common case and costs no lookup,
// and else where the view finds the message. It returns store.ErrNotFound
// when no row changed.
func (t *tx) updateMessage(ctx context.Context, id, q string, args ...any) error {
	p, err := t.guess(ctx, messagesKind, id)
	if err != nil {
		return err
	}
	if p != "" {
		n, err := rowsAffected(t.exec(ctx, in(q, p), args...))
		if err != nil || n > 0 {
			return err
		}
	}
	at, err := t.holder(ctx, messagesKind, id)
	if err != nil {
		return err
	}
	if at == p {
		return store.ErrNotFound // there, but not in the state the update asks for
	}
	return oneRow(t.exec(ctx, in(q, at), args...))
}
