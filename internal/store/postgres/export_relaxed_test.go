package postgres

import (
	"context"

	"github.com/consentgate/consentgate/internal/store"
)

// ShowInTx returns a run-time setting as the transaction sees it.
func ShowInTx(ctx context.Context, t store.Tx, name string) (string, error) {
	var v string
	err := t.(*tx).queryRow(ctx, "SELECT current_setting($1)", name).Scan(&v)
	return v, err
}
