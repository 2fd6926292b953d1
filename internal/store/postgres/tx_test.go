package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/postgres"
	"github.com/consentgate/consentgate/internal/store/postgres/pgtest"
	"github.com/jackc/pgx/v5"
)

// TestDeadPooledConnection: a transaction whose pooled connection the
// server closed while it sat idle (a restart, a failover, an idle timeout)
// runs on a fresh one. Its BEGIN travels with its first statement, so that
// is where the dead connection shows.
func TestDeadPooledConnection(t *testing.T) {
	ctx := context.Background()
	dsn, _ := pgtest.Schema(t)
	s, err := postgres.Open(ctx, dsn, postgres.Options{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tn := mkTenant(t, s)
	killer, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer killer.Close(ctx)
	for i, key := range []string{"read", "write"} {
		var pid int
		if err := s.Read(ctx, func(tx store.Tx) error { return postgres.BackendPID(ctx, tx, &pid) }); err != nil {
			t.Fatal(err)
		}
		var killed bool
		if err := killer.QueryRow(ctx, `SELECT pg_terminate_backend($1, 5000)`, pid).Scan(&killed); err != nil || !killed {
			t.Fatalf("terminate backend %d: %v %v", pid, killed, err)
		}
		if i == 0 {
			err = s.Read(ctx, func(tx store.Tx) error { _, err := tx.ListPurposes(ctx, tn); return err })
		} else {
			err = s.Write(ctx, func(tx store.Tx) error { return tx.CreatePurpose(ctx, tn, purpose(key), time.Now()) })
		}
		if err != nil {
			t.Errorf("%s after the connection died: %v", key, err)
		}
	}
}
