package store

import (
	"context"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
)

// ChangesTx reads what changed since a time, for the change feed that keeps
// other nodes' decision indexes current with changes that are not consent
// events: a purpose edited (its channels or basis), a contact created,
// restricted (Art. 18) or rectified. Both read rows with updated_at >=
// since, oldest first, at most limit.
type ChangesTx interface {
	PurposesUpdatedSince(ctx context.Context, since time.Time, limit int) ([]PurposeChange, error)
	ContactsUpdatedSince(ctx context.Context, since time.Time, limit int) ([]ContactChange, error)
}

// PurposeChange is a purpose as it is now, with when it last changed.
type PurposeChange struct {
	TenantID  string
	Purpose   *consent.Purpose
	UpdatedAt time.Time
}

// ContactChange is a contact as it is now (identifiers included), with
// when it last changed.
type ContactChange struct {
	Contact     *Contact
	Identifiers []Identifier
}
