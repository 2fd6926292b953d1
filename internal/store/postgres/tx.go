package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// tx is a store.Tx on a pgx connection in a transaction. Every statement
// goes through exec, queryRow, query or pipeline (scanEach, queryAll), never
// to the connection directly: those send the commands still pending (BEGIN,
// SAVEPOINT, RELEASE) first, so the statement lands in the transaction and
// the unit it belongs to.
type tx struct {
	depth int
	state *txState
}

// txState is shared by a transaction and its units.
type txState struct {
	db   *DB
	conn *pgxpool.Conn
	// retry holds the first serialization failure or deadlock any statement
	// met, even one a unit rolled back and its caller swallowed: Write then
	// runs the whole transaction again.
	retry error
	// pending holds BEGIN, SAVEPOINT and RELEASE commands not sent yet. They
	// go to the server in one round trip with the next statement (a
	// pipeline), so a transaction or a unit costs no more round trips than
	// its own statements; COMMIT releases savepoints by itself, and a unit or
	// a transaction that ran no statement needs none. Group commit runs
	// hundreds of units per transaction, so this roughly triples the write
	// rate; a read of one row costs two round trips instead of three.
	pending []string
	// sent counts statements sent, so that Unit knows whether fn sent any
	// and the transaction whether its BEGIN went out.
	sent int
	// lo and hi are the lowest and highest seq of the consent events
	// appended (0 when none), for the commit's notification.
	lo, hi int64
}

var _ store.Tx = (*tx)(nil)

// Transaction modes: the command that begins each kind of transaction.
const (
	beginRead  = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
	beginWrite = "BEGIN" // READ COMMITTED, see Write
)

// begin takes a connection for a transaction. The BEGIN waits in pending
// for the transaction's first statement.
func (db *DB) begin(ctx context.Context, mode string) (*txState, error) {
	c, err := db.pool.Acquire(ctx)
	if err != nil {
		return nil, mapErr(err)
	}
	return &txState{db: db, conn: c, pending: []string{mode}}, nil
}

// errNoConn is the error of a statement in a transaction whose connection
// was lost and could not be replaced.
var errNoConn = fmt.Errorf("%w: postgres: no connection for the transaction", store.ErrUnavailable)

// begun reports whether the BEGIN went to the server.
func (st *txState) begun() bool { return st.sent > 0 }

// commit ends the transaction. One whose statement failed outside a unit
// that rolled it back is aborted: the server answers COMMIT with ROLLBACK.
func (st *txState) commit(ctx context.Context) error {
	if !st.begun() {
		return nil
	}
	if st.conn == nil {
		return errNoConn
	}
	st.pending = st.pending[:0] // COMMIT releases the savepoints
	tag, err := st.conn.Exec(ctx, "COMMIT")
	if err != nil {
		return err
	}
	if tag.String() == "ROLLBACK" {
		return pgx.ErrTxCommitRollback
	}
	return nil
}

// rollback ends the transaction, also when ctx has ended.
func (st *txState) rollback(ctx context.Context) {
	if st.begun() && st.conn != nil && st.conn.Conn().PgConn().TxStatus() != 'I' {
		st.conn.Exec(context.WithoutCancel(ctx), "ROLLBACK")
	}
}

// release gives the connection back to the pool, which closes it when it is
// still in a transaction (a ROLLBACK that failed).
func (st *txState) release() {
	if st.conn != nil {
		st.conn.Release()
		st.conn = nil
	}
}

// row is what pgx.Row and pgx.Rows have in common.
type row interface{ Scan(...any) error }

// check maps a statement's error and notes one worth a retry.
func (t *tx) check(err error) error {
	if err != nil && t.state.retry == nil && retryable(err) {
		t.state.retry = err
	}
	return mapErr(err)
}

// pipeline sends the pending commands followed by b's statements in one
// round trip; the caller reads b's results from the returned batch, in
// order, and closes it. The first statement of a transaction carries its
// BEGIN: when the pooled connection turns out dead (the server closed it
// while it sat idle, after a restart or failover), it is sent again on a
// fresh one.
func (t *tx) pipeline(ctx context.Context, b *pgx.Batch) (pgx.BatchResults, error) {
	st := t.state
	first := !st.begun()
	st.sent++
	if st.conn == nil {
		return nil, errNoConn
	}
	np := len(st.pending)
	pending := st.pending // read before anything appends again
	st.pending = st.pending[:0]
	for attempt := 0; ; attempt++ {
		// A fresh batch each time: pgx keeps per-connection state in it.
		full := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, np+b.Len())}
		for _, p := range pending {
			full.Queue(p)
		}
		for _, q := range b.QueuedQueries {
			full.Queue(q.SQL, q.Arguments...)
		}
		br := st.conn.SendBatch(ctx, full)
		var err error
		for range np {
			if _, err = br.Exec(); err != nil {
				break
			}
		}
		if err == nil {
			return br, nil
		}
		br.Close()
		// Nothing of a transaction is done before its first round trip
		// comes back, and it carries no COMMIT: on a connection that died,
		// sending it again elsewhere cannot apply anything twice.
		if first && attempt == 0 && ctx.Err() == nil && (pgconn.SafeToRetry(err) || st.conn.Conn().IsClosed()) {
			st.release() // the pool closes a dead connection and frees its place
			var c *pgxpool.Conn
			if c, err = st.db.pool.Acquire(ctx); err == nil {
				st.conn = c
				continue
			}
		}
		return nil, t.check(err)
	}
}

// send is pipeline for one statement.
func (t *tx) send(ctx context.Context, q string, args ...any) (pgx.BatchResults, error) {
	b := &pgx.Batch{}
	b.Queue(q, args...)
	return t.pipeline(ctx, b)
}

func (t *tx) exec(ctx context.Context, q string, args ...any) (pgconn.CommandTag, error) {
	if len(t.state.pending) == 0 && t.state.conn != nil {
		t.state.sent++
		tag, err := t.state.conn.Exec(ctx, q, args...)
		return tag, t.check(err)
	}
	br, err := t.send(ctx, q, args...)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, t.check(err)
}

// execAll runs b's statements, which return no rows, in one round trip, as
// if one after the other: it stops at the first that fails and returns its
// error (the server skips the rest).
func (t *tx) execAll(ctx context.Context, b *pgx.Batch) error {
	br, err := t.pipeline(ctx, b)
	if err != nil {
		return err
	}
	for range b.Len() {
		if _, err = br.Exec(); err != nil {
			break
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return t.check(err)
}

// queryRow runs q when the row is scanned, which every caller does at once.
func (t *tx) queryRow(ctx context.Context, q string, args ...any) row {
	return lazyRow{t: t, ctx: ctx, q: q, args: args}
}

type lazyRow struct {
	t    *tx
	ctx  context.Context
	q    string
	args []any
}

func (r lazyRow) Scan(dest ...any) error {
	if len(r.t.state.pending) == 0 && r.t.state.conn != nil {
		r.t.state.sent++
		return r.t.check(r.t.state.conn.QueryRow(r.ctx, r.q, r.args...).Scan(dest...))
	}
	br, err := r.t.send(r.ctx, r.q, r.args...)
	if err != nil {
		return err
	}
	err = br.QueryRow().Scan(dest...)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return r.t.check(err)
}

// query runs q; done closes what query opened.
func (t *tx) query(ctx context.Context, q string, args ...any) (rows pgx.Rows, done func(), err error) {
	if len(t.state.pending) == 0 && t.state.conn != nil {
		t.state.sent++
		rows, err := t.state.conn.Query(ctx, q, args...)
		return rows, func() {}, t.check(err)
	}
	br, err := t.send(ctx, q, args...)
	if err != nil {
		return nil, nil, err
	}
	rows, err = br.Query()
	if err != nil {
		br.Close()
		return nil, nil, t.check(err)
	}
	return rows, func() { br.Close() }, nil
}

// Unit implements store.Tx with SAVEPOINT, ROLLBACK TO and RELEASE. Names go
// by depth: a sibling reuses the name of one already released. SAVEPOINT
// and RELEASE wait in txState.pending for the next statement.
func (t *tx) Unit(ctx context.Context, fn func(store.Tx) error) error {
	name := "u" + strconv.Itoa(t.depth+1)
	mark, sent := len(t.state.pending), t.state.sent
	t.state.pending = append(t.state.pending, "SAVEPOINT "+name)
	err := fn(&tx{depth: t.depth + 1, state: t.state})
	if t.state.sent == sent {
		// fn sent nothing: the savepoint never reached the server, and
		// neither did the empty units fn may have run.
		t.state.pending = t.state.pending[:mark]
		return err
	}
	if err != nil {
		// Rolling back to the savepoint undoes fn's inner savepoints too,
		// so the commands still pending for them are moot.
		t.state.pending = t.state.pending[:0]
		if _, rerr := t.exec(ctx, "ROLLBACK TO SAVEPOINT "+name+"; RELEASE SAVEPOINT "+name); rerr != nil {
			return fmt.Errorf("%w (and rollback to savepoint failed: %v)", err, rerr)
		}
		return err
	}
	t.state.pending = append(t.state.pending, "RELEASE SAVEPOINT "+name)
	return nil
}

// us converts a time to the stored integer microseconds; the zero time is 0.
func us(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromUS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

func (t *tx) CreateTenant(ctx context.Context, tn *store.Tenant) error {
	_, err := t.exec(ctx, qCreateTenant, tn.ID, tn.Name, tn.WrappedKey, us(tn.CreatedAt))
	return err
}

func scanTenant(r row) (*store.Tenant, error) {
	var tn store.Tenant
	var created int64
	if err := r.Scan(&tn.ID, &tn.Name, &tn.WrappedKey, &created); err != nil {
		return nil, mapErr(err)
	}
	tn.CreatedAt = fromUS(created)
	return &tn, nil
}

func (t *tx) GetTenant(ctx context.Context, id string) (*store.Tenant, error) {
	return scanTenant(t.queryRow(ctx, qGetTenant, id))
}

func (t *tx) GetTenantByName(ctx context.Context, name string) (*store.Tenant, error) {
	return scanTenant(t.queryRow(ctx, qGetTenantByName, name))
}

func (t *tx) ListTenants(ctx context.Context) ([]*store.Tenant, error) {
	return queryAll(ctx, t, qListTenants, scanTenant)
}

func (t *tx) CreateAPIKey(ctx context.Context, k *store.APIKey) error {
	_, err := t.exec(ctx, qCreateAPIKey, k.ID, k.TenantID, k.Role, k.Label, k.Hash, k.Hint,
		us(k.CreatedAt), us(k.ExpiresAt), us(k.RevokedAt))
	return err
}

func scanAPIKey(r row) (*store.APIKey, error) {
	var k store.APIKey
	var c, e, rv int64
	if err := r.Scan(&k.ID, &k.TenantID, &k.Role, &k.Label, &k.Hash, &k.Hint, &c, &e, &rv); err != nil {
		return nil, mapErr(err)
	}
	k.CreatedAt, k.ExpiresAt, k.RevokedAt = fromUS(c), fromUS(e), fromUS(rv)
	return &k, nil
}

func (t *tx) GetAPIKeyByHash(ctx context.Context, hash []byte) (*store.APIKey, error) {
	return scanAPIKey(t.queryRow(ctx, qGetAPIKeyByHash, hash))
}

func (t *tx) ListAPIKeys(ctx context.Context, tenantID string) ([]*store.APIKey, error) {
	return queryAll(ctx, t, qListAPIKeys, scanAPIKey, tenantID)
}

func (t *tx) RevokeAPIKey(ctx context.Context, tenantID, id string, at time.Time) error {
	tag, err := t.exec(ctx, qRevokeAPIKey, us(at), tenantID, id)
	return oneRow(tag, err)
}

func (t *tx) CreatePurpose(ctx context.Context, tenantID string, p *consent.Purpose, at time.Time) error {
	ch, _ := json.Marshal(p.Channels)
	_, err := t.exec(ctx, qCreatePurpose, tenantID, p.Key, p.Name, p.Description, p.NoticeVersion,
		string(p.Category), string(p.Basis), string(ch), p.DoubleOptIn, int64(p.Lifetime/time.Second), p.KeepBodies, us(at), us(at))
	return err
}

func (t *tx) UpdatePurpose(ctx context.Context, tenantID string, p *consent.Purpose, at time.Time) error {
	ch, _ := json.Marshal(p.Channels)
	tag, err := t.exec(ctx, qUpdatePurpose, p.Name, p.Description, p.NoticeVersion, string(p.Category),
		string(p.Basis), string(ch), p.DoubleOptIn, int64(p.Lifetime/time.Second), p.KeepBodies, us(at), tenantID, p.Key)
	return oneRow(tag, err)
}

func scanPurpose(r row) (*consent.Purpose, error) {
	var p consent.Purpose
	var cat, basis, ch string
	var life int64
	if err := r.Scan(&p.Key, &p.Name, &p.Description, &p.NoticeVersion, &cat, &basis, &ch, &p.DoubleOptIn, &life, &p.KeepBodies); err != nil {
		return nil, mapErr(err)
	}
	p.Category, p.Basis = consent.Category(cat), consent.Basis(basis)
	if err := json.Unmarshal([]byte(ch), &p.Channels); err != nil {
		return nil, fmt.Errorf("postgres: purpose %s: channels: %w", p.Key, err)
	}
	p.Lifetime = time.Duration(life) * time.Second
	return &p, nil
}

func (t *tx) GetPurpose(ctx context.Context, tenantID, key string) (*consent.Purpose, error) {
	return scanPurpose(t.queryRow(ctx, qGetPurpose, tenantID, key))
}

func (t *tx) ListPurposes(ctx context.Context, tenantID string) ([]*consent.Purpose, error) {
	return queryAll(ctx, t, qListPurposes, scanPurpose, tenantID)
}

// queryAll runs a query and scans every row with scan.
func queryAll[T any](ctx context.Context, t *tx, q string, scan func(row) (T, error), args ...any) ([]T, error) {
	var out []T
	err := scanEach(ctx, t, q, func(r row) error {
		v, err := scan(r)
		if err == nil {
			out = append(out, v)
		}
		return err
	}, args...)
	return out, err
}

// scanEach streams a query's rows to fn and stops at fn's first error.
func scanEach(ctx context.Context, t *tx, q string, fn func(row) error, args ...any) error {
	rows, done, err := t.query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer done()
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return t.check(rows.Err())
}

// oneRow turns "no row matched" into ErrNotFound for updates by key.
func oneRow(tag pgconn.CommandTag, err error) error {
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}
