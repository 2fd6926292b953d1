package store

import (
	"context"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
)

// RecordsStore holds the DPO's records (issue 8): the controller details
// that extend the tenant profile, what the tenant declared about each
// channel provider as a processor, the versions of the record of
// processing, the DPIA worksheets, the breach register, and the counts that
// breach scoping, DPIA volumes and the compliance figures need. It is
// embedded in Tx.
type RecordsStore interface {
	// PutControllerDetails creates or replaces the tenant's controller
	// details.
	PutControllerDetails(ctx context.Context, d *ControllerDetails) error
	GetControllerDetails(ctx context.Context, tenantID string) (*ControllerDetails, error)

	// PutProcessorDetails creates or replaces what the tenant declared
	// about the provider of a channel.
	PutProcessorDetails(ctx context.Context, p *ProcessorDetails) error
	ListProcessorDetails(ctx context.Context, tenantID string) ([]*ProcessorDetails, error)

	// CreateRecordVersion stores a version; ErrConflict when the tenant
	// already has that version of that kind (a concurrent writer won).
	CreateRecordVersion(ctx context.Context, v *RecordVersion) error
	LatestRecordVersion(ctx context.Context, tenantID, kind string) (*RecordVersion, error)
	GetRecordVersion(ctx context.Context, tenantID, kind string, version int) (*RecordVersion, error)
	// ListRecordVersions returns the versions newest first, without their
	// bodies.
	ListRecordVersions(ctx context.Context, tenantID, kind string) ([]*RecordVersion, error)

	// PutDPIA creates or replaces the worksheet state of a purpose.
	PutDPIA(ctx context.Context, d *DPIARecord) error
	GetDPIA(ctx context.Context, tenantID, purpose string) (*DPIARecord, error)
	ListDPIAs(ctx context.Context, tenantID string) ([]*DPIARecord, error)

	CreateBreach(ctx context.Context, b *Breach) error
	UpdateBreach(ctx context.Context, b *Breach) error
	GetBreach(ctx context.Context, tenantID, id string) (*Breach, error)
	// ListBreaches returns the tenant's breaches, newest discovery first.
	ListBreaches(ctx context.Context, tenantID string) ([]*Breach, error)

	// CountAffected counts the rows of one source in a time window and the
	// distinct contacts they concern, and lists up to q.Limit contact ids.
	CountAffected(ctx context.Context, q AffectedQuery) (*AffectedCount, error)
	// CountConsentStates counts the current consent states by purpose,
	// channel and status.
	CountConsentStates(ctx context.Context, tenantID string) ([]ConsentStateCount, error)
	// CountOptOutsByDay counts withdrawals and objections recorded since a
	// time, per UTC day, purpose and channel.
	CountOptOutsByDay(ctx context.Context, tenantID string, since time.Time) ([]DayCount, error)
	// PurposeVolumes counts, per purpose, the contacts holding a granted
	// or pending consent and the distinct contacts messaged since a time.
	PurposeVolumes(ctx context.Context, tenantID string, since time.Time) ([]PurposeVolume, error)
}

// ControllerDetails extend the tenant profile (controller name, privacy
// notice, DPO name and e-mail) with what the record of processing and a
// breach report need besides.
type ControllerDetails struct {
	TenantID                string
	Address                 string
	Representative          string
	RepresentativeContact   string
	DPOPhone                string
	SupervisoryAuthority    string
	SupervisoryAuthorityURL string
	UpdatedAt               time.Time
}

// ProcessorDetails are what the tenant declared about the provider of one
// channel: the legal entity, its country and the transfer mechanism. The
// provider itself (kind, endpoint) comes from the channel provider
// configuration.
type ProcessorDetails struct {
	TenantID  string
	Channel   consent.Channel
	Name      string
	Country   string
	Transfer  string
	DPARef    string
	UpdatedAt time.Time
}

// RecordVersion is one version of a generated record. Body is the record's
// JSON when it was stored (configuration only, no data subject's data);
// Changes is the JSON list of fields that differ from the version before.
type RecordVersion struct {
	TenantID  string
	Kind      string // "ropa"
	Version   int
	Digest    string
	Body      []byte
	Changes   []byte
	CreatedAt time.Time
}

// DPIARecord is the stored state of a purpose's DPIA worksheet. Answers and
// Risks are JSON; Risks is nil while the register is the generated one.
type DPIARecord struct {
	TenantID     string
	Purpose      string
	Answers      []byte
	Risks        []byte
	SignedBy     string
	SignedAt     time.Time
	SignedDigest string
	SignNote     string
	UpdatedAt    time.Time
}

// Breach is an entry of the breach register. It holds no data subject's
// data: numbers and descriptions only.
type Breach struct {
	ID             string
	TenantID       string
	DiscoveredAt   time.Time
	OccurredFrom   time.Time
	OccurredTo     time.Time
	Nature         string
	Categories     []string
	Channel        consent.Channel // the processor involved; empty when none
	ApproxSubjects int
	ApproxRecords  int
	Consequences   string
	Measures       string
	NotifiedAt     time.Time // zero until the authority is notified
	LateReason     string
	RecordedBy     string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// AffectedSource is a table breach scoping counts.
type AffectedSource string

// The sources of breach scoping.
const (
	SourceMessages      AffectedSource = "messages"       // outbound messages created in the window
	SourceInbound       AffectedSource = "inbound"        // inbound messages recorded in the window
	SourceConsentEvents AffectedSource = "consent_events" // consent events recorded in the window
	SourceContacts      AffectedSource = "contacts"       // contacts that existed before the window ended
)

// AffectedQuery asks how much of a source a time window [From, To) touches,
// optionally on one channel (the processor). Channel is ignored for
// SourceContacts.
type AffectedQuery struct {
	TenantID string
	Source   AffectedSource
	Channel  consent.Channel
	From, To time.Time
	Limit    int // how many contact ids to list
}

// AffectedCount is the answer to an AffectedQuery.
type AffectedCount struct {
	Records    int
	Contacts   int
	ContactIDs []string // sorted, at most Limit
}

// ConsentStateCount is how many (contact, purpose, channel) states have a
// status.
type ConsentStateCount struct {
	Purpose string
	Channel consent.Channel
	Status  consent.Status
	Count   int
}

// DayCount is a count for one UTC day, purpose and channel.
type DayCount struct {
	Day     time.Time
	Purpose string
	Channel consent.Channel
	Count   int
}

// PurposeVolume is the size of one purpose.
type PurposeVolume struct {
	Purpose    string
	Consenting int
	Messaged   int
}
