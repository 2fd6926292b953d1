package store

import (
	"context"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
)

// ChangesTx reads what changed since a time, for the change feed that keeps
// other nodes' decision indexes current with changes that are not consent
// events: a purpose edited (its channels or basis), a contact created,
// restricted (Art. 18) or rectified. Both read rows whose change time is at
// or after since, oldest first, at most limit.
//
// The change time is on the store's own clock, not the writing node's:
// on PostgreSQL the database server stamps it (a trigger, migration 0016),
// so a node whose clock is behind or ahead cannot write a change behind
// the other nodes' cursors, where they would never read it. SQLite has one
// machine and one clock; there it is updated_at.
type ChangesTx interface {
	PurposesUpdatedSince(ctx context.Context, since time.Time, limit int) ([]PurposeChange, error)
	ContactsUpdatedSince(ctx context.Context, since time.Time, limit int) ([]ContactChange, error)
	// ChangeClock is the store's clock now, the one ChangedAt is on: where
	// a feed that starts up begins reading.
	ChangeClock(ctx context.Context) (time.Time, error)
}

// PurposeChange is a purpose as it is now, with when it last changed.
type PurposeChange struct {
	TenantID  string
	Purpose   *consent.Purpose
	UpdatedAt time.Time
	ChangedAt time.Time // on the store's clock (ChangesTx)
}

// ContactChange is a contact as it is now (identifiers included), with
// when it last changed.
type ContactChange struct {
	Contact     *Contact
	Identifiers []Identifier
	ChangedAt   time.Time // on the store's clock (ChangesTx)
}
