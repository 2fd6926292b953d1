package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
)

type tx struct {
	tx    *sql.Tx
	depth int
	parts *partCache // shared with the transaction's units
}

var _ store.Tx = (*tx)(nil)

func (t *tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	r, err := t.tx.ExecContext(ctx, q, args...)
	return r, mapErr(err)
}

// Unit implements store.Tx with a SAVEPOINT. Names go by depth: a sibling
// reuses the name of one already released, so the statements are a handful
// of texts that the statement cache keeps, instead of a new text (and a new
// parse) per unit.
func (t *tx) Unit(ctx context.Context, fn func(store.Tx) error) error {
	name := "u" + strconv.Itoa(t.depth)
	if _, err := t.exec(ctx, "SAVEPOINT "+name); err != nil {
		return err
	}
	if err := fn(&tx{tx: t.tx, depth: t.depth + 1, parts: t.parts}); err != nil {
		t.parts.forget() // the unit may have created a partition that the rollback undoes
		if _, rerr := t.exec(ctx, "ROLLBACK TO "+name); rerr != nil {
			return fmt.Errorf("%w (and rollback to savepoint failed: %v)", err, rerr)
		}
		t.exec(ctx, "RELEASE "+name)
		return err
	}
	_, err := t.exec(ctx, "RELEASE "+name)
	return err
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

func scanTenant(row interface{ Scan(...any) error }) (*store.Tenant, error) {
	var tn store.Tenant
	var created int64
	if err := row.Scan(&tn.ID, &tn.Name, &tn.WrappedKey, &created); err != nil {
		return nil, mapErr(err)
	}
	tn.CreatedAt = fromUS(created)
	return &tn, nil
}

func (t *tx) GetTenant(ctx context.Context, id string) (*store.Tenant, error) {
	return scanTenant(t.tx.QueryRowContext(ctx, qGetTenant, id))
}

func (t *tx) GetTenantByName(ctx context.Context, name string) (*store.Tenant, error) {
	return scanTenant(t.tx.QueryRowContext(ctx, qGetTenantByName, name))
}

func (t *tx) ListTenants(ctx context.Context) ([]*store.Tenant, error) {
	return queryAll(ctx, t, qListTenants, scanTenant)
}

func (t *tx) CreateAPIKey(ctx context.Context, k *store.APIKey) error {
	_, err := t.exec(ctx, qCreateAPIKey, k.ID, k.TenantID, k.Role, k.Label, k.Hash, k.Hint,
		us(k.CreatedAt), us(k.ExpiresAt), us(k.RevokedAt))
	return err
}

func scanAPIKey(row interface{ Scan(...any) error }) (*store.APIKey, error) {
	var k store.APIKey
	var c, e, r int64
	if err := row.Scan(&k.ID, &k.TenantID, &k.Role, &k.Label, &k.Hash, &k.Hint, &c, &e, &r); err != nil {
		return nil, mapErr(err)
	}
	k.CreatedAt, k.ExpiresAt, k.RevokedAt = fromUS(c), fromUS(e), fromUS(r)
	return &k, nil
}

func (t *tx) GetAPIKeyByHash(ctx context.Context, hash []byte) (*store.APIKey, error) {
	return scanAPIKey(t.tx.QueryRowContext(ctx, qGetAPIKeyByHash, hash))
}

func (t *tx) ListAPIKeys(ctx context.Context, tenantID string) ([]*store.APIKey, error) {
	return queryAll(ctx, t, qListAPIKeys, scanAPIKey, tenantID)
}

func (t *tx) RevokeAPIKey(ctx context.Context, tenantID, id string, at time.Time) error {
	r, err := t.exec(ctx, qRevokeAPIKey, us(at), tenantID, id)
	return oneRow(r, err)
}

func (t *tx) CreatePurpose(ctx context.Context, tenantID string, p *consent.Purpose, at time.Time) error {
	ch, _ := json.Marshal(p.Channels)
	_, err := t.exec(ctx, qCreatePurpose, tenantID, p.Key, p.Name, p.Description, p.NoticeVersion,
		string(p.Category), string(p.Basis), string(ch), p.DoubleOptIn, int64(p.Lifetime/time.Second), p.KeepBodies, us(at), us(at))
	return err
}

func (t *tx) UpdatePurpose(ctx context.Context, tenantID string, p *consent.Purpose, at time.Time) error {
	ch, _ := json.Marshal(p.Channels)
	r, err := t.exec(ctx, qUpdatePurpose, p.Name, p.Description, p.NoticeVersion, string(p.Category),
		string(p.Basis), string(ch), p.DoubleOptIn, int64(p.Lifetime/time.Second), p.KeepBodies, us(at), tenantID, p.Key)
	return oneRow(r, err)
}

func scanPurpose(row interface{ Scan(...any) error }) (*consent.Purpose, error) {
	var p consent.Purpose
	var cat, basis, ch string
	var life int64
	if err := row.Scan(&p.Key, &p.Name, &p.Description, &p.NoticeVersion, &cat, &basis, &ch, &p.DoubleOptIn, &life, &p.KeepBodies); err != nil {
		return nil, mapErr(err)
	}
	p.Category, p.Basis = consent.Category(cat), consent.Basis(basis)
	if err := json.Unmarshal([]byte(ch), &p.Channels); err != nil {
		return nil, fmt.Errorf("sqlite: purpose %s: channels: %w", p.Key, err)
	}
	p.Lifetime = time.Duration(life) * time.Second
	return &p, nil
}

func (t *tx) GetPurpose(ctx context.Context, tenantID, key string) (*consent.Purpose, error) {
	return scanPurpose(t.tx.QueryRowContext(ctx, qGetPurpose, tenantID, key))
}

func (t *tx) ListPurposes(ctx context.Context, tenantID string) ([]*consent.Purpose, error) {
	return queryAll(ctx, t, qListPurposes, scanPurpose, tenantID)
}

// queryAll runs a query and scans every row with scan.
func queryAll[T any](ctx context.Context, t *tx, q string, scan func(interface{ Scan(...any) error }) (T, error), args ...any) ([]T, error) {
	var out []T
	err := scanEach(ctx, t, q, func(row interface{ Scan(...any) error }) error {
		v, err := scan(row)
		if err == nil {
			out = append(out, v)
		}
		return err
	}, args...)
	return out, err
}

// queryStrings returns the single text column of every row q returns.
func queryStrings(ctx context.Context, t *tx, q string, args ...any) ([]string, error) {
	return queryAll(ctx, t, q, func(row interface{ Scan(...any) error }) (string, error) {
		var s string
		return s, mapErr(row.Scan(&s))
	}, args...)
}

func scanEach(ctx context.Context, t *tx, q string, fn func(interface{ Scan(...any) error }) error, args ...any) error {
	rows, err := t.tx.QueryContext(ctx, q, args...)
	if err != nil {
		return mapErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return mapErr(rows.Err())
}

// oneRow turns "no row matched" into ErrNotFound for updates by key.
func oneRow(r sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := r.RowsAffected()
	if err != nil {
		return mapErr(err)
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}
