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
	ckpt   *checkpointer
	sync   string // the synchronous level durable writes use
	// relaxedConn is true while the writer connection is left at
	// synchronous=NORMAL by a relaxed write. It is read and changed only by
	// the holder of that single connection, which database/sql serializes.
	relaxedConn bool
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
	ckptDSN := base + q.Encode()
	w := openDB(base + q.Encode() + "&_pragma=" + url.QueryEscape(fmt.Sprintf("wal_autocheckpoint(%d)", writerAutoCheckpoint)) + "&_txlock=immediate")
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	q.Add("_pragma", "query_only(1)")
	r := openDB(base + q.Encode())
	n := max(4, runtime.GOMAXPROCS(0)*2)
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	db := &DB{path: path, writer: w, reader: r, sync: sync}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	db.ckpt = startCheckpointer(ckptDSN)
	return db, nil
}

// Dialect implements store.Store.
func (db *DB) Dialect() string { return "sqlite" }

// Close stops the checkpointer and closes both pools.
func (db *DB) Close() error {
	var ck error
	if db.ckpt != nil {
		ck = db.ckpt.close()
	}
	return errors.Join(ck, db.reader.Close(), db.writer.Close())
}

// Read implements store.Store.
func (db *DB) Read(ctx context.Context, fn func(store.Tx) error) error {
	return db.run(ctx, db.reader, &sql.TxOptions{ReadOnly: true}, fn)
}

// Write implements store.Store.
func (db *DB) Write(ctx context.Context, fn func(store.Tx) error) error {
	return db.write(ctx, false, fn)
}

// WriteRelaxed implements store.Store: the transaction commits at
// synchronous=NORMAL, so its commit does not wait for an fsync of the WAL.
// The WAL is synced by the next durable commit or by the background
// checkpoint, which a commit nudges and which runs within checkpointEvery.
func (db *DB) WriteRelaxed(ctx context.Context, fn func(store.Tx) error) error {
	return db.write(ctx, true, fn)
}

func (db *DB) write(ctx context.Context, relaxed bool, fn func(store.Tx) error) error {
	if db.sync == "NORMAL" {
		relaxed = false // already the level every write uses
	}
	conn, err := db.writer.Conn(ctx)
	if err != nil {
		return mapErr(err)
	}
	defer conn.Close()
	// The level cannot change inside a transaction, so it is set before
	// BEGIN, and only when it differs from what this connection has: a
	// durable write never runs on a connection left relaxed.
	if relaxed != db.relaxedConn {
		level := db.sync
		if relaxed {
			level = "NORMAL"
		}
		if _, err := conn.ExecContext(ctx, "PRAGMA synchronous="+level); err != nil {
			return mapErr(err)
		}
		db.relaxedConn = relaxed
	}
	if err = db.runConn(ctx, conn, fn); err == nil && db.ckpt != nil {
		db.ckpt.committed()
	}
	return err
}

func (db *DB) run(ctx context.Context, pool *sql.DB, opts *sql.TxOptions, fn func(store.Tx) error) error {
	sqlTx, err := pool.BeginTx(ctx, opts)
	if err != nil {
		return mapErr(err)
	}
	return db.runTx(sqlTx, fn)
}

func (db *DB) runConn(ctx context.Context, conn *sql.Conn, fn func(store.Tx) error) error {
	sqlTx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err)
	}
	return db.runTx(sqlTx, fn)
}

func (db *DB) runTx(sqlTx *sql.Tx, fn func(store.Tx) error) error {
	t := &tx{tx: sqlTx, parts: &partCache{}}
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
