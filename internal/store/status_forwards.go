package store

import (
	"context"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
)

// StatusForward is one change of a message's status waiting to be
// delivered to the tenant's webhook (the forward target that conversation
// also goes to). It holds ids, statuses and codes only — the same metadata
// as the message's timeline, never the recipient or the text — so, unlike an
// inbound Forward, it is kept in clear. It is deleted once delivered.
type StatusForward struct {
	ID          string // also the webhook-id the tenant dedupes on
	TenantID    string
	MessageID   string
	Status      MessageStatus
	Channel     consent.Channel
	Purpose     string // empty for replies
	ProviderRef string
	ErrorCode   string // reason or error class; empty when none
	At          time.Time
	Attempts    int
	NextAttempt time.Time
	LastError   string
	CreatedAt   time.Time
}

// StatusForwardStore holds the pending status forwards. It is embedded in
// Tx, so a forward is written in the transaction of the status change.
type StatusForwardStore interface {
	CreateStatusForward(ctx context.Context, f *StatusForward) error
	// DueStatusForwards returns up to limit status forwards of any tenant
	// whose next attempt is due at now, oldest first.
	DueStatusForwards(ctx context.Context, now time.Time, limit int) ([]*StatusForward, error)
	// RetryStatusForward records a failed attempt and when to try again.
	RetryStatusForward(ctx context.Context, tenantID, id string, attempts int, next time.Time, lastError string) error
	// DeleteStatusForward removes a delivered (or abandoned) status forward.
	DeleteStatusForward(ctx context.Context, tenantID, id string) error
}
