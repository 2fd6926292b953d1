package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/index"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/postgres"
	"github.com/consentgate/consentgate/internal/store/postgres/pgtest"
	"github.com/jackc/pgx/v5"
	"github.com/oklog/ulid/v2"
)

// node is one gateway of a multi-node test, with its log kept for failures.
type node struct {
	*App
	name string
	logs *lockedBuffer
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startNode starts a gateway on dsn with its own data directory and the
// shared master key file; appName labels its database connections.
func startNode(t *testing.T, name, dsn, appName, masterKey string) *node {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", appName)
	u.RawQuery = q.Encode()
	cfg := Defaults()
	cfg.Addr, cfg.Data, cfg.MasterKeyFile, cfg.DB = "127.0.0.1:0", t.TempDir(), masterKey, u.String()
	logs := &lockedBuffer{}
	a, err := Open(context.Background(), cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatalf("node %s: %v", name, err)
	}
	if err := a.Start(); err != nil {
		t.Fatalf("node %s: %v", name, err)
	}
	n := &node{App: a, name: name, logs: logs}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := a.Shutdown(ctx); err != nil {
			t.Errorf("node %s shutdown: %v", name, err)
		}
		if t.Failed() {
			t.Logf("node %s log:\n%s", name, logs.String())
		}
	})
	return n
}

// call sends a JSON request to a node and decodes the JSON answer.
func (n *node) call(t *testing.T, method, path, key, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+n.Addr()+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s %s: %v", n.name, method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

// decision asks a node whether the test's message may go out, and returns
// the reason ("unavailable" when the node fails closed, or the status of an
// error answer).
func (n *node) decision(t *testing.T, key string) (allowed bool, reason string) {
	t.Helper()
	status, ans := n.call(t, "POST", "/v1/decisions", key, `{"to":{"phone":"+4520123456"},"channel":"sms","purpose":"offers"}`)
	if status != 200 {
		return false, fmt.Sprintf("HTTP %d %v", status, ans["code"])
	}
	return ans["allowed"] == true, fmt.Sprint(ans["reason"])
}

// waitFor polls a node's decision every 20 ms until it gives want, and
// returns how long that took; it fails the test after limit.
func (n *node) waitFor(t *testing.T, key, want string, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	var last string
	for time.Since(start) < limit {
		if _, last = n.decision(t, key); last == want {
			return time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("node %s: decision still %q after %v, want %q", n.name, last, limit, want)
	return 0
}

// TestMultiNode runs two gateways on one PostgreSQL schema: a change through
// one reaches the other's decisions within a second, and a node that loses
// its change feed fails closed until it has caught up again, by itself.
func TestMultiNode(t *testing.T) {
	dsn, schema := pgtest.Schema(t)
	masterKey := filepath.Join(t.TempDir(), "master.key")
	a := startNode(t, "A", dsn, schema+"-a", masterKey)
	b := startNode(t, "B", dsn, schema+"-b", masterKey)
	ctx := context.Background()

	tn, err := a.Service.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := a.Service.CreateAPIKey(ctx, tn.ID, auth.Owner, "test", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	mustCall := func(n *node, method, path, body string, want int) map[string]any {
		t.Helper()
		status, ans := n.call(t, method, path, key, body)
		if status != want {
			t.Fatalf("%s %s %s: %d %v, want %d", n.name, method, path, status, ans, want)
		}
		return ans
	}
	mustCall(a, "POST", "/v1/purposes", `{"key":"offers","name":"Offers","category":"marketing","basis":"consent","channels":["sms"]}`, 201)
	contact := mustCall(a, "POST", "/v1/contacts", `{"identifiers":{"phone":"+45 20 12 34 56"}}`, 201)["id"]
	consentPath := fmt.Sprintf("/v1/contacts/%v/consents/offers/sms", contact)

	mustCall(a, "PUT", consentPath, `{"status":"granted","source":"web"}`, 200)
	t.Logf("grant on A reached B after %v", b.waitFor(t, key, "consent_granted", time.Second))
	mustCall(a, "PUT", consentPath, `{"status":"withdrawn","source":"api"}`, 200)
	t.Logf("withdrawal on A reached B after %v", b.waitFor(t, key, "consent_withdrawn", time.Second))

	// Cut B's notification connection and keep its polls from completing
	// (a lock on the events table, which holds up A's feed too), as when B
	// loses the database: B must answer "unavailable" rather than decide on
	// a stale index, then reconnect and recover by itself once the database
	// answers again.
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	listener := func() (pid int32) {
		t.Helper()
		err := admin.QueryRow(ctx, `SELECT pid FROM pg_stat_activity WHERE application_name = $1`, schema+"-b/feed").Scan(&pid)
		if err != nil {
			t.Fatalf("B's feed connection: %v", err)
		}
		return pid
	}
	before := listener()
	lock, err := admin.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.Exec(ctx, `LOCK TABLE consent_events IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	killer, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer killer.Close(ctx)
	var killed bool
	if err := killer.QueryRow(ctx, `SELECT pg_terminate_backend($1)`, before).Scan(&killed); err != nil || !killed {
		t.Fatalf("terminating B's feed connection: %v %v", killed, err)
	}
	t.Logf("B failed closed after %v", b.waitFor(t, key, "unavailable", 6*time.Second))
	if err := lock.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("B recovered after %v", b.waitFor(t, key, "consent_withdrawn", 5*time.Second))
	if after := listener(); after == before {
		t.Errorf("B's feed connection was not replaced (pid %d)", after)
	}
	mustCall(a, "PUT", consentPath, `{"status":"granted","source":"web"}`, 200)
	t.Logf("grant on A after B's recovery reached B after %v", b.waitFor(t, key, "consent_granted", time.Second))

	// Changes that are not consent events reach B too: a purpose that no
	// longer uses SMS, and an Art. 18 restriction, each within 1 s.
	mustCall(a, "PATCH", "/v1/purposes/offers", `{"channels":["email"]}`, 200)
	t.Logf("purpose edit on A reached B after %v", b.waitFor(t, key, "purpose_channel_not_allowed", time.Second))
	mustCall(a, "PATCH", "/v1/purposes/offers", `{"channels":["sms"]}`, 200)
	b.waitFor(t, key, "consent_granted", time.Second)
	mustCall(a, "POST", "/v1/dsr", fmt.Sprintf(`{"type":"restriction","contact_id":"%v"}`, contact), 201)
	t.Logf("restriction on A reached B after %v", b.waitFor(t, key, "restricted", time.Second))
	mustCall(a, "POST", "/v1/dsr", fmt.Sprintf(`{"type":"restriction","contact_id":"%v","lift":true}`, contact), 201)
	t.Logf("lifting it reached B after %v", b.waitFor(t, key, "consent_granted", time.Second))
}

// TestFeedOutOfOrderCommits makes PostgreSQL commit a consent event after
// one with a higher seq, and checks that the change feed of another process
// applies both: the late one within the grace period (a gap it keeps asking
// for), and after it (a gap given up, recovered by the commit notification).
func TestFeedOutOfOrderCommits(t *testing.T) {
	dsn, _ := pgtest.Schema(t)
	ctx := context.Background()
	open := func() *postgres.DB {
		db, err := postgres.Open(ctx, dsn, postgres.Options{MaxConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	w, r := open(), open()
	tn, cid := "tenant-1", ulid.Make()
	now := time.Now()
	err := w.Write(ctx, func(tx store.Tx) error {
		if err := tx.CreateTenant(ctx, &store.Tenant{ID: tn, Name: "t", WrappedKey: []byte{1}, CreatedAt: now}); err != nil {
			return err
		}
		for _, p := range []string{"p1", "p2", "p3", "p4"} {
			if err := tx.CreatePurpose(ctx, tn, &consent.Purpose{Key: p, Name: p, NoticeVersion: 1, Category: consent.Marketing,
				Basis: consent.BasisConsent, Channels: []consent.Channel{consent.SMS}}, now); err != nil {
				return err
			}
		}
		return tx.CreateContact(ctx, &store.Contact{ID: cid.String(), TenantID: tn, WrappedKey: []byte{1}, CreatedAt: now, UpdatedAt: now}, nil)
	})
	if err != nil {
		t.Fatal(err)
	}

	ix := index.New()
	from, err := changeClock(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	seq, err := ix.Load(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	ix.MarkReady()
	f := newFeed(r, ix, seq, from, slog.New(slog.NewTextHandler(io.Discard, nil)))
	f.every, f.grace = 50*time.Millisecond, 300*time.Millisecond
	f.start()
	defer f.stop()

	grant := func(purpose string) error {
		e := &store.ConsentEvent{ID: ulid.Make().String(), TenantID: tn, ContactID: cid.String(), Purpose: purpose,
			Channel: consent.SMS, Status: consent.StatusGranted, Confirmed: true, Source: "api", NoticeVersion: 1,
			OccurredAt: now, RecordedAt: now}
		return w.Write(ctx, func(tx store.Tx) error { return tx.AppendConsentEvent(ctx, e) })
	}
	// grantLate appends an event and holds its transaction open until
	// release is closed; it returns once the event has its seq.
	grantLate := func(purpose string) (release chan struct{}, done chan error) {
		release, done, appended := make(chan struct{}), make(chan error, 1), make(chan struct{})
		go func() {
			done <- w.Write(ctx, func(tx store.Tx) error {
				e := &store.ConsentEvent{ID: ulid.Make().String(), TenantID: tn, ContactID: cid.String(), Purpose: purpose,
					Channel: consent.SMS, Status: consent.StatusGranted, Confirmed: true, Source: "api", NoticeVersion: 1,
					OccurredAt: now, RecordedAt: now}
				if err := tx.AppendConsentEvent(ctx, e); err != nil {
					return err
				}
				close(appended)
				<-release
				return nil
			})
		}()
		select {
		case <-appended:
		case err := <-done:
			t.Fatal(err)
		}
		return release, done
	}
	allowed := func(purpose string) bool {
		return ix.DecideContact(tn, cid, purpose, consent.SMS, time.Now()).Allowed
	}
	waitAllowed := func(purpose string, limit time.Duration) {
		t.Helper()
		for start := time.Now(); !allowed(purpose); time.Sleep(10 * time.Millisecond) {
			if time.Since(start) > limit {
				t.Fatalf("%s not applied after %v", purpose, limit)
			}
		}
	}

	for _, c := range []struct {
		name        string
		late, early string
		hold        time.Duration
	}{
		{"within grace", "p1", "p2", 0},
		{"after grace", "p3", "p4", 3 * f.grace},
	} {
		release, done := grantLate(c.late)
		if err := grant(c.early); err != nil {
			t.Fatal(err)
		}
		waitAllowed(c.early, time.Second)
		time.Sleep(c.hold)
		if allowed(c.late) {
			t.Fatalf("%s: %s applied before it committed", c.name, c.late)
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		waitAllowed(c.late, time.Second)
	}
	if !ix.Ready() {
		t.Error("index not ready")
	}
}

// TestDBSetting: the database URL comes from --db, CONSENTGATE_DB or the
// file's db key; only PostgreSQL URLs are accepted; the password never
// appears in the configuration dump, nor in the refusal of a bad value.
func TestDBSetting(t *testing.T) {
	file := filepath.Join(t.TempDir(), "cg.toml")
	os.WriteFile(file, []byte("db = \"postgres://file@db/cg\"\n"), 0o600)
	for _, c := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--db", "postgresql://flag@db/cg"}, nil, "postgresql://flag@db/cg"},
		{nil, map[string]string{"CONSENTGATE_DB": "postgres://env@db/cg"}, "postgres://env@db/cg"},
		{[]string{"--config", file}, nil, "postgres://file@db/cg"},
		{nil, nil, ""},
	} {
		cfg, err := load(t, c.args, c.env)
		if err == nil {
			err = cfg.Validate()
		}
		if err != nil || cfg.DB != c.want {
			t.Errorf("%v %v: db %q, %v; want %q", c.args, c.env, cfg.DB, err, c.want)
		}
	}
	for _, bad := range []string{"mysql://u:hunter2@db/cg", "/var/lib/cg.db", "u:hunter2@db:5432"} {
		cfg, _ := load(t, []string{"--db", bad}, nil)
		err := cfg.Validate()
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("db %q: %v", bad, err)
		}
	}
	for _, db := range []string{"postgres://cg:hunter2@db/cg", "postgres://cg@db/cg?password=hunter2&sslmode=require"} {
		cfg, _ := load(t, []string{"--db", db}, nil)
		if dump := cfg.Redacted(); strings.Contains(dump, "hunter2") || !strings.Contains(dump, "db=postgres://cg") {
			t.Errorf("Redacted() = %s", dump)
		}
	}
}
