package service_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/index"
	"github.com/consentgate/consentgate/internal/service"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/sqlite"
	"github.com/consentgate/consentgate/internal/vault"
	"github.com/oklog/ulid/v2"
)

// TestStatusEventRetriesKeepWebhookID: a webhook that fails twice and then
// succeeds sees the same webhook-id three times, the row is gone after the
// success, and nothing is queued for statuses that are not announced or for
// a tenant without a webhook.
func TestStatusEventRetriesKeepWebhookID(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "status.db"), sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	master, _ := vault.NewKey()
	c := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	svc := service.New(service.Config{Store: st, Index: index.New(), MasterKey: master, DefaultRegion: "DK", Now: c.now, AuditChainEvery: -1})
	t.Cleanup(svc.Close)
	acme, err := svc.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	globex, err := svc.CreateTenant(ctx, "globex")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var ids []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		ids = append(ids, r.Header.Get("webhook-id"))
		if len(ids) <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer hook.Close()
	pr := auth.Principal{TenantID: acme.ID, KeyID: "k", Role: auth.Owner}
	if _, err := svc.PutForwardTarget(ctx, pr, service.ForwardTargetInput{URL: hook.URL}); err != nil {
		t.Fatal(err)
	}
	forward := func(tenantID string, status store.MessageStatus) {
		t.Helper()
		m := &store.Message{ID: ulid.Make().String(), TenantID: tenantID, Channel: consent.SMS, Purpose: "orders"}
		ev := &store.MessageEvent{TenantID: tenantID, MessageID: m.ID, Status: status, At: c.now()}
		if err := st.Write(ctx, func(tx store.Tx) error { return svc.ForwardStatus(ctx, tx, m, ev, "prov-1") }); err != nil {
			t.Fatal(err)
		}
	}
	forward(acme.ID, store.MessageSent)
	forward(acme.ID, store.MessageQueued)  // internal: not announced
	forward(acme.ID, store.MessageSending) // internal: not announced
	forward(globex.ID, store.MessageSent)  // no webhook: nothing queued
	pending := func() (n int) {
		st.Read(ctx, func(tx store.Tx) error {
			fs, err := tx.DueStatusForwards(ctx, c.now().Add(48*time.Hour), 100)
			n = len(fs)
			return err
		})
		return n
	}
	if n := pending(); n != 1 {
		t.Fatalf("%d status forwards queued, want 1", n)
	}
	for i := range 3 {
		n, err := svc.DeliverForwards(ctx, hook.Client())
		if err != nil || n != min(i/2, 1) {
			t.Fatalf("pass %d: DeliverForwards = %d, %v", i, n, err)
		}
		c.add(time.Hour)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ids) != 3 || ids[0] == "" || ids[0] != ids[1] || ids[1] != ids[2] {
		t.Fatalf("webhook ids %q, want the same one three times", ids)
	}
	if n := pending(); n != 0 {
		t.Fatalf("%d status forwards left after delivery", n)
	}
}
