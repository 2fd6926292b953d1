package store

import (
	"context"
	"time"
)

// AttributeDef declares one contact attribute a tenant may collect (data
// minimisation, Art. 5(1)(c)): what it is, why, and for how long.
type AttributeDef struct {
	TenantID    string
	Name        string
	Type        string // string, number, boolean, date
	Category    string // data category, e.g. "contact_details", "preferences"
	Purpose     string // purpose key it is collected for
	Retention   time.Duration
	Description string
	CreatedAt   time.Time
}

// DSR is a data-subject request (Art. 15–21) and what became of it. Result
// holds a JSON summary with ids and counts only, never personal data: an
// access export is generated on demand, not stored, so that no second copy
// of the person's data builds up.
type DSR struct {
	ID              string
	TenantID        string
	Type            string
	ContactID       string
	Status          string // open, completed, blocked, rejected
	ReceivedAt      time.Time
	DueAt           time.Time
	Extended        bool
	ExtensionReason string
	Result          []byte
	Actor           string
	CompletedAt     time.Time
}

// LegalHold keeps a contact's data from erasure (Art. 17(3)(e): legal
// claims) until it is released.
type LegalHold struct {
	TenantID  string
	ContactID string
	Reason    string
	Actor     string
	CreatedAt time.Time
}

// ErasureCertificate is the proof of one erasure: what was deleted, how
// many rows, when, and the ledger entry that records it. It names the
// contact by its pseudonymous id only.
type ErasureCertificate struct {
	ID        string
	TenantID  string
	ContactID string
	DSRID     string
	Body      []byte // the certificate, JSON
	CreatedAt time.Time
}

// RetentionPolicy is how long a tenant keeps one category of data.
type RetentionPolicy struct {
	TenantID  string
	Category  string
	Period    time.Duration
	UpdatedAt time.Time
}

// The data categories a purge acts on. Each maps to the rows listed in
// docs/privacy.md.
const (
	CategoryMessageBodies   = "message_bodies"   // sealed envelopes of finished messages, pending forward bodies
	CategoryMessageMetadata = "message_metadata" // finished outbound messages and their timelines
	CategoryInbound         = "inbound_messages" // inbound message records
	CategoryConsentEvidence = "consent_evidence" // sealed evidence of consents withdrawn or objected to before the cut-off
	CategoryAuditEvents     = "audit_events"     // not purged here: the audit chain would break (docs/privacy.md)
	CategoryDSRRecords      = "dsr_records"      // finished data-subject requests
)

// PurgeRecord is the signed summary one purge leaves.
type PurgeRecord struct {
	ID        string
	TenantID  string
	Category  string
	Count     int
	Cutoff    time.Time
	At        time.Time
	Signature []byte // HMAC-SHA256 with a key derived from the master key
}

// WrappedKey is one sealed key found by a rotation scan.
type WrappedKey struct {
	ID      string
	Wrapped []byte
}

// PrivacyStore holds what privacy at rest and the data subject's rights
// need: declared attributes, data-subject requests, legal holds, erasure,
// retention and purges, and the rewrapping of keys. It is embedded in Tx.
type PrivacyStore interface {
	// CreateAttributeDef stores a declaration; ErrConflict when the name is taken.
	CreateAttributeDef(ctx context.Context, d *AttributeDef) error
	ListAttributeDefs(ctx context.Context, tenantID string) ([]*AttributeDef, error)

	CreateDSR(ctx context.Context, r *DSR) error
	UpdateDSR(ctx context.Context, r *DSR) error
	GetDSR(ctx context.Context, tenantID, id string) (*DSR, error)
	// ListDSRs returns a tenant's requests, open ones only when openOnly,
	// by due date.
	ListDSRs(ctx context.Context, tenantID string, openOnly bool, limit int) ([]*DSR, error)
	ListContactDSRs(ctx context.Context, tenantID, contactID string) ([]*DSR, error)

	PutLegalHold(ctx context.Context, h *LegalHold) error
	GetLegalHold(ctx context.Context, tenantID, contactID string) (*LegalHold, error)
	DeleteLegalHold(ctx context.Context, tenantID, contactID string) error

	// UpdateContact rewrites a contact's locale, sealed attributes and
	// updated time, and when ids is not nil replaces its identifiers
	// (ErrConflict when one belongs to another contact).
	UpdateContact(ctx context.Context, c *Contact, ids []Identifier) error
	SetRestricted(ctx context.Context, tenantID, contactID string, restricted bool, at time.Time) error
	// EraseContact deletes the contact with its wrapped data key, its
	// identifiers, the projection of its consent states, the sealed
	// evidence of its consent events (the events stay: they carry no
	// personal data and the ledger sequences them), and the message and
	// inbound rows of the contact or addressed to its blind indexes. forms
	// are further stored forms of its identifiers to match messages and
	// inbound rows by: while the index key rotates, a row can hold another
	// form than the identifier's. It returns the rows it removed per kind.
	EraseContact(ctx context.Context, tenantID, contactID string, forms [][]byte) (map[string]int, error)
	CreateErasureCertificate(ctx context.Context, c *ErasureCertificate) error
	GetErasureCertificate(ctx context.Context, tenantID, contactID string) (*ErasureCertificate, error)
	// FindSuppressionReason returns the reason an identifier is suppressed
	// for scope "all", ErrNotFound when it is not.
	FindSuppressionReason(ctx context.Context, tenantID string, kind string, blindIndex []byte) (string, error)
	// ListContactMessages returns up to limit of a contact's outbound
	// messages (metadata only), newest first.
	ListContactMessages(ctx context.Context, tenantID, contactID string, limit int) ([]*Message, error)
	// ListContactInbound returns up to limit of a contact's inbound
	// message records, newest first.
	ListContactInbound(ctx context.Context, tenantID, contactID string, limit int) ([]*InboundMessage, error)

	PutRetentionPolicy(ctx context.Context, p *RetentionPolicy) error
	ListRetentionPolicies(ctx context.Context, tenantID string) ([]*RetentionPolicy, error)
	// Purge removes (or, for bodies and evidence, clears) up to limit rows
	// of a category that are older than cutoff, and returns how many.
	Purge(ctx context.Context, tenantID, category string, cutoff time.Time, limit int) (int, error)
	// CountPurgeable counts what Purge would remove.
	CountPurgeable(ctx context.Context, tenantID, category string, cutoff time.Time) (int, error)
	AppendPurgeRecord(ctx context.Context, r *PurgeRecord) error
	// ListPurgeRecords returns records newest first; every tenant's when
	// tenantID is "".
	ListPurgeRecords(ctx context.Context, tenantID string, limit int) ([]*PurgeRecord, error)
	SetPurgeSignature(ctx context.Context, id string, sig []byte) error

	// UpdateTenantKey replaces a tenant's sealed keyring.
	UpdateTenantKey(ctx context.Context, tenantID string, wrapped []byte) error
	// ContactKeysAfter returns up to limit contacts' wrapped data keys with
	// id > afterID, in id order: the rotation's batches.
	ContactKeysAfter(ctx context.Context, tenantID, afterID string, limit int) ([]WrappedKey, error)
	SetContactKey(ctx context.Context, tenantID, contactID string, wrapped []byte) error
	// MessageKeysAfter is ContactKeysAfter for the per-message keys of
	// messages to recipients who are not contacts.
	MessageKeysAfter(ctx context.Context, tenantID, afterID string, limit int) ([]WrappedKey, error)
	SetMessageKey(ctx context.Context, tenantID, id string, wrapped []byte) error
	// ForwardBodiesAfter and SetForwardBody do the same for the sealed
	// bodies of inbound forwards still waiting for delivery.
	ForwardBodiesAfter(ctx context.Context, tenantID, afterID string, limit int) ([]WrappedKey, error)
	SetForwardBody(ctx context.Context, tenantID, id string, sealed []byte) error
	// UpdateLedgerKey replaces the ledger's sealed signing key.
	UpdateLedgerKey(ctx context.Context, name string, skeySealed []byte) error
}

// PartitionDropper is implemented by a store that keeps a category's rows
// in time partitions (SQLite: message metadata and inbound records).
// DropExpired removes every partition whose rows have all expired: each
// row's tenant has a cut-off in cutoffs, the row was last changed before
// it and, for a message, has finished. It returns how many rows each
// tenant lost. What it leaves is deleted row by row by Tx.Purge.
type PartitionDropper interface {
	DropExpired(ctx context.Context, category string, cutoffs map[string]time.Time) (map[string]int, error)
}
