// Package store defines what the gateway keeps and how it is reached: the
// records, the Store and Tx interfaces, and the sentinel errors that every
// backend maps its driver errors onto. Rules live in the domain and service
// layers, never in a store, so that SQLite and PostgreSQL behave alike; the
// conformance suite in storetest holds both to that.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/ledger"
)

// Sentinel errors. Backends translate their driver's error codes onto these
// (never by matching message text); callers test with errors.Is.
var (
	ErrNotFound    = errors.New("store: not found")
	ErrConflict    = errors.New("store: conflict") // unique key taken
	ErrUnavailable = errors.New("store: unavailable")
)

// Store is a database holding every tenant's data.
type Store interface {
	// Read runs fn in a read-only transaction (a consistent snapshot).
	Read(ctx context.Context, fn func(Tx) error) error
	// Write runs fn in one read-write transaction, committed when fn returns
	// nil and rolled back otherwise. A backend may roll back and run fn
	// again from the start (PostgreSQL does after a serialization failure
	// or deadlock, a bounded number of times), so fn must be re-runnable:
	// whatever it does outside the transaction, such as filling in results
	// or fields of records it was handed, it must redo from scratch on each
	// run, and only act on them once Write has returned nil.
	Write(ctx context.Context, fn func(Tx) error) error
	// WriteRelaxed is Write whose commit does not wait for stable storage:
	// the commit is visible and survives a crash of the process at once,
	// and survives a power loss once the backend next syncs its log
	// (SQLite: the next durable commit or background checkpoint, within
	// about 50 ms; PostgreSQL: synchronous_commit off, within three
	// wal_writer_delay). The service uses it only where losing the last
	// moment's commits to a power cut harms no one: transactions that
	// record a read (the audit event of a masked contact read, a listing,
	// a refused request) and the batches of a retention purge (rows that
	// come back are purged again; the purge's summary is durable). A change
	// a caller is told about, and its audit event, is always durable before
	// the answer. docs/access.md and docs/privacy.md say so.
	WriteRelaxed(ctx context.Context, fn func(Tx) error) error
	// Dialect names the backend ("sqlite", "postgres"), for metrics and docs.
	Dialect() string
	// Ledger is the consent ledger's Merkle-tree storage in this database.
	Ledger() ledger.Storage
	Close() error
}

// Tx is one transaction. Every method that reads or writes tenant data takes
// the tenant id and filters by it: tenant isolation is enforced in every
// query, not only by the caller.
type Tx interface {
	// Unit runs fn inside a savepoint: when fn fails, only its own changes
	// are undone and the enclosing transaction goes on. Group commit uses
	// it to put many requests into one transaction.
	Unit(ctx context.Context, fn func(Tx) error) error

	CreateTenant(ctx context.Context, t *Tenant) error
	GetTenant(ctx context.Context, id string) (*Tenant, error)
	GetTenantByName(ctx context.Context, name string) (*Tenant, error)
	ListTenants(ctx context.Context) ([]*Tenant, error)

	CreateAPIKey(ctx context.Context, k *APIKey) error
	GetAPIKeyByHash(ctx context.Context, hash []byte) (*APIKey, error)
	ListAPIKeys(ctx context.Context, tenantID string) ([]*APIKey, error)
	RevokeAPIKey(ctx context.Context, tenantID, id string, at time.Time) error

	CreatePurpose(ctx context.Context, tenantID string, p *consent.Purpose, at time.Time) error
	UpdatePurpose(ctx context.Context, tenantID string, p *consent.Purpose, at time.Time) error
	GetPurpose(ctx context.Context, tenantID, key string) (*consent.Purpose, error)
	ListPurposes(ctx context.Context, tenantID string) ([]*consent.Purpose, error)

	// CreateContact stores a contact with its identifiers; ErrConflict when
	// one of the identifiers (by blind index) already belongs to a contact.
	CreateContact(ctx context.Context, c *Contact, ids []Identifier) error
	GetContact(ctx context.Context, tenantID, id string) (*Contact, []Identifier, error)
	// ContactKeys returns the wrapped data keys of a tenant's contacts by
	// id; a contact that does not exist is left out. The dispatcher reads
	// the keys of every contact a claim holds messages for (one statement
	// on PostgreSQL, where a read per contact is a round trip each).
	ContactKeys(ctx context.Context, tenantID string, ids []string) (map[string][]byte, error)
	FindContactID(ctx context.Context, tenantID string, kind consent.IdentifierKind, blindIndex []byte) (string, error)

	// AppendConsentEvent appends an event (never updated or deleted by
	// normal operation), sets e.Seq, and moves the current-state projection
	// of its (contact, purpose, channel) to it.
	AppendConsentEvent(ctx context.Context, e *ConsentEvent) error
	// ListConsentEvents returns a contact's events, oldest first.
	ListConsentEvents(ctx context.Context, tenantID, contactID string) ([]*ConsentEvent, error)
	// CurrentConsents returns the events the contact's current states rest on.
	CurrentConsents(ctx context.Context, tenantID, contactID string) ([]*ConsentEvent, error)
	GetConsentEvent(ctx context.Context, tenantID, id string) (*ConsentEvent, error)

	// The scans feed the in-memory decision index at start-up. They stream
	// in store order and stop at the first error fn returns. fn must not
	// keep the record it is given past its return: backends may reuse it.
	// ScanCurrentConsents fills only the state fields (Seq, ID, TenantID,
	// ContactID, Purpose, Channel, Status, Confirmed, ExpiresAt).
	ScanCurrentConsents(ctx context.Context, fn func(*ConsentEvent) error) error
	ScanIdentifiers(ctx context.Context, fn func(*Identifier) error) error
	ScanContacts(ctx context.Context, fn func(*Contact) error) error
	ScanSuppressions(ctx context.Context, fn func(*Suppression) error) error
	// ConsentEventsAfter returns up to limit events with Seq > seq, in Seq
	// order: the change feed that keeps other processes' indexes current.
	ConsentEventsAfter(ctx context.Context, seq int64, limit int) ([]*ConsentEvent, error)

	AddSuppression(ctx context.Context, s *Suppression) error

	LedgerTx
	ChangesTx

	InboundStore
	MessageStore
	PrivacyStore
	BlindStore
	AccessStore
	SessionStore
	RecordsStore
	StatusForwardStore
	TemplateStore
}

// Tenant is a data controller using the gateway.
type Tenant struct {
	ID         string
	Name       string
	WrappedKey []byte // tenant keys, sealed by the master key (vault)
	CreatedAt  time.Time
}

// APIKey is a bearer credential. Only the SHA-256 of the secret is kept: the
// secret has ≥128 bits of entropy, so a slow hash adds nothing.
type APIKey struct {
	ID        string
	TenantID  string
	Role      string
	Label     string
	Hash      []byte
	Hint      string // the first characters of the key, to tell keys apart
	CreatedAt time.Time
	ExpiresAt time.Time // zero: no expiry
	RevokedAt time.Time // zero: active
}

// Contact is a data subject. Everything that could identify the person is
// sealed with the contact's data key.
type Contact struct {
	ID               string
	TenantID         string
	Locale           string
	WrappedKey       []byte // contact data key, wrapped by the tenant key
	AttributesSealed []byte // JSON object, sealed; nil when none
	Restricted       bool   // Art. 18 restriction of processing
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// Identifier is one sealed identifier of a contact with its blind index.
type Identifier struct {
	TenantID   string
	ContactID  string
	Kind       consent.IdentifierKind
	BlindIndex []byte
	Sealed     []byte
}

// ConsentEvent is one append-only entry: a change of consent for (contact,
// purpose, channel), with evidence. Evidence is sealed (it may hold an IP
// address or a user agent); its digest is kept in clear for the ledger.
type ConsentEvent struct {
	Seq            int64
	ID             string
	TenantID       string
	ContactID      string
	Purpose        string
	Channel        consent.Channel
	Status         consent.Status
	Confirmed      bool
	Source         string
	NoticeVersion  int
	EvidenceSealed []byte
	EvidenceDigest []byte
	Actor          string // key or user id that recorded it
	OccurredAt     time.Time
	RecordedAt     time.Time
	ExpiresAt      time.Time // zero: no expiry
}

// State returns the consent state this event sets.
func (e *ConsentEvent) State() consent.State {
	return consent.State{Status: e.Status, Confirmed: e.Confirmed, ExpiresAt: e.ExpiresAt, EventID: e.ID, EventSeq: e.Seq}
}

// Suppression keeps an identifier from ever being messaged in a scope. It
// holds only a keyed hash, so it can outlive the contact's erasure.
type Suppression struct {
	TenantID   string
	BlindIndex []byte
	Kind       consent.IdentifierKind
	Scope      string // "all" or a channel name
	Reason     string
	CreatedAt  time.Time
}
