package postgres

import (
	"context"

	"github.com/consentgate/consentgate/internal/store"
)

// MapErr exposes mapErr to the tests.
var MapErr = mapErr

// ExecInTx runs raw SQL in a store transaction, for tests that provoke
// server errors.
func ExecInTx(ctx context.Context, t store.Tx, sql string) error {
	_, err := t.(*tx).exec(ctx, sql)
	return err
}

// BackendPID reads the server process id of the transaction's connection.
func BackendPID(ctx context.Context, t store.Tx, pid *int) error {
	return t.(*tx).queryRow(ctx, "SELECT pg_backend_pid()").Scan(pid)
}
