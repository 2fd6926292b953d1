package postgres_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/postgres/pgtest"
)

// TestLockBlindIndexSerialises: two transactions that lock one identifier
// of a tenant run one after the other, while another identifier, or the
// same one of another tenant, does not wait.
func TestLockBlindIndexSerialises(t *testing.T) {
	db := pgtest.Open(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	key := []byte("blind-index")
	var once sync.Once
	var firstDone atomic.Bool
	locked, release, first := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		first <- db.Write(ctx, func(tx store.Tx) error {
			if err := tx.LockBlindIndex(ctx, "t1", key); err != nil {
				return err
			}
			once.Do(func() { close(locked) })
			<-release
			firstDone.Store(true)
			return nil
		})
	}()
	select {
	case <-locked:
	case err := <-first:
		t.Fatalf("the first transaction ended before it held the lock: %v", err)
	}

	for _, c := range []struct {
		tenant string
		key    []byte
	}{{"t1", []byte("another")}, {"t2", key}} {
		if err := db.Write(ctx, func(tx store.Tx) error { return tx.LockBlindIndex(ctx, c.tenant, c.key) }); err != nil {
			t.Fatalf("lock of %s %s: %v", c.tenant, c.key, err)
		}
	}

	second := make(chan error, 1)
	go func() {
		second <- db.Write(ctx, func(tx store.Tx) error {
			if err := tx.LockBlindIndex(ctx, "t1", key); err != nil {
				return err
			}
			if !firstDone.Load() {
				return errors.New("locked while the first transaction held the lock")
			}
			return nil
		})
	}()
	select {
	case err := <-second:
		t.Fatalf("the second transaction did not wait: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatal(err)
	}
}
