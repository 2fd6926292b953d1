// Package sqlite is the embedded store: one database file in the data
// directory, in WAL mode, written by a single connection (SQLite allows one
// writer at a time; queueing writers in Go is cheaper than SQLITE_BUSY
// retries) and read by a small pool.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"

	"github.com/consentgate/consentgate/internal/store"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DB is the SQLite store.
type DB struct {
	path   string
	writer *sql.DB
	reader *sql.DB
}

var _ store.Store = (*DB)(nil)

// Options tune the store. The zero value is the production default.
type Options struct {
	// Synchronous is SQLite's synchronous pragma. "FULL" (default) makes
	// each commit durable on power loss; "NORMAL" only on process crash.
	Synchronous string
}

// Open opens (creating if needed) the database file at path and applies any
// pending migrations.
func Open(ctx context.Context, path string, opt Options) (*DB, error) {
	sync := opt.Synchronous
	if sync == "" {
		sync = "FULL"
	}
	if sync != "FULL" && sync != "NORMAL" {
		return nil, fmt.Errorf("sqlite: synchronous must be FULL or NORMAL, not %q", sync)
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+sync+")")
	q.Add("_pragma", "foreign_keys(1)")
	// Secure delete overwrites freed pages with zeros, so deleted or
	// rewritten ciphertexts and hashes do not linger in the file.
	q.Add("_pragma", "secure_delete(1)")
	base := "file:" + path + "?"
	w := openDB(base + q.Encode() + "&_txlock=immediate")
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	q.Add("_pragma", "query_only(1)")
	r := openDB(base + q.Encode())
	n := max(4, runtime.GOMAXPROCS(0)*2)
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	db := &DB{path: path, writer: w, reader: r}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Dialect implements store.Store.
func (db *DB) Dialect() string { return "sqlite" }

// Close closes both pools.
func (db *DB) Close() error {
	return errors.Join(db.reader.Close(), db.writer.Close())
}

// Read implements store.Store.
func (db *DB) Read(ctx context.Context, fn func(store.Tx) error) error {
	return db.run(ctx, db.reader, &sql.TxOptions{ReadOnly: true}, fn)
}

// Write implements store.Store.
func (db *DB) Write(ctx context.Context, fn func(store.Tx) error) error {
	return db.run(ctx, db.writer, nil, fn)
}

func (db *DB) run(ctx context.Context, pool *sql.DB, opts *sql.TxOptions, fn func(store.Tx) error) error {
	sqlTx, err := pool.BeginTx(ctx, opts)
	if err != nil {
		return mapErr(err)
	}
	t := &tx{tx: sqlTx}
	committed := false
	defer func() {
		// A panic in fn must not leave the (single) writer connection
		// inside an open transaction.
		if !committed {
			sqlTx.Rollback()
		}
	}()
	if err := fn(t); err != nil {
		return err
	}
	committed = true
	if err := sqlTx.Commit(); err != nil {
		return mapErr(err)
	}
	return nil
}
