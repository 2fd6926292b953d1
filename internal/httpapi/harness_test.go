package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/index"
	"github.com/consentgate/consentgate/internal/service"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/sqlite"
	"github.com/consentgate/consentgate/internal/vault"
)

// openSQLite is the store factory of the default scenario run; other
// backends pass their own to runScenarios.
func openSQLite(t testing.TB) store.Store {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "api.db"), sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is a running API over a real store, with two tenants and a key per
// role in the first.
type env struct {
	t            testing.TB
	srv          *httptest.Server
	svc          *service.Service
	store        store.Store
	index        *index.Index
	logs         *syncBuffer
	tenant       string
	other        string
	keys         map[auth.Role]string
	foreign      string               // owner key of the other tenant
	keyIDs       map[auth.Role]string // ids of keys, for audit assertions
	foreignKeyID string
	master       vault.Key
}

func newEnv(t testing.TB, open func(testing.TB) store.Store) *env {
	t.Helper()
	ctx := context.Background()
	st := open(t)
	master, _ := vault.NewKey()
	logs := &syncBuffer{}
	// Tests log at debug level so the identifier scan sees every line;
	// benchmarks at info, as production does.
	level := slog.LevelDebug
	if _, ok := t.(*testing.B); ok {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: level}))
	ix := index.New()
	svc := service.New(service.Config{Store: st, Index: ix, MasterKey: master, DefaultRegion: "DK", Logger: log})
	t.Cleanup(svc.Close)
	if _, err := ix.Load(ctx, st); err != nil {
		t.Fatal(err)
	}
	ix.MarkReady()
	if err := svc.OpenLedger(ctx, service.LedgerOptions{Origin: "test.consentgate.local/ledger"}); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, svc: svc, store: st, index: ix, logs: logs, keys: map[auth.Role]string{}, master: master,
		keyIDs: map[auth.Role]string{}}
	tn, err := svc.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	e.tenant = tn.ID
	// Contacts accept declared attributes only (data minimisation); the
	// scenarios use first_name.
	if err := st.Write(ctx, func(tx store.Tx) error {
		return tx.CreateAttributeDef(ctx, &store.AttributeDef{TenantID: tn.ID, Name: "first_name", Type: "string",
			Category: "contact_details", Purpose: "newsletter", Retention: 365 * 24 * time.Hour, CreatedAt: time.Now()})
	}); err != nil {
		t.Fatal(err)
	}
	for _, r := range auth.Roles {
		k, rec, err := svc.CreateAPIKey(ctx, tn.ID, r, string(r), time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		e.keys[r], e.keyIDs[r] = k, rec.ID
	}
	other, err := svc.CreateTenant(ctx, "globex")
	if err != nil {
		t.Fatal(err)
	}
	e.other = other.ID
	var frec *store.APIKey
	if e.foreign, frec, err = svc.CreateAPIKey(ctx, other.ID, auth.Owner, "owner", time.Time{}); err != nil {
		t.Fatal(err)
	}
	e.foreignKeyID = frec.ID
	api := New(Config{Service: svc, Logger: log, Ready: func(context.Context) error { return nil }})
	e.srv = httptest.NewServer(api)
	t.Cleanup(e.srv.Close)
	return e
}

// do sends a request and decodes a JSON answer into a generic map.
func (e *env) do(method, path, key string, body any, hdr ...string) (int, map[string]any) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			e.t.Fatalf("%s %s: answer is not JSON: %q", method, path, raw)
		}
	}
	if resp.StatusCode >= 400 && resp.Header.Get("Content-Type") != "application/problem+json" {
		e.t.Errorf("%s %s: error with content type %q", method, path, resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, out
}

// count returns how many consent events, contacts and purposes a tenant has.
func (e *env) counts(tenantID, contactID string) (events int) {
	e.t.Helper()
	err := e.store.Read(context.Background(), func(tx store.Tx) error {
		evs, err := tx.ListConsentEvents(context.Background(), tenantID, contactID)
		events = len(evs)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return events
}
