package store

import (
	"context"
	"time"

	"github.com/consentgate/consentgate/internal/audit"
)

// AccessStore is what roles, scoped keys, web UI users and the audit trail
// need from a transaction.
type AccessStore interface {
	AuditStore
	UserStore

	// SetAPIKeyScopes stores the scopes that narrow a key's role (none: the
	// whole role). It is called in the transaction that creates the key.
	SetAPIKeyScopes(ctx context.Context, tenantID, keyID string, scopes []string) error
	// APIKeyScopes returns a key's scopes, empty when it has none.
	APIKeyScopes(ctx context.Context, tenantID, keyID string) ([]string, error)
	// ListAPIKeyScopes returns the scopes of every key of a tenant that has any.
	ListAPIKeyScopes(ctx context.Context, tenantID string) (map[string][]string, error)
	// GetAPIKey returns one key of a tenant.
	GetAPIKey(ctx context.Context, tenantID, id string) (*APIKey, error)
}

// AuditStore keeps the audit trail. Events are inserted by the request they
// record, in its transaction; the chain fields are filled later, in
// sequence order, by one chainer at a time (the head's compare-and-set
// makes concurrent chainers on several nodes safe).
type AuditStore interface {
	// AppendAudit inserts an event and sets e.Seq.
	AppendAudit(ctx context.Context, e *audit.Event) error
	// AuditToRedact returns up to limit chained, unredacted events of a
	// tenant older than before, oldest first (the audit retention purge).
	AuditToRedact(ctx context.Context, tenantID string, before time.Time, limit int) ([]*audit.Event, error)
	// RedactAudit stores an event's redaction (audit.Redact): its content
	// removed, its content digest kept; ErrNotFound when already redacted.
	RedactAudit(ctx context.Context, e *audit.Event) error
	// ListAudit returns a tenant's events matching f, newest first.
	ListAudit(ctx context.Context, f AuditFilter) ([]*audit.Event, error)
	// AuditEventsAfter returns up to limit events of every tenant with Seq >
	// seq, in Seq order.
	AuditEventsAfter(ctx context.Context, seq int64, limit int) ([]*audit.Event, error)
	// UnchainedAudit returns up to limit events not yet chained, in Seq order.
	UnchainedAudit(ctx context.Context, limit int) ([]*audit.Event, error)
	// ChainAudit sets the chain position and hash of the event seq;
	// ErrConflict when it is chained already.
	ChainAudit(ctx context.Context, seq, pos int64, hash []byte) error
	// AuditHead returns the chain head (zero when nothing is chained).
	AuditHead(ctx context.Context) (audit.Head, error)
	// AdvanceAuditHead moves the head from position from to h; ErrConflict
	// when the head is no longer at from (another chainer went first).
	AdvanceAuditHead(ctx context.Context, from int64, h audit.Head) error
	// ChainedAudit returns up to limit chained events with position >
	// afterPos, in position order: what verification reads.
	ChainedAudit(ctx context.Context, afterPos int64, limit int) ([]*audit.Event, error)
	// CountUnchainedAudit returns how many events wait for the chainer.
	CountUnchainedAudit(ctx context.Context) (int64, error)
}

// AuditFilter selects audit events of one tenant. Empty fields match all.
type AuditFilter struct {
	TenantID   string
	ActorID    string
	ContactID  string
	ObjectType string
	ObjectID   string
	Action     string
	From, To   time.Time // From inclusive, To exclusive; zero: unbounded
	BeforeSeq  int64     // cursor: only events with Seq < BeforeSeq; 0: from the newest
	Limit      int
}

// UserStore keeps web UI users. A user's e-mail address is personal data:
// it is stored sealed with a key derived from the tenant's, and found by a
// blind index, never in clear.
type UserStore interface {
	// CreateUser stores a user; ErrConflict when the tenant has a user with
	// the same e-mail (by blind index).
	CreateUser(ctx context.Context, u *User) error
	GetUser(ctx context.Context, tenantID, id string) (*User, error)
	ListUsers(ctx context.Context, tenantID string) ([]*User, error)
	// DeleteUser removes the user and with it the sealed e-mail address.
	DeleteUser(ctx context.Context, tenantID, id string) error
}

// User is a person who signs in to the web UI.
type User struct {
	ID           string
	TenantID     string
	Role         string
	EmailSealed  []byte
	EmailIndex   []byte // blind index of the normalised address
	PasswordHash string // argon2id, PHC string format
	CreatedAt    time.Time
}
