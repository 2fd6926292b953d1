package postgres

import (
	"context"
	"time"

	"github.com/consentgate/consentgate/internal/store"
)

const (
	sessionCols           = `id, tenant_id, user_id, role, token_hash, created_at, last_seen_at, expires_at`
	qGetUserByEmail       = `SELECT ` + userCols + ` FROM users WHERE tenant_id = $1 AND email_index = $2`
	qCreateSession        = `INSERT INTO sessions (` + sessionCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
	qGetSessionByHash     = `SELECT ` + sessionCols + ` FROM sessions WHERE token_hash = $1`
	qGetSession           = `SELECT ` + sessionCols + ` FROM sessions WHERE tenant_id = $1 AND id = $2`
	qListSessions         = `SELECT ` + sessionCols + ` FROM sessions WHERE tenant_id = $1 ORDER BY created_at, id`
	qTouchSession         = `UPDATE sessions SET last_seen_at = GREATEST(last_seen_at, $1) WHERE tenant_id = $2 AND id = $3`
	qDeleteSession        = `DELETE FROM sessions WHERE tenant_id = $1 AND id = $2`
	qDeleteUserSessions   = `DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2`
	qPurgeExpiredSessions = `DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2`
)

func (t *tx) GetUserByEmail(ctx context.Context, tenantID string, emailIndex []byte) (*store.User, error) {
	return scanUser(t.queryRow(ctx, qGetUserByEmail, tenantID, emailIndex))
}

func (t *tx) CreateSession(ctx context.Context, s *store.Session) error {
	_, err := t.exec(ctx, qCreateSession, s.ID, s.TenantID, s.UserID, s.Role, s.TokenHash,
		us(s.CreatedAt), us(s.LastSeenAt), us(s.ExpiresAt))
	return err
}

func scanSession(r row) (*store.Session, error) {
	var s store.Session
	var created, seen, expires int64
	if err := r.Scan(&s.ID, &s.TenantID, &s.UserID, &s.Role, &s.TokenHash, &created, &seen, &expires); err != nil {
		return nil, mapErr(err)
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = fromUS(created), fromUS(seen), fromUS(expires)
	return &s, nil
}

func (t *tx) GetSessionByHash(ctx context.Context, hash []byte) (*store.Session, error) {
	return scanSession(t.queryRow(ctx, qGetSessionByHash, hash))
}

func (t *tx) GetSession(ctx context.Context, tenantID, id string) (*store.Session, error) {
	return scanSession(t.queryRow(ctx, qGetSession, tenantID, id))
}

func (t *tx) ListSessions(ctx context.Context, tenantID string) ([]*store.Session, error) {
	return queryAll(ctx, t, qListSessions, scanSession, tenantID)
}

func (t *tx) TouchSession(ctx context.Context, tenantID, id string, at time.Time) error {
	tag, err := t.exec(ctx, qTouchSession, us(at), tenantID, id)
	return oneRow(tag, err)
}

func (t *tx) DeleteSession(ctx context.Context, tenantID, id string) error {
	tag, err := t.exec(ctx, qDeleteSession, tenantID, id)
	return oneRow(tag, err)
}

func (t *tx) DeleteUserSessions(ctx context.Context, tenantID, userID string) (int, error) {
	tag, err := t.exec(ctx, qDeleteUserSessions, tenantID, userID)
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

func (t *tx) PurgeSessions(ctx context.Context, now, idleBefore time.Time) (int, error) {
	tag, err := t.exec(ctx, qPurgeExpiredSessions, us(now), us(idleBefore))
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}
