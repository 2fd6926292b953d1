package app

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/service"
	"github.com/consentgate/consentgate/internal/store/postgres/pgtest"
)

// TestMultiNodeIndexRotation rotates a tenant's index key while two
// gateways serve one PostgreSQL schema. Contacts created on A in every
// phase of the rotation (their identifiers stored in the old version, then
// the new) reach B's decisions through the change feed, and a third
// gateway started afterwards loads them all from the rewritten rows.
func TestMultiNodeIndexRotation(t *testing.T) {
	dsn, schema := pgtest.Schema(t)
	masterKey := filepath.Join(t.TempDir(), "master.key")
	a := startNode(t, "A", dsn, schema+"-a", masterKey)
	b := startNode(t, "B", dsn, schema+"-b", masterKey)
	for _, n := range []*node{a, b} {
		n.Service.SetTenantKeyTTL(50 * time.Millisecond)
	}
	ctx := context.Background()
	tn, err := a.Service.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := a.Service.CreateAPIKey(ctx, tn.ID, auth.Owner, "test", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if status, ans := a.call(t, "POST", "/v1/purposes", key, `{"key":"offers","name":"Offers","category":"marketing","basis":"consent","channels":["sms"]}`); status != 201 {
		t.Fatalf("purpose: %d %v", status, ans)
	}
	var phones []string
	grant := func(i int) {
		t.Helper()
		p := fmt.Sprintf("+4550%06d", 100000+i)
		status, ans := a.call(t, "POST", "/v1/contacts", key, fmt.Sprintf(`{"identifiers":{"phone":%q}}`, p))
		if status != 201 {
			t.Fatalf("contact %s on A: %d %v", p, status, ans)
		}
		if status, ans := a.call(t, "PUT", fmt.Sprintf("/v1/contacts/%v/consents/offers/sms", ans["id"]), key, `{"status":"granted","source":"web"}`); status != 200 {
			t.Fatalf("grant on A: %d %v", status, ans)
		}
		phones = append(phones, p)
	}
	decides := func(n *node, p string, limit time.Duration) {
		t.Helper()
		start := time.Now()
		var last string
		for time.Since(start) < limit {
			status, ans := n.call(t, "POST", "/v1/decisions", key, fmt.Sprintf(`{"to":{"phone":%q},"channel":"sms","purpose":"offers"}`, p))
			if last = fmt.Sprint(status, " ", ans["reason"]); status == 200 && ans["reason"] == "consent_granted" {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("node %s: %s decided %q after %v", n.name, p, last, limit)
	}
	grant(0)
	decides(b, phones[0], time.Second)

	done := make(chan error, 1)
	var rep service.IndexRotateReport
	go func() {
		var err error
		rep, err = a.Service.RotateIndexKey(ctx, tn.ID, service.RotateOptions{Settle: 300 * time.Millisecond, Batch: 2})
		done <- err
	}()
	for i := 1; ; i++ {
		grant(i)
		decides(b, phones[i], time.Second)
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			if rep.ToVersion != 1 || rep.Rewritten["contact_identifiers"] == 0 {
				t.Fatalf("report %+v", rep)
			}
			grant(i + 1)
			time.Sleep(100 * time.Millisecond) // the nodes' key cache TTL
			c := startNode(t, "C", dsn, schema+"-c", masterKey)
			for _, p := range phones {
				decides(b, p, time.Second)
				decides(c, p, time.Second)
			}
			if !strings.Contains(b.logs.String(), "tenant keyring changed") {
				t.Fatal("B never adopted a rotated keyring")
			}
			t.Logf("%d contacts created on A across the rotation; B and C decide each of them", len(phones))
			return
		default:
		}
	}
}
