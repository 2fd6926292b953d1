// Package postgres is the scale-out store: several gateway nodes share one
// PostgreSQL database through pgx connection pools. It keeps the same tables
// and meaning as the SQLite store (times as BIGINT microseconds, blobs as
// BYTEA) and passes the same conformance suite. What PostgreSQL adds is
// concurrency between nodes, and with it three duties this package takes
// on: migrations serialised by an advisory lock, writes re-run after a
// serialization failure or deadlock, and a LISTEN/NOTIFY wake-up for the
// other nodes' change feeds (notify.go).
package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	"github.com/consentgate/consentgate/internal/store"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DB is the PostgreSQL store.
type DB struct {
	pool    *pgxpool.Pool
	schema  string // the schema the tables live in
	retries int
	closed  atomic.Bool
}

var _ store.Store = (*DB)(nil)

// Options tune the store. The zero value suits production.
type Options struct {
	// Schema puts the tables in this schema, created when missing, instead
	// of the first schema of the search_path (normally "public"). A DSN may
	// say the same with a search_path parameter (the schema must exist
	// then). Tests give every run a schema of its own.
	Schema string
	// MaxConns caps the connection pool; 0 means the DSN's pool_max_conns
	// or else 16. pgx's own default (the number of CPUs, at least 4) starved
	// the dispatcher: group commit, the change feed, the ledger sequencer,
	// the audit chainer and the dispatcher's claims and marks each hold a
	// connection at times.
	MaxConns int32
	// ApplicationName labels the connections in pg_stat_activity when the
	// DSN does not; the default is "consentgate".
	ApplicationName string
	// WriteRetries is how many times Write runs its function again after a
	// serialization failure or deadlock; 0 means the default of 4.
	WriteRetries int
}

// Open connects to the database at dsn (postgres://user@host/db?...),
// checks that it answers and applies any pending migrations.
func Open(ctx context.Context, dsn string, opt Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors already hide a password; never add the DSN.
		return nil, fmt.Errorf("postgres: %w", err)
	}
	rt := cfg.ConnConfig.RuntimeParams
	if opt.Schema != "" {
		rt["search_path"] = pgx.Identifier{opt.Schema}.Sanitize()
	}
	if rt["application_name"] == "" {
		rt["application_name"] = opt.ApplicationName
		if opt.ApplicationName == "" {
			rt["application_name"] = "consentgate"
		}
	}
	switch {
	case opt.MaxConns > 0:
		cfg.MaxConns = opt.MaxConns
	case !strings.Contains(dsn, "pool_max_conns"):
		cfg.MaxConns = 16
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		// Without one a connection attempt to a host that drops packets
		// waits for the operating system's TCP timeout (minutes), holding
		// up writes and the change feed's fail-closed check.
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	retries := opt.WriteRetries
	if retries <= 0 {
		retries = 4
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", mapErr(err))
	}
	db := &DB{pool: pool, schema: opt.Schema, retries: retries}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// Dialect implements store.Store.
func (db *DB) Dialect() string { return "postgres" }

// Close closes the pool, waiting for connections in use to be returned.
func (db *DB) Close() error {
	if db.closed.CompareAndSwap(false, true) {
		db.pool.Close()
	}
	return nil
}

// Read implements store.Store with a read-only REPEATABLE READ transaction:
// every statement in fn sees the same snapshot, as the interface promises.
// Read-only transactions at that level never fail on serialization.
func (db *DB) Read(ctx context.Context, fn func(store.Tx) error) error {
	if db.closed.Load() {
		return store.ErrUnavailable
	}
	st, err := db.begin(ctx, beginRead)
	if err != nil {
		return err
	}
	defer st.release()
	defer rollbackOnPanic(ctx, st)
	if err := fn(&tx{state: st}); err != nil {
		st.rollback(ctx)
		return err
	}
	return mapErr(st.commit(ctx))
}

// rollbackOnPanic ends the transaction when fn panics (an HTTP handler's
// panic is recovered by net/http), so that the connection goes back to the
// pool instead of staying idle in a transaction, holding its locks, for
// ever. Deferred; the panic goes on.
func rollbackOnPanic(ctx context.Context, st *txState) {
	if p := recover(); p != nil {
		st.rollback(ctx)
		panic(p)
	}
}

// Write implements store.Store with a READ COMMITTED transaction. Every rule
// the service relies on is held by a constraint or by the forward-only
// projection upsert, so a stricter level would only make group-commit
// batches of different nodes abort each other. A transaction that fails on
// a serialization failure or deadlock (SQLSTATE 40001, 40P01), also inside a
// Unit whose error fn swallowed, is rolled back and fn runs again from the
// start, up to Options.WriteRetries times, with a short random pause.
func (db *DB) Write(ctx context.Context, fn func(store.Tx) error) error {
	for attempt := 0; ; attempt++ {
		again, err := db.write(ctx, fn, attempt == db.retries)
		if !again {
			return err
		}
		pause := time.Duration(1+rand.IntN(5<<attempt)) * time.Millisecond
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(pause):
		}
	}
}

// write makes one attempt and says whether another one may succeed. On the
// last attempt, a transaction whose fn succeeded commits even when one of
// its units hit a deadlock: that unit has already reported its error.
func (db *DB) write(ctx context.Context, fn func(store.Tx) error, last bool) (again bool, err error) {
	if db.closed.Load() {
		return false, store.ErrUnavailable
	}
	st, err := db.begin(ctx, beginWrite)
	if err != nil {
		return false, err
	}
	defer st.release()
	defer rollbackOnPanic(ctx, st)
	ferr := fn(&tx{state: st})
	if ferr != nil || (st.retry != nil && !last) {
		st.rollback(ctx)
		if ferr == nil {
			ferr = st.retry
		}
		return st.retry != nil && !last, ferr
	}
	if st.lo != 0 {
		// Wake the other nodes' change feeds. NOTIFY is transactional: it
		// is delivered at commit, and not at all if the commit fails. The
		// range may include seqs of units that were rolled back, which a
		// feed finds missing and ignores. COMMIT releases the savepoints
		// still pending, so they need not be sent.
		st.pending = st.pending[:0]
		payload := fmt.Sprintf("%s %d %d", db.schema, st.lo, st.hi)
		if _, err := st.conn.Exec(ctx, qNotify, payload); err != nil {
			st.rollback(ctx)
			return retryable(err) && !last, mapErr(err)
		}
	}
	if err := st.commit(ctx); err != nil {
		return retryable(err) && !last, mapErr(err)
	}
	return false, nil
}
