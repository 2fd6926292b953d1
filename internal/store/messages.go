package store

import (
	"context"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
)

// MessageStatus is where an outbound message stands. The outbox moves a
// message queued → sending → sent (→ delivered | failed by a delivery
// report), or back to queued for a retry, or to one of the terminal refusals
// blocked (the decision no longer allowed it at dispatch) and dead (retries
// exhausted or a permanent provider error).
type MessageStatus string

// The message statuses.
const (
	MessageQueued    MessageStatus = "queued"
	MessageSending   MessageStatus = "sending"
	MessageSent      MessageStatus = "sent"
	MessageDelivered MessageStatus = "delivered"
	MessageFailed    MessageStatus = "failed"
	MessageBlocked   MessageStatus = "blocked"
	MessageDead      MessageStatus = "dead"
)

// Terminal reports whether the outbox is done with a message in status s:
// its sealed envelope is no longer needed.
func (s MessageStatus) Terminal() bool {
	switch s {
	case MessageQueued, MessageSending:
		return false
	}
	return true
}

// MessageKindSend marks a message sent through the API; replies carry their
// reply kind ("opt_out_confirmation", "help", ...) instead.
const MessageKindSend = "message"

// Message is one outbound message: metadata in clear, never the text or the
// recipient's address. Those travel in Sealed, an envelope encrypted with
// the contact's data key (or, for a recipient who is not a contact, with a
// per-message key in WrappedKey, itself wrapped by the tenant key), which
// the outbox drops once the message reaches a terminal status.
type Message struct {
	ID             string
	TenantID       string
	ContactID      string // empty when the recipient is not a contact
	Kind           string // MessageKindSend or a reply kind
	InboundID      string // replies: the inbound message answered; at most one reply per (tenant, inbound, kind)
	Purpose        string // empty for replies
	Channel        consent.Channel
	Sender         string
	RecipientKind  consent.IdentifierKind
	RecipientIndex []byte // blind index of the recipient's identifier (keyed hash)
	Status         MessageStatus
	// The decision the message was accepted on.
	Reason         consent.Reason
	Basis          consent.Basis
	ConsentEventID string
	BodyHash       []byte // HMAC of the text with the tenant's index key
	BodyLen        int
	Sealed         []byte
	WrappedKey     []byte
	IdempotencyKey string // empty when none was given
	RequestHash    []byte // digest of the request that carried IdempotencyKey
	Attempts       int
	// DueAt is when the outbox should look at the message next: the next
	// attempt while queued, the end of the lease while sending.
	DueAt       time.Time
	LeaseOwner  string
	ProviderRef string // the provider's id for the message
	LastError   string // a short error class, never personal data
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// MessageEvent is one step of a message's status timeline.
type MessageEvent struct {
	Seq       int64
	TenantID  string
	MessageID string
	Status    MessageStatus
	Detail    string // reason code or error class; never personal data
	At        time.Time
}

// MessageUpdate is the dispatcher's outcome for one message it leased. It
// applies only while LeaseOwner still holds the lease, so that a dispatcher
// whose lease expired cannot overwrite the work of the one that took over.
type MessageUpdate struct {
	TenantID    string
	ID          string
	LeaseOwner  string
	Status      MessageStatus
	DueAt       time.Time // next attempt, for a retry
	ProviderRef string
	LastError   string
	DropSealed  bool // forget the envelope (terminal statuses)
	At          time.Time
}

// MessageOutcome is one dispatcher outcome for MarkMessages: the update and
// the detail of the event it appends.
type MessageOutcome struct {
	Update *MessageUpdate
	Detail string // reason code or error class; never personal data
}

// ChannelProvider is how a tenant's messages on one channel reach a
// provider. Settings hold what is not secret (host, port, URL, account id)
// as JSON; the secret (password, token) is sealed with the tenant's key and
// never leaves the service in clear except to the channel adapter.
type ChannelProvider struct {
	TenantID     string
	Channel      consent.Channel
	Kind         string // "sink", "smtp", "http", "twilio"
	Settings     []byte
	SecretSealed []byte // nil when the provider needs none
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// MessageStore holds outbound messages, their timelines and the tenants'
// channel providers. It is embedded in Tx.
type MessageStore interface {
	// CreateMessage stores a message; ErrConflict when its id, or its
	// tenant's idempotency key, is taken.
	CreateMessage(ctx context.Context, m *Message) error
	// CreateMessages creates many messages, each as CreateMessage would in
	// a Unit of its own: errs[i] is message i's error (ErrConflict for a
	// taken id or idempotency key, also one taken by an earlier message of
	// the same call), a message that fails leaves no trace, the others are
	// created, and the transaction goes on. The group commit creates a
	// batch's messages with it (one statement on PostgreSQL).
	CreateMessages(ctx context.Context, ms []*Message) (errs []error)
	// CreateReply stores a reply unless the tenant already has a reply of
	// the same kind to the same inbound message, and reports whether it
	// stored it. The duplicate is not an error, so the call is safe inside
	// a caller's transaction on PostgreSQL, where a failed statement would
	// abort it.
	CreateReply(ctx context.Context, m *Message) (bool, error)
	GetMessage(ctx context.Context, tenantID, id string) (*Message, error)
	GetMessageByIdempotencyKey(ctx context.Context, tenantID, key string) (*Message, error)
	FindMessageByProviderRef(ctx context.Context, tenantID string, ch consent.Channel, ref string) (*Message, error)
	// CountMessagesSince counts the tenant's messages created at or after
	// since (the volume cap).
	CountMessagesSince(ctx context.Context, tenantID string, since time.Time) (int, error)
	// CountMessagesByStatus counts every tenant's messages by status.
	CountMessagesByStatus(ctx context.Context) (map[MessageStatus]int, error)

	AppendMessageEvent(ctx context.Context, e *MessageEvent) error
	// ListMessageEvents returns a message's timeline, oldest first.
	ListMessageEvents(ctx context.Context, tenantID, messageID string) ([]*MessageEvent, error)

	// ClaimMessages leases up to limit due messages of any tenant to owner
	// until the given time: queued messages whose attempt is due and
	// sending messages whose lease has run out (their dispatcher died).
	// Each claimed message has its Attempts counted up. On PostgreSQL
	// concurrent claimers skip each other's rows.
	ClaimMessages(ctx context.Context, owner string, now, until time.Time, limit int) ([]*Message, error)
	// UpdateMessage applies a dispatcher outcome; ErrNotFound when owner no
	// longer holds the lease.
	UpdateMessage(ctx context.Context, u *MessageUpdate) error
	// MarkMessages records many dispatcher outcomes: for each, what
	// UpdateMessage and then AppendMessageEvent (status, detail, time of the
	// update) would do. seqs[i] is the appended event's sequence number, or
	// 0 where owner no longer held the lease (nothing was written for it).
	// It is one statement on PostgreSQL, where the dispatcher would
	// otherwise spend two round trips per message.
	MarkMessages(ctx context.Context, outs []MessageOutcome) (seqs []int64, err error)
	// ReleaseMessages puts messages leased by owner but not attempted back
	// in the queue, due at now, without counting the attempt.
	ReleaseMessages(ctx context.Context, owner string, ids []string, now time.Time) error
	// SetDeliveryStatus records a provider's delivery report on a message
	// that was sent: sent → delivered or failed. ErrNotFound when the
	// message is not in a status a report may change.
	SetDeliveryStatus(ctx context.Context, tenantID, id string, st MessageStatus, at time.Time) error

	// PutChannelProvider creates or replaces the tenant's provider for a
	// channel.
	PutChannelProvider(ctx context.Context, p *ChannelProvider) error
	GetChannelProvider(ctx context.Context, tenantID string, ch consent.Channel) (*ChannelProvider, error)
	ListChannelProviders(ctx context.Context, tenantID string) ([]*ChannelProvider, error)
	DeleteChannelProvider(ctx context.Context, tenantID string, ch consent.Channel) error
}
