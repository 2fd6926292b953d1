package store

import (
	"context"
	"time"
)

// SessionStore keeps the sign-in sessions of web UI users (docs/access.md).
// A session is found by the SHA-256 of its token; the token itself is never
// stored. It is embedded in Tx.
type SessionStore interface {
	// GetUserByEmail returns the tenant's user whose e-mail address has the
	// blind index emailIndex; ErrNotFound when there is none.
	GetUserByEmail(ctx context.Context, tenantID string, emailIndex []byte) (*User, error)
	// CreateSession stores a session; ErrConflict when its token hash is
	// taken.
	CreateSession(ctx context.Context, s *Session) error
	// GetSessionByHash returns the session whose token hashes to hash, of
	// whichever tenant: the token is the credential that names its tenant,
	// as an API key's is.
	GetSessionByHash(ctx context.Context, hash []byte) (*Session, error)
	// GetSession returns one session of a tenant.
	GetSession(ctx context.Context, tenantID, id string) (*Session, error)
	// ListSessions returns the tenant's sessions, oldest first.
	ListSessions(ctx context.Context, tenantID string) ([]*Session, error)
	// TouchSession moves a session's last use forward to at (never back);
	// ErrNotFound when the session is gone.
	TouchSession(ctx context.Context, tenantID, id string, at time.Time) error
	// DeleteSession removes one session; ErrNotFound when there is none.
	DeleteSession(ctx context.Context, tenantID, id string) error
	// DeleteUserSessions removes every session of a user and returns how
	// many there were.
	DeleteUserSessions(ctx context.Context, tenantID, userID string) (int, error)
	// PurgeSessions removes the sessions of every tenant that have expired:
	// their absolute expiry is at or before now, or their last use at or
	// before idleBefore. It returns how many it removed.
	PurgeSessions(ctx context.Context, now, idleBefore time.Time) (int, error)
}

// Session is a signed-in web UI user. The role is the user's role at sign-in;
// a session whose user no longer has that role is void.
type Session struct {
	ID         string
	TenantID   string
	UserID     string
	Role       string
	TokenHash  []byte // SHA-256 of the token
	CreatedAt  time.Time
	LastSeenAt time.Time // last authenticated use, moved forward at most once a minute
	ExpiresAt  time.Time // absolute end, whatever the use
}
