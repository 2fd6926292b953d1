package service

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/index"
	"github.com/consentgate/consentgate/internal/store/sqlite"
	"github.com/consentgate/consentgate/internal/vault"
)

// TestStaleKeysCompared: a server's cached keyring is used without a look
// at the store for one TTL, and while another request compares it, for up
// to two; older than that (the server was idle while a rotation ran), a
// request compares it itself, even while another one is at it, and gets
// the rotated keys.
func TestStaleKeysCompared(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "keys.db"), sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	master, _ := vault.NewKey()
	srv := New(Config{Store: st, Index: index.New(), MasterKey: master})
	defer srv.Close()
	const ttl = 100 * time.Millisecond
	srv.SetTenantKeyTTL(ttl)
	tn, err := srv.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	tk, err := srv.tenantKeys(ctx, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	cli := New(Config{Store: st, Index: index.New(), MasterKey: master})
	defer cli.Close()
	if _, err := cli.RotateIndexKey(ctx, tn.ID, RotateOptions{Settle: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	tk.busy.Store(true) // another request is comparing, and takes its time
	defer tk.busy.Store(false)
	if got, _ := srv.tenantKeys(ctx, tn.ID); got != tk {
		t.Fatal("keys within their TTL were compared")
	}
	tk.checked.Store(time.Now().Add(-3 * ttl / 2).UnixNano())
	if got, _ := srv.tenantKeys(ctx, tn.ID); got != tk {
		t.Fatal("keys younger than two TTLs were compared while another request compares them")
	}
	tk.checked.Store(time.Now().Add(-3 * ttl).UnixNano())
	got, err := srv.tenantKeys(ctx, tn.ID)
	if err != nil || got == tk || got.chain.Top() != 1 || got.chain.Rotating() {
		t.Fatalf("keys three TTLs old were used as they were: %v", err)
	}
}
