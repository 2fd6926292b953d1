package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/oklog/ulid/v2"
)

var bg = context.Background()

func openTest(t *testing.T) *DB {
	t.Helper()
	db, err := Open(bg, filepath.Join(t.TempDir(), "db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustWrite(t *testing.T, db *DB, fn func(*tx) error) {
	t.Helper()
	if err := db.Write(bg, func(st store.Tx) error { return fn(st.(*tx)) }); err != nil {
		t.Fatal(err)
	}
}

func newTenant(t *testing.T, db *DB, name string) string {
	id := ulid.Make().String()
	mustWrite(t, db, func(x *tx) error {
		return x.CreateTenant(bg, &store.Tenant{ID: id, Name: name, WrappedKey: []byte{1}, CreatedAt: time.Now()})
	})
	return id
}

// seed stores a message (with one status event) and an inbound record of
// tenant, both made and last changed at at.
func seed(t *testing.T, db *DB, tenant string, at time.Time, status store.MessageStatus) {
	t.Helper()
	seedN(t, db, tenant, at, 1, status)
}

// seedN seeds n of them a second apart, in one transaction.
func seedN(t *testing.T, db *DB, tenant string, at time.Time, n int, status store.MessageStatus) {
	t.Helper()
	mustWrite(t, db, func(x *tx) error {
		for i := range n {
			if err := seedOne(x, tenant, at.Add(time.Duration(i)*time.Second), status); err != nil {
				return err
			}
		}
		return nil
	})
}

func seedOne(x *tx, tenant string, at time.Time, status store.MessageStatus) error {
	id := ulid.MustNew(ulid.Timestamp(at), rand.Reader).String()
	m := &store.Message{ID: id, TenantID: tenant, Kind: store.MessageKindSend, Channel: consent.SMS, Sender: "S",
		RecipientKind: consent.KindPhone, RecipientIndex: []byte(id), Status: status, Reason: consent.ReasonConsentGranted,
		BodyHash: []byte("h"), DueAt: at, CreatedAt: at, UpdatedAt: at}
	if err := x.CreateMessage(bg, m); err != nil {
		return err
	}
	if err := x.AppendMessageEvent(bg, &store.MessageEvent{TenantID: tenant, MessageID: id, Status: status, At: at}); err != nil {
		return err
	}
	return x.CreateInboundMessage(bg, &store.InboundMessage{ID: ulid.MustNew(ulid.Timestamp(at), rand.Reader).String(),
		TenantID: tenant, Channel: consent.SMS, ProviderID: id, SenderID: "s", FromIndex: []byte(id), TextHash: []byte("h"),
		Outcome: "ignored", ReceivedAt: at, RecordedAt: at})
}

// catalog returns the kind's partitions as "name:state", oldest first.
func catalog(t *testing.T, db *DB, kind string) []string {
	t.Helper()
	var out []string
	if err := db.readTx(bg, func(x *tx) (err error) {
		out, err = queryStrings(bg, x, `SELECT name || ':' || state FROM partitions WHERE kind = ? ORDER BY lo, name`, kind)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func tables(t *testing.T, db *DB, like string) []string {
	t.Helper()
	var out []string
	if err := db.readTx(bg, func(x *tx) (err error) {
		out, err = queryStrings(bg, x, `SELECT name FROM sqlite_schema WHERE name LIKE ? ORDER BY name`, like)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func count(t *testing.T, db *DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.readTx(bg, func(x *tx) error { return x.tx.QueryRowContext(bg, q, args...).Scan(&n) }); err != nil {
		t.Fatal(err)
	}
	return n
}

// week is an hour into the partition period d weeks back, so that rows
// seeded a few minutes apart share a partition.
func week(d int) time.Time {
	return partitionStart(time.Now().Add(-time.Duration(d) * partitionPeriod)).Add(time.Hour)
}

// TestDropExpired: a partition goes whole only when every row in it has
// expired for its own tenant and no message in it is still on its way;
// what stays is for the row-by-row purge.
func TestDropExpired(t *testing.T) {
	db := openTest(t)
	a, b := newTenant(t, db, "a"), newTenant(t, db, "b")
	seed(t, db, a, week(40), store.MessageDelivered) // all a's, expired: goes
	seed(t, db, a, week(40).Add(time.Hour), store.MessageFailed)
	seed(t, db, a, week(30), store.MessageDelivered) // a's expired, b's not (b keeps longer): stays
	seed(t, db, b, week(30), store.MessageDelivered)
	seed(t, db, a, week(20), store.MessageQueued) // still to send: stays
	seed(t, db, a, week(0), store.MessageDelivered)
	if got := catalog(t, db, "messages"); len(got) != 5 {
		t.Fatalf("message partitions = %v, want p0 and four weeks", got)
	}
	cutoffs := map[string]time.Time{a: week(10), b: week(50)}
	got, err := db.DropExpired(bg, store.CategoryMessageMetadata, cutoffs)
	if err != nil {
		t.Fatal(err)
	}
	if !maps(got, map[string]int{a: 2}) {
		t.Errorf("dropped messages = %v, want 2 of a's", got)
	}
	got, err = db.DropExpired(bg, store.CategoryInbound, cutoffs)
	if err != nil {
		t.Fatal(err)
	}
	// Inbound records have no pending state: a's record from week 20 goes too.
	if !maps(got, map[string]int{a: 3}) {
		t.Errorf("dropped inbound records = %v, want 3 of a's", got)
	}
	// p0, empty on a new database, goes too.
	for kind, want := range map[string]int{"messages": 3, "inbound": 2} {
		if c := catalog(t, db, kind); len(c) != want || slices.ContainsFunc(c, func(s string) bool { return strings.HasSuffix(s, ":detached") }) {
			t.Errorf("%s partitions after the drop = %v, want %d live ones", kind, c, want)
		}
	}
	old := "%_w" + partitionStart(week(40)).Format("20060102") + "%"
	if left := tables(t, db, old); len(left) != 0 {
		t.Errorf("the dropped partition left %v in the schema", left)
	}
	if n := count(t, db, `SELECT count(*) FROM messages`); n != 4 {
		t.Errorf("messages left = %d, want 4", n)
	}
	// Without b's cut-off, b's partition cannot go; a's rows there go by Purge.
	if got, _ := db.DropExpired(bg, store.CategoryMessageMetadata, map[string]time.Time{a: week(10)}); len(got) != 0 {
		t.Errorf("dropped %v without every tenant's cut-off", got)
	}
	var purged int
	mustWrite(t, db, func(x *tx) (err error) {
		purged, err = x.Purge(bg, a, store.CategoryMessageMetadata, week(10), 100)
		return err
	})
	if purged != 1 {
		t.Errorf("row-by-row purge removed %d, want a's 1 in the shared partition", purged)
	}
}

func maps(got, want map[string]int) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

func partitionStart(at time.Time) time.Time {
	p := partitionPeriod.Microseconds()
	return time.UnixMicro(at.UnixMicro() - at.UnixMicro()%p).UTC()
}

// TestDismantleResumes: a partition detached before a crash, half taken
// apart, is finished by the next pass, its rows in more than one chunk.
func TestDismantleResumes(t *testing.T) {
	db := openTest(t)
	a := newTenant(t, db, "a")
	seedN(t, db, a, week(40), 2500, store.MessageDelivered)
	seed(t, db, a, week(0), store.MessageDelivered)
	name := strings.TrimSuffix(catalog(t, db, "messages")[1], ":live")
	mustWrite(t, db, func(x *tx) error {
		if _, err := x.exec(bg, `UPDATE partitions SET state = 'detached' WHERE kind = 'messages' AND name = ?`, name); err != nil {
			return err
		}
		if err := x.rebuildViews(bg, messagesKind); err != nil {
			return err
		}
		// The crash came after the events' indexes and some of their rows went.
		if _, err := x.exec(bg, `DROP INDEX message_events_`+name+`_message`); err != nil {
			return err
		}
		_, err := x.exec(bg, `DELETE FROM message_events_`+name+` WHERE rowid IN (SELECT rowid FROM message_events_`+name+` LIMIT 100)`)
		return err
	})
	if n := count(t, db, `SELECT count(*) FROM messages`); n != 1 {
		t.Fatalf("a detached partition is still read: %d messages", n)
	}
	if _, err := db.DropExpired(bg, store.CategoryMessageMetadata, map[string]time.Time{}); err != nil {
		t.Fatal(err)
	}
	if left := tables(t, db, "message%"+name+"%"); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
	if c := catalog(t, db, "messages"); len(c) != 1 {
		t.Errorf("catalog = %v, want this week (p0 was empty)", c)
	}
}

// TestViewsOfViews: past maxViewArms partitions the views union views, and
// every partition is still read.
func TestViewsOfViews(t *testing.T) {
	defer func(n int) { maxViewArms = n }(maxViewArms)
	maxViewArms = 3
	db := openTest(t)
	a := newTenant(t, db, "a")
	for w := range 8 {
		seed(t, db, a, week(w), store.MessageDelivered)
	}
	if n := count(t, db, `SELECT count(*) FROM messages WHERE tenant_id = ?`, a); n != 8 {
		t.Errorf("messages read through views of views = %d, want 8", n)
	}
	if n := count(t, db, `SELECT count(*) FROM sqlite_schema WHERE type = 'view' AND name GLOB 'messages__[0-9]*'`); n != 3 {
		t.Errorf("%d chunk views for 9 partitions of 3 arms each, want 3", n)
	}
}

// TestMigrationKeepsRows: a database made before partitions keeps its rows
// in p0, where every lookup still finds them, and new rows go to new
// partitions.
func TestMigrationKeepsRows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := fs.Glob(migrations, "migrations/*.sql")
	slices.Sort(files)
	for _, f := range files {
		if strings.Compare(filepath.Base(f), "0017") >= 0 {
			break
		}
		body, _ := migrations.ReadFile(f)
		if _, err := raw.Exec(string(body)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var v int
		fmt.Sscanf(filepath.Base(f), "%d", &v)
		if _, err := raw.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`); err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec(`INSERT INTO schema_migrations VALUES (?, ?, 0)`, v, filepath.Base(f)); err != nil {
			t.Fatal(err)
		}
	}
	then := week(30)
	oldID := ulid.MustNew(ulid.Timestamp(then), rand.Reader).String()
	// An id made now for a row stored as of then (another clock): its
	// time points at a partition that does not hold it.
	skewedID := ulid.Make().String()
	for _, q := range []string{
		`INSERT INTO tenants (id, name, wrapped_key, created_at) VALUES ('t1', 'one', x'01', 0)`,
		fmt.Sprintf(`INSERT INTO messages (id, tenant_id, kind, channel, sender, recipient_kind, recipient_index, status,
			reason, body_hash, body_len, idempotency_key, due_at, created_at, updated_at)
			VALUES ('%s', 't1', 'send', 'sms', 'S', 'phone', x'01', 'delivered', 'consent_granted', x'01', 1, 'k-old', %d, %d, %d)`,
			oldID, then.UnixMicro(), then.UnixMicro(), then.UnixMicro()),
		fmt.Sprintf(`INSERT INTO messages (id, tenant_id, kind, channel, sender, recipient_kind, recipient_index, status,
			reason, body_hash, body_len, due_at, created_at, updated_at)
			VALUES ('%s', 't1', 'send', 'sms', 'S', 'phone', x'02', 'sent', 'consent_granted', x'01', 1, %d, %d, %d)`,
			skewedID, then.UnixMicro()-1, then.UnixMicro()-1, then.UnixMicro()-1),
		fmt.Sprintf(`INSERT INTO message_events (tenant_id, message_id, status, at) VALUES ('t1', '%s', 'delivered', 0)`, oldID),
		`INSERT INTO inbound_messages (tenant_id, channel, provider_id, id, sender_id, from_index, text_hash, text_len, outcome,
			received_at, recorded_at) VALUES ('t1', 'sms', 'SM-old', 'i1', 's', x'01', x'01', 1, 'ignored', 5, 5)`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()

	db, err := Open(bg, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if c := catalog(t, db, "messages"); !slices.Equal(c, []string{"p0:live"}) {
		t.Errorf("catalog after the migration = %v", c)
	}
	err = db.Read(bg, func(st store.Tx) error {
		if m, err := st.GetMessage(bg, "t1", oldID); err != nil || m.IdempotencyKey != "k-old" {
			t.Errorf("old message = %v, %v", m, err)
		}
		if evs, err := st.ListMessageEvents(bg, "t1", oldID); err != nil || len(evs) != 1 {
			t.Errorf("old message's events = %v, %v", evs, err)
		}
		if in, err := st.GetInboundMessage(bg, "t1", consent.SMS, "SM-old"); err != nil || in.ID != "i1" {
			t.Errorf("old inbound record = %v, %v", in, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The old key is still taken; a new message lands in a new partition.
	dup := &store.Message{ID: ulid.Make().String(), TenantID: "t1", Kind: store.MessageKindSend, Channel: consent.SMS,
		Sender: "S", RecipientKind: consent.KindPhone, RecipientIndex: []byte{1}, Status: store.MessageQueued,
		Reason: consent.ReasonConsentGranted, BodyHash: []byte{1}, IdempotencyKey: "k-old", CreatedAt: time.Now()}
	if err := db.Write(bg, func(st store.Tx) error { return st.CreateMessage(bg, dup) }); err == nil {
		t.Error("an idempotency key from before the migration was used again")
	}
	dup.IdempotencyKey = "k-new"
	mustWrite(t, db, func(x *tx) error { return x.CreateMessage(bg, dup) })
	if c := catalog(t, db, "messages"); len(c) != 2 {
		t.Errorf("catalog after a new message = %v, want p0 and this week", c)
	}
	// The skewed message is found where it is, though its id points at the
	// partition the new message made.
	mustWrite(t, db, func(x *tx) error {
		if err := x.SetDeliveryStatus(bg, "t1", skewedID, store.MessageDelivered, then); err != nil {
			return fmt.Errorf("delivery status of the skewed message: %w", err)
		}
		if err := x.AppendMessageEvent(bg, &store.MessageEvent{TenantID: "t1", MessageID: skewedID,
			Status: store.MessageDelivered, At: then}); err != nil {
			return fmt.Errorf("event of the skewed message: %w", err)
		}
		return nil
	})
	if n := count(t, db, `SELECT count(*) FROM message_events_p0 WHERE message_id = ?`, skewedID); n != 1 {
		t.Errorf("the skewed message's event went elsewhere: %d in p0", n)
	}
	// p0 goes whole like any other partition once every row in it has
	// expired (until then the row-by-row purge empties it).
	got, err := db.DropExpired(bg, store.CategoryMessageMetadata, map[string]time.Time{"t1": week(10)})
	if err != nil {
		t.Fatal(err)
	}
	if got["t1"] != 2 {
		t.Errorf("dropped %v, want the 2 old messages of t1", got)
	}
	if c := catalog(t, db, "messages"); len(c) != 1 || strings.HasPrefix(c[0], legacyPartition) {
		t.Errorf("catalog after the purge = %v, want this week only", c)
	}
	if left := tables(t, db, "message%_p0"); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
	if err := db.Read(bg, func(st store.Tx) error { _, err := st.GetMessage(bg, "t1", dup.ID); return err }); err != nil {
		t.Errorf("the new message after p0 went: %v", err)
	}
}

// TestPartitionQueryPlans: each lookup that visits every partition finds
// its rows there by the index made for it. SQLite pushes only some terms of
// an aggregate's WHERE into a view's arms, which once made the idempotency
// check read every row of the tenant in every partition.
func TestPartitionQueryPlans(t *testing.T) {
	db := openTest(t)
	a := newTenant(t, db, "a")
	for w := range 3 {
		seed(t, db, a, week(w+1), store.MessageDelivered)
	}
	// The lookups of the last uniqueWindow, as recent makes them.
	recentOf := func(k *partKind, q string) string {
		var text string
		if err := db.readTx(bg, func(x *tx) (err error) {
			text, err = x.recent(bg, k, 0, q)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return text
	}
	for q, index := range map[string]string{
		qMessageIDUsed:     "_id",
		qInboundIDUsed:     "_id",
		qDueMessages:       "_due",
		qMessageKeysAfter:  "_keys",
		qBlindMessages:     "_id",
		qBlindInbound:      "_id",
		qListMessageEvents: "_message",
		recentOf(messagesKind, qFindMessageByProviderRef):   "_provider_ref",
		recentOf(messagesKind, qGetMessageByIdempotencyKey): "_idempotency",
		recentOf(messagesKind, qIdempotencyKeyUsed):         "_idempotency",
		recentOf(messagesKind, qReplyExists):                "_reply",
		recentOf(inboundKind, qInboundUsed):                 "_provider",
		recentOf(inboundKind, qGetInbound):                  "_provider",
	} {
		var plan []string
		if err := db.readTx(bg, func(x *tx) error {
			params := strings.Count(q, "?")
			if strings.Contains(q, "?1") { // numbered, shared by every arm
				params = strings.Count(q, "?") / strings.Count(q, "?1")
			}
			args := []any{"a", "b", "c", "d", "e"}[:params]
			rows, err := x.tx.QueryContext(bg, "EXPLAIN QUERY PLAN "+q, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					return err
				}
				plan = append(plan, detail)
			}
			return rows.Err()
		}); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		arms := 0
		for _, line := range plan {
			if !strings.Contains(line, "_w") {
				continue // p0 keeps the indexes it had; the view's co-routine
			}
			arms++
			if !strings.HasPrefix(line, "SEARCH ") || !strings.Contains(line, index+" (") {
				t.Errorf("%s\n  partition arm %q, want a search by %s", q, line, index)
			}
		}
		if arms != 3 {
			t.Errorf("%s: %d partition arms in the plan %q, want 3", q, arms, plan)
		}
	}
}

// TestNextChunk: the next chunk of rows is sized to take dismantleChunk, by
// the last one's pace, within a factor of two of it and within bounds.
func TestNextChunk(t *testing.T) {
	for _, c := range []struct {
		chunk int
		took  time.Duration
		want  int
	}{
		{1000, dismantleChunk, 1000},
		{1000, dismantleChunk / 2, 2000},
		{1000, dismantleChunk * 2 / 3, 1500},
		{1000, dismantleChunk / 100, 2000}, // at most twice
		{1000, 2 * dismantleChunk, 500},
		{1000, time.Second, 500}, // at least half
		{150, time.Second, 100},  // never below 100
		{80_000, 0, 100_000},     // never above 100,000
	} {
		if got := nextChunk(c.chunk, c.took); got != c.want {
			t.Errorf("nextChunk(%d, %v) = %d, want %d", c.chunk, c.took, got, c.want)
		}
	}
}

// TestRecentLookups: lookups by a key unique within uniqueWindow (an
// idempotency key, a provider's reference, an inbound provider id) find a
// row of this week and not one of ten weeks ago, newest first.
func TestRecentLookups(t *testing.T) {
	db := openTest(t)
	a := newTenant(t, db, "a")
	var ids []string
	for _, at := range []time.Time{week(10), week(0)} {
		id := ulid.MustNew(ulid.Timestamp(at), rand.Reader).String()
		ids = append(ids, id)
		mustWrite(t, db, func(x *tx) error {
			if err := x.CreateMessage(bg, &store.Message{ID: id, TenantID: a, Kind: store.MessageKindSend, Channel: consent.SMS,
				Sender: "S", RecipientKind: consent.KindPhone, RecipientIndex: []byte(id), Status: store.MessageDelivered,
				Reason: consent.ReasonConsentGranted, BodyHash: []byte("h"), IdempotencyKey: "key-" + id, ProviderRef: "ref-" + id,
				DueAt: at, CreatedAt: at, UpdatedAt: at}); err != nil {
				return err
			}
			return x.CreateInboundMessage(bg, &store.InboundMessage{ID: id, TenantID: a, Channel: consent.SMS,
				ProviderID: "in-" + id, SenderID: "s", FromIndex: []byte(id), TextHash: []byte("h"), Outcome: "ignored",
				ReceivedAt: at, RecordedAt: at})
		})
	}
	for i, id := range ids {
		wantFound := i == 1
		if err := db.Read(bg, func(x store.Tx) error {
			for what, err := range map[string]error{
				"idempotency key": second(x.GetMessageByIdempotencyKey(bg, a, "key-"+id)),
				"provider ref":    second(x.FindMessageByProviderRef(bg, a, consent.SMS, "ref-"+id)),
				"inbound id":      second(x.GetInboundMessage(bg, a, consent.SMS, "in-"+id)),
			} {
				if found := err == nil; found != wantFound || (err != nil && !errors.Is(err, store.ErrNotFound)) {
					t.Errorf("%s of %s: %v, want found = %v", what, id, err, wantFound)
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

// TestEveryPartitionDropped: when the purge drops every partition, the
// views read no rows instead of failing, and the next row makes a partition.
func TestEveryPartitionDropped(t *testing.T) {
	db := openTest(t)
	a := newTenant(t, db, "a")
	seed(t, db, a, week(20), store.MessageDelivered)
	for _, cat := range []string{store.CategoryMessageMetadata, store.CategoryInbound} {
		if _, err := db.DropExpired(bg, cat, map[string]time.Time{a: week(10)}); err != nil {
			t.Fatalf("%s: %v", cat, err)
		}
	}
	if c := catalog(t, db, "messages"); len(c) != 0 {
		t.Fatalf("catalog = %v, want none", c)
	}
	for _, view := range []string{"messages", "message_events", "inbound_messages"} {
		if n := count(t, db, `SELECT count(*) FROM `+view); n != 0 {
			t.Errorf("%s reads %d rows", view, n)
		}
	}
	seed(t, db, a, week(0), store.MessageDelivered)
	if n := count(t, db, `SELECT count(*) FROM messages`); n != 1 {
		t.Errorf("messages after a new one: %d", n)
	}
}
