package postgres

import (
	"context"

	"github.com/consentgate/consentgate/internal/store"
)

// WriteRelaxed implements store.Store: Write with
// synchronous_commit off for this one transaction. The commit returns
// without waiting for the WAL flush; the WAL writer flushes it within three
// wal_writer_delay (600 ms by default). A server crash in that window can
// lose the transaction; it never corrupts anything or reorders it before
// a synchronously committed one (PostgreSQL, "Asynchronous Commit").
func (db *DB) WriteRelaxed(ctx context.Context, fn func(store.Tx) error) error {
	return db.Write(ctx, func(t store.Tx) error {
		if _, err := t.(*tx).exec(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
			return mapErr(err)
		}
		return fn(t)
	})
}
