package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/consentgate/consentgate/internal/store"
)

const (
	sessionCols           = `id, tenant_id, user_id, role, token_hash, created_at, last_seen_at, expires_at`
	qGetUserByEmail       = `SELECT ` + userCols + ` FROM users WHERE tenant_id = ? AND email_index = ?`
	qCreateSession        = `INSERT INTO sessions (` + sessionCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	qGetSessionByHash     = `SELECT ` + sessionCols + ` FROM sessions WHERE token_hash = ?`
	qGetSession           = `SELECT ` + sessionCols + ` FROM sessions WHERE tenant_id = ? AND id = ?`
	qListSessions         = `SELECT ` + sessionCols + ` FROM sessions WHERE tenant_id = ? ORDER BY created_at, id`
	qTouchSession         = `UPDATE sessions SET last_seen_at = max(last_seen_at, ?) WHERE tenant_id = ? AND id = ?`
	qDeleteSession        = `DELETE FROM sessions WHERE tenant_id = ? AND id = ?`
	qDeleteUserSessions   = `DELETE FROM sessions WHERE tenant_id = ? AND user_id = ?`
	qPurgeExpiredSessions = `DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?`
)

func (t *tx) GetUserByEmail(ctx context.Context, tenantID string, emailIndex []byte) (*store.User, error) {
	return scanUser(t.tx.QueryRowContext(ctx, qGetUserByEmail, tenantID, emailIndex))
}

func (t *tx) CreateSession(ctx context.Context, s *store.Session) error {
	_, err := t.exec(ctx, qCreateSession, s.ID, s.TenantID, s.UserID, s.Role, s.TokenHash,
		us(s.CreatedAt), us(s.LastSeenAt), us(s.ExpiresAt))
	return err
}

func scanSession(row interface{ Scan(...any) error }) (*store.Session, error) {
	var s store.Session
	var created, seen, expires int64
	if err := row.Scan(&s.ID, &s.TenantID, &s.UserID, &s.Role, &s.TokenHash, &created, &seen, &expires); err != nil {
		return nil, mapErr(err)
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = fromUS(created), fromUS(seen), fromUS(expires)
	return &s, nil
}

func (t *tx) GetSessionByHash(ctx context.Context, hash []byte) (*store.Session, error) {
	return scanSession(t.tx.QueryRowContext(ctx, qGetSessionByHash, hash))
}

func (t *tx) GetSession(ctx context.Context, tenantID, id string) (*store.Session, error) {
	return scanSession(t.tx.QueryRowContext(ctx, qGetSession, tenantID, id))
}

func (t *tx) ListSessions(ctx context.Context, tenantID string) ([]*store.Session, error) {
	return queryAll(ctx, t, qListSessions, scanSession, tenantID)
}

func (t *tx) TouchSession(ctx context.Context, tenantID, id string, at time.Time) error {
	r, err := t.exec(ctx, qTouchSession, us(at), tenantID, id)
	return oneRow(r, err)
}

func (t *tx) DeleteSession(ctx context.Context, tenantID, id string) error {
	r, err := t.exec(ctx, qDeleteSession, tenantID, id)
	return oneRow(r, err)
}

func (t *tx) DeleteUserSessions(ctx context.Context, tenantID, userID string) (int, error) {
	r, err := t.exec(ctx, qDeleteUserSessions, tenantID, userID)
	return rowsAffected(r, err)
}

func (t *tx) PurgeSessions(ctx context.Context, now, idleBefore time.Time) (int, error) {
	return rowsAffected(t.exec(ctx, qPurgeExpiredSessions, us(now), us(idleBefore)))
}

// rowsAffected returns how many rows a statement changed.
func rowsAffected(r sql.Result, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	n, err := r.RowsAffected()
	return int(n), mapErr(err)
}
