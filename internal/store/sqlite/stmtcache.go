package sqlite

import (
	"container/list"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"sync"

	"github.com/consentgate/consentgate/internal/store"
)

// SQLite spends a quarter to a third of a write transaction's CPU parsing
// SQL text when every statement is prepared anew (profiled on the consent,
// send and inbound paths). database/sql cannot keep prepared statements
// across transactions on a single-connection pool without blocking, so the
// cache lives one level down: a thin driver wrapper keeps each connection's
// prepared statements by query text and runs ExecContext/QueryContext on
// them. A statement in use (its rows still open) is never shared: a nested
// use of the same text gets a fresh one. The cache is bounded, so queries
// built with a varying number of placeholders cannot grow it without end.

const stmtCacheSize = 256

var (
	baseDriverOnce sync.Once
	baseDriver     driver.Driver
)

// modernc registers its driver as "sqlite"; wrap that instance.
func sqliteDriver() driver.Driver {
	baseDriverOnce.Do(func() {
		db, err := sql.Open("sqlite", "")
		if err != nil {
			panic("sqlite driver not registered: " + err.Error())
		}
		baseDriver = db.Driver()
		db.Close()
	})
	return baseDriver
}

// openDB opens a pool whose connections cache prepared statements.
func openDB(dsn string) *sql.DB { return sql.OpenDB(connector{dsn: dsn}) }

type connector struct{ dsn string }

func (c connector) Connect(context.Context) (driver.Conn, error) {
	conn, err := sqliteDriver().Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &cachingConn{Conn: conn, stmts: make(map[string]*cachedStmt)}, nil
}

func (c connector) Driver() driver.Driver { return sqliteDriver() }

type cachedStmt struct {
	st    driver.Stmt
	busy  bool
	query string
	use   *list.Element // in cachingConn.lru
}

// cachingConn is used by one goroutine at a time (database/sql's
// guarantee), so its map needs no lock.
type cachingConn struct {
	driver.Conn
	stmts map[string]*cachedStmt
	lru   list.List // of *cachedStmt, most recently used first
}

var (
	_ driver.ExecerContext      = (*cachingConn)(nil)
	_ driver.QueryerContext     = (*cachingConn)(nil)
	_ driver.ConnBeginTx        = (*cachingConn)(nil)
	_ driver.ConnPrepareContext = (*cachingConn)(nil)
	_ driver.SessionResetter    = (*cachingConn)(nil)
	_ driver.Validator          = (*cachingConn)(nil)
	_ driver.Pinger             = (*cachingConn)(nil)
)

// stmt returns the cached statement for query, marking it busy, or a fresh
// one (cached=false) when it is busy or every cached one is.
func (c *cachingConn) stmt(ctx context.Context, query string) (s *cachedStmt, cached bool, err error) {
	if s = c.stmts[query]; s != nil && !s.busy {
		s.busy = true
		c.lru.MoveToFront(s.use)
		return s, true, nil
	}
	st, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, false, err
	}
	s = &cachedStmt{st: st, busy: true, query: query}
	if c.stmts[query] != nil || (len(c.stmts) >= stmtCacheSize && !c.evict()) {
		return s, false, nil
	}
	c.stmts[query] = s
	s.use = c.lru.PushFront(s)
	return s, true, nil
}

// evict closes the least recently used statement that is not in use, and
// reports whether there was one.
func (c *cachingConn) evict() bool {
	for e := c.lru.Back(); e != nil; e = e.Prev() {
		if old := e.Value.(*cachedStmt); !old.busy {
			c.forget(old)
			old.st.Close()
			return true
		}
	}
	return false
}

func (c *cachingConn) forget(s *cachedStmt) {
	delete(c.stmts, s.query)
	c.lru.Remove(s.use)
}

// done releases a statement after use; a statement that failed is dropped
// rather than trusted again.
func (c *cachingConn) done(s *cachedStmt, cached bool, failed bool) {
	s.busy = false
	if !cached || failed {
		if cached {
			c.forget(s)
		}
		s.st.Close()
	}
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	s, cached, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	r, err := s.st.(driver.StmtExecContext).ExecContext(ctx, args)
	c.done(s, cached, err != nil && !isConstraint(err))
	return r, err
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s, cached, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := s.st.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		c.done(s, cached, true)
		return nil, err
	}
	return &releasingRows{Rows: rows, release: func(failed bool) { c.done(s, cached, failed) }}, nil
}

func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
}

func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *cachingConn) ResetSession(ctx context.Context) error {
	return c.Conn.(driver.SessionResetter).ResetSession(ctx)
}

func (c *cachingConn) IsValid() bool { return c.Conn.(driver.Validator).IsValid() }

func (c *cachingConn) Ping(ctx context.Context) error { return c.Conn.(driver.Pinger).Ping(ctx) }

// Close finalizes the cached statements before the connection.
func (c *cachingConn) Close() error {
	var errs []error
	for _, s := range c.stmts {
		errs = append(errs, s.st.Close())
		c.forget(s)
	}
	return errors.Join(append(errs, c.Conn.Close())...)
}

// releasingRows gives the statement back when the rows are closed.
type releasingRows struct {
	driver.Rows
	release func(failed bool)
	closed  bool
}

func (r *releasingRows) Close() error {
	err := r.Rows.Close()
	if !r.closed {
		r.closed = true
		r.release(err != nil)
	}
	return err
}

// isConstraint reports a constraint violation: an expected outcome (a
// conflict) after which the statement is as good as before.
func isConstraint(err error) bool {
	return errors.Is(mapErr(err), store.ErrConflict)
}
