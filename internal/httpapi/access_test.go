package httpapi

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/audit"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/store"
)

// failingAudit is a store whose audit inserts fail while fail is set: the
// disk is full, the table was dropped, the database refuses.
type failingAudit struct {
	store.Store
	fail *atomic.Bool
}

func (f failingAudit) Write(ctx context.Context, fn func(store.Tx) error) error {
	return f.Store.Write(ctx, func(tx store.Tx) error { return fn(failingTx{tx, f.fail}) })
}

func (f failingAudit) WriteRelaxed(ctx context.Context, fn func(store.Tx) error) error {
	return f.Store.WriteRelaxed(ctx, func(tx store.Tx) error { return fn(failingTx{tx, f.fail}) })
}

func (f failingAudit) Read(ctx context.Context, fn func(store.Tx) error) error {
	return f.Store.Read(ctx, func(tx store.Tx) error { return fn(failingTx{tx, f.fail}) })
}

type failingTx struct {
	store.Tx
	fail *atomic.Bool
}

func (t failingTx) AppendAudit(ctx context.Context, e *audit.Event) error {
	if t.fail.Load() {
		return errors.New("audit table unwritable")
	}
	return t.Tx.AppendAudit(ctx, e)
}

func (t failingTx) Unit(ctx context.Context, fn func(store.Tx) error) error {
	return t.Tx.Unit(ctx, func(tx store.Tx) error { return fn(failingTx{tx, t.fail}) })
}

// TestAuditFailsClosed: when the audit event cannot be written, the read or
// change it would record is refused, and nothing of it is returned or kept.
func TestAuditFailsClosed(t *testing.T) {
	fail := &atomic.Bool{}
	e := newEnv(t, func(tb testing.TB) store.Store { return failingAudit{openSQLite(tb), fail} })
	ow := e.keys[owner]
	if st, _ := e.do("POST", "/v1/purposes", ow, `{"key":"offers","name":"O","category":"marketing","basis":"consent","channels":["sms"]}`); st != 201 {
		t.Fatal(st)
	}
	st, ans := e.do("POST", "/v1/contacts", ow, `{"identifiers":{"phone":"+4520123456"}}`)
	if st != 201 {
		t.Fatal(st, ans)
	}
	contact := ans["id"].(string)
	keysBefore := len(mustList(t, e, "/v1/keys", "keys"))
	fail.Store(true)
	for _, r := range []struct {
		method, path, body string
		hdr                []string
	}{
		{"GET", "/v1/contacts/" + contact, "", nil},
		{"GET", "/v1/contacts/" + contact, "", []string{"X-Reveal-Reason", "ticket 1"}},
		{"POST", "/v1/contacts/lookup", `{"phone":"+4520123456"}`, nil},
		{"GET", "/v1/contacts/" + contact + "/consents", "", nil},
		{"PUT", "/v1/contacts/" + contact + "/consents/offers/sms", `{"status":"granted"}`, nil},
		{"GET", "/v1/contacts/" + contact + "/receipts", "", nil},
		{"POST", "/v1/contacts", `{"identifiers":{"phone":"+4531415926"}}`, nil},
		{"POST", "/v1/keys", `{"role":"support"}`, nil},
		{"GET", "/v1/keys", "", nil},
		{"GET", "/v1/audit", "", nil},
		{"GET", "/v1/audit/export?format=csv", "", nil},
	} {
		status, body := e.matrixDo(r.method, r.path, ow, r.body, r.hdr)
		if status != 503 || !strings.Contains(body, `"code":"unavailable"`) {
			t.Errorf("%s %s with the audit trail failing: %d %s, want 503", r.method, r.path, status, body)
		}
		for _, leak := range []string{"20123456", "4•", "identifiers", contact + `"`, "secret", "events"} {
			if strings.Contains(body, leak) {
				t.Errorf("%s %s: the refusal shows %q: %s", r.method, r.path, leak, body)
			}
		}
	}
	fail.Store(false)
	if n := e.counts(e.tenant, contact); n != 0 {
		t.Errorf("%d consent events written without their audit event", n)
	}
	if n := len(mustList(t, e, "/v1/keys", "keys")); n != keysBefore {
		t.Errorf("%d keys, want %d: a key was made without its audit event", n, keysBefore)
	}
	if st, _ := e.do("POST", "/v1/contacts/lookup", ow, `{"phone":"+4531415926"}`); st != 404 {
		t.Errorf("a contact was created without its audit event (lookup: %d)", st)
	}
	if st, _ := e.do("GET", "/v1/contacts/"+contact, ow, nil); st != 200 {
		t.Errorf("after recovery: %d", st)
	}
}

func mustList(t *testing.T, e *env, path, field string) []any {
	t.Helper()
	st, ans := e.do("GET", path, e.keys[owner], nil)
	if st != 200 {
		t.Fatalf("GET %s: %d %v", path, st, ans)
	}
	return ans[field].([]any)
}

func TestAuditExport(t *testing.T) {
	e := newEnv(t, openSQLite)
	st, ans := e.do("POST", "/v1/contacts", e.keys[owner], `{"identifiers":{"phone":"+4520123456"}}`)
	if st != 201 {
		t.Fatal(st)
	}
	contact := ans["id"].(string)
	e.do("GET", "/v1/contacts/"+contact, e.keys[auth.Compliance], nil, "X-Reveal-Reason", "=HYPERLINK(\"x\")")
	get := func(q string) (*http.Response, string) {
		req, _ := http.NewRequest("GET", e.srv.URL+"/v1/audit/export"+q, nil)
		req.Header.Set("Authorization", "Bearer "+e.keys[auth.Auditor])
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	resp, body := get("?format=jsonl&contact=" + contact)
	lines := strings.Split(strings.TrimSpace(body), "\n")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/jsonl" || len(lines) != 2 ||
		!strings.Contains(lines[0], `"action":"contact.reveal"`) || !strings.Contains(lines[1], `"action":"contact.create"`) {
		t.Fatalf("jsonl export: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	resp, body = get("?format=csv")
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || resp.StatusCode != 200 || len(rows) < 3 || strings.Join(rows[0], ",") != strings.Join(auditCSVHeader, ",") {
		t.Fatalf("csv export: %d %v\n%s", resp.StatusCode, err, body)
	}
	for _, r := range rows[1:] {
		if r[6] == "contact.reveal" && r[11] != `'=HYPERLINK("x")` {
			t.Errorf("reason cell %q is not defused against spreadsheet formulas", r[11])
		}
	}
	if resp, _ := get("?format=xml"); resp.StatusCode != 400 {
		t.Errorf("format=xml: %d", resp.StatusCode)
	}
	// Each export is itself in the trail.
	var exports int
	for _, ev := range e.auditAfter(0) {
		if ev.Action == audit.AuditExport && ev.ActorID == e.keyIDs[auth.Auditor] {
			exports++
		}
	}
	if exports != 2 {
		t.Errorf("%d audit.export events, want 2", exports)
	}
}

// fakeClock is a settable clock for the limiter.
type fakeClock struct{ t atomic.Int64 }

func (c *fakeClock) now() time.Time          { return time.Unix(0, c.t.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.t.Add(int64(d)) }

func TestRateLimits(t *testing.T) {
	e := newEnv(t, openSQLite)
	clock := &fakeClock{}
	clock.t.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	api := New(Config{Service: e.svc, Logger: slog.New(slog.NewTextHandler(e.logs, nil)), Limits: &Limits{KeyRate: 1, KeyBurst: 2,
		FailuresAllowed: 2, FailureBackoff: time.Second, FailureBackoffMax: 4 * time.Second, FailureWindow: time.Minute}})
	api.limits.now = clock.now
	srv := httptest.NewServer(api)
	defer srv.Close()
	call := func(key string) (int, string) {
		req, _ := http.NewRequest("GET", srv.URL+"/v1/purposes", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Retry-After")
	}
	expect := func(what, key string, status int, retry string) {
		t.Helper()
		if st, ra := call(key); st != status || ra != retry {
			t.Fatalf("%s: %d Retry-After %q, want %d %q", what, st, ra, status, retry)
		}
	}
	good, bad := e.keys[auth.Marketer], "cg_"+strings.Repeat("a", 32)
	expect("burst 1", good, 200, "")
	expect("burst 2", good, 200, "")
	expect("over the key's rate", good, 429, "1")
	expect("another key has its own bucket", e.keys[owner], 200, "")
	clock.advance(time.Second)
	expect("refilled", good, 200, "")

	expect("failure 1", bad, 401, "")
	expect("failure 2", bad, 401, "")
	expect("failure 3 starts the backoff", bad, 401, "")
	expect("blocked, even with a good key", e.keys[owner], 429, "1")
	clock.advance(time.Second)
	expect("failure 4 doubles it", bad, 401, "")
	expect("blocked for 2s", bad, 429, "2")
	clock.advance(2 * time.Second)
	expect("failure 5", bad, 401, "")
	clock.advance(10 * time.Second)
	expect("failure 6 is capped", bad, 401, "")
	expect("capped at 4s", bad, 429, "4")
	clock.advance(4 * time.Second)
	expect("a good key clears the record", e.keys[owner], 200, "")
	expect("and the next failure is free again", bad, 401, "")
	expect("free", bad, 401, "")
}

func TestSourceAddr(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7:5555":             "192.0.2.7",
		"[2001:db8:1:2:aaaa::1]:443": "2001:db8:1:2::/64",
		"[2001:db8:1:2:bbbb::9]:443": "2001:db8:1:2::/64",
		"[::ffff:192.0.2.7]:80":      "192.0.2.7",
		"not an address":             "not an address",
	} {
		if got := sourceAddr(&http.Request{RemoteAddr: in}); got != want {
			t.Errorf("sourceAddr(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSourceAddrBehindProxy: X-Forwarded-For counts only when the peer is a
// trusted proxy, and then the rightmost untrusted hop is the client; what
// the client wrote further left is ignored.
func TestSourceAddrBehindProxy(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.1/32")}
	tests := []struct {
		peer, xff, want string
	}{
		{"10.1.2.3:443", "198.51.100.7", "198.51.100.7"},
		{"10.1.2.3:443", "203.0.113.9, 198.51.100.7", "198.51.100.7"}, // a spoofed left part
		{"10.1.2.3:443", "198.51.100.7, 192.0.2.1", "198.51.100.7"},   // two proxies
		{"10.1.2.3:443", "", "10.1.2.3"},                              // nothing forwarded
		{"10.1.2.3:443", "junk, 198.51.100.7", "198.51.100.7"},        // junk left of the client
		{"198.51.100.99:443", "203.0.113.9", "198.51.100.99"},         // untrusted peer: header ignored
		{"10.1.2.3:443", "2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"}, // IPv6 client grouped
	}
	for _, tt := range tests {
		r := &http.Request{RemoteAddr: tt.peer, Header: http.Header{}}
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		if got := sourceAddr(r, trusted...); got != tt.want {
			t.Errorf("peer %s XFF %q: %q, want %q", tt.peer, tt.xff, got, tt.want)
		}
	}
}
