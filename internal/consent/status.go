package consent

import (
	"fmt"
	"time"
)

// Status is the consent state of one (contact, purpose, channel).
type Status string

// The consent statuses. None is the absence of any event.
const (
	StatusNone      Status = "none"
	StatusPending   Status = "pending" // double opt-in asked, not yet confirmed
	StatusGranted   Status = "granted"
	StatusWithdrawn Status = "withdrawn"
	StatusObjected  Status = "objected" // Art. 21 objection
)

// ParseStatus returns the status named s or ErrUnknownStatus. "none" is not
// accepted: it cannot be recorded, only observed.
func ParseStatus(s string) (Status, error) {
	switch st := Status(s); st {
	case StatusPending, StatusGranted, StatusWithdrawn, StatusObjected:
		return st, nil
	}
	return "", fmt.Errorf("%w: %q", ErrUnknownStatus, s)
}

// State is the current consent of one (contact, purpose, channel), derived
// from the latest consent event for it. EventID points at that event, so a
// decision can say which entry of the ledger it rests on.
type State struct {
	Status    Status
	Confirmed bool      // double opt-in confirmed
	ExpiresAt time.Time // zero: no expiry
	EventID   string
	EventSeq  int64 // store order of the event; newer events win
}

// Source says how a consent event was collected (evidence).
type Source string

// Known sources. Others may be added by tenants' integrations as long as they
// match SourcePattern.
const (
	SourceAPI     Source = "api"
	SourceWeb     Source = "web"
	SourceKeyword Source = "keyword"
	SourceImport  Source = "import"
)
