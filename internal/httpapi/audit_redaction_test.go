package httpapi

import (
	"context"
	"database/sql"
	"encoding/hex"
	"path/filepath"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/audit"
	"github.com/consentgate/consentgate/internal/service"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/sqlite"
	"github.com/oklog/ulid/v2"
	_ "modernc.org/sqlite"
)

// TestAuditRetentionRedacts: audit events past the tenant's retention lose
// their content (who, which object, which contact) but keep their place and
// digest in the hash chain, which still verifies; recent events are kept
// whole; changing a kept event or a redacted event's digest still breaks the
// chain.
func TestAuditRetentionRedacts(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.db")
	e := newEnv(t, openAt(path))
	ctx := context.Background()
	old := time.Now().AddDate(-3, 0, 0)
	var oldIDs []string
	if err := e.store.Write(ctx, func(tx store.Tx) error {
		for i := 0; i < 25; i++ {
			ev := &audit.Event{ID: ulid.Make().String(), TenantID: e.tenant, At: old.Add(time.Duration(i) * time.Second),
				ActorType: audit.ActorKey, ActorID: "key-1", Role: "support", Action: "contact.read", ObjectType: "contact",
				ObjectID: "01JCONTACT00000000000000AA", ContactID: "01JCONTACT00000000000000AA", Fields: []string{"phone"},
				RequestID: "req", Result: audit.OK}
			if err := tx.AppendAudit(ctx, ev); err != nil {
				return err
			}
			oldIDs = append(oldIDs, ev.ID)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// A recent event of the same tenant, and a chain over everything.
	if _, err := e.svc.CreateContact(ctx, service.Operator(e.tenant), service.ContactInput{Identifiers: map[string]string{"phone": "+4520123456"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ChainAudit(ctx); err != nil {
		t.Fatal(err)
	}
	sums, err := e.svc.Purge(ctx, service.PurgeOptions{TenantID: e.tenant, Batch: 10})
	if err != nil {
		t.Fatal(err)
	}
	redacted := -1
	for _, s := range sums {
		if s.Category == store.CategoryAuditEvents {
			redacted = s.Count
		}
	}
	if redacted != 25 {
		t.Fatalf("redacted %d audit events, want 25 (%+v)", redacted, sums)
	}
	if _, err := e.svc.ChainAudit(ctx); err != nil { // the purge's own event
		t.Fatal(err)
	}
	if rep, err := service.VerifyAuditChain(ctx, e.store); err != nil {
		t.Fatalf("chain after redaction: %v (%+v)", err, rep)
	}
	evs, err := listAudit(ctx, e.store, e.tenant)
	if err != nil {
		t.Fatal(err)
	}
	kept := 0
	for _, ev := range evs {
		switch {
		case ev.Redacted:
			if ev.ContactID != "" || ev.ActorID != "" || ev.ObjectID != "" || len(ev.Fields) != 0 || len(ev.ContentDigest) != 32 {
				t.Fatalf("redacted event keeps content: %+v", ev)
			}
		case ev.At.Before(old.Add(time.Hour)):
			t.Fatalf("an old event was not redacted: %+v", ev)
		default:
			kept++
		}
	}
	if kept == 0 {
		t.Fatal("recent events were redacted too")
	}
	// A second purge finds nothing more.
	sums, _ = e.svc.Purge(ctx, service.PurgeOptions{TenantID: e.tenant, DryRun: true})
	for _, s := range sums {
		if s.Category == store.CategoryAuditEvents && s.Count != 0 {
			t.Fatalf("second purge would redact %d", s.Count)
		}
	}

	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// A kept event changed is detected; so is a redacted event's digest
	// changed. Each change is undone before the next.
	var keptID, keptObj string
	if err := db.QueryRow(`SELECT id, object_id FROM audit_events WHERE redacted = 0 AND chain_pos IS NOT NULL LIMIT 1`).Scan(&keptID, &keptObj); err != nil {
		t.Fatal(err)
	}
	var digest []byte
	if err := db.QueryRow(`SELECT content_digest FROM audit_events WHERE id = ?`, oldIDs[3]).Scan(&digest); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ tamper, undo string }{
		{`UPDATE audit_events SET object_id = 'someone-else' WHERE id = '` + keptID + `'`,
			`UPDATE audit_events SET object_id = '` + keptObj + `' WHERE id = '` + keptID + `'`},
		{`UPDATE audit_events SET content_digest = zeroblob(32) WHERE id = '` + oldIDs[3] + `'`,
			`UPDATE audit_events SET content_digest = x'` + hex.EncodeToString(digest) + `' WHERE id = '` + oldIDs[3] + `'`},
	} {
		if _, err := db.Exec(c.tamper); err != nil {
			t.Fatal(err)
		}
		if _, err := service.VerifyAuditChain(ctx, e.store); err == nil {
			t.Fatalf("%s went unnoticed", c.tamper)
		}
		if _, err := db.Exec(c.undo); err != nil {
			t.Fatal(err)
		}
		if _, err := service.VerifyAuditChain(ctx, e.store); err != nil {
			t.Fatalf("after undoing %s: %v", c.tamper, err)
		}
	}
}

func openAt(path string) func(testing.TB) store.Store {
	return func(t testing.TB) store.Store {
		t.Helper()
		db, err := sqlite.Open(context.Background(), path, sqlite.Options{Synchronous: "NORMAL"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
}

func listAudit(ctx context.Context, st store.Store, tenantID string) ([]*audit.Event, error) {
	var out []*audit.Event
	err := st.Read(ctx, func(tx store.Tx) (err error) {
		out, err = tx.ListAudit(ctx, store.AuditFilter{TenantID: tenantID, Limit: 1000})
		return err
	})
	return out, err
}
