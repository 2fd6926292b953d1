package store

import (
	"context"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
)

// InboundStore holds what answering inbound messages needs: the tenant's
// sender addresses (which route a message to its tenant), keyword rules,
// webhook secrets, reply templates and profile, the record of each inbound
// message (which makes webhooks idempotent), what the last STOP withdrew
// (so that START can restore it) and the forwards of conversation to the
// tenant's own webhook. It is embedded in Tx.
type InboundStore interface {
	// CreateSender stores a sender; ErrConflict when the (channel,
	// address) is already registered, by any tenant: routing needs it to
	// be unique.
	CreateSender(ctx context.Context, s *Sender) error
	GetSender(ctx context.Context, tenantID, id string) (*Sender, error)
	ListSenders(ctx context.Context, tenantID string) ([]*Sender, error)
	// FindSender is the routing lookup. It is the one query not filtered
	// by tenant, because the tenant is what it finds.
	FindSender(ctx context.Context, ch consent.Channel, address string) (*Sender, error)

	// CreateKeywordRule stores a rule; ErrConflict on the same phrase and
	// language twice.
	CreateKeywordRule(ctx context.Context, r *KeywordRule) error
	ListKeywordRules(ctx context.Context, tenantID string) ([]*KeywordRule, error)
	DeleteKeywordRule(ctx context.Context, tenantID, id string) error

	// PutWebhookSecret creates or replaces the tenant's secret for a
	// provider.
	PutWebhookSecret(ctx context.Context, s *WebhookSecret) error
	GetWebhookSecret(ctx context.Context, tenantID, provider string) (*WebhookSecret, error)
	ListWebhookSecrets(ctx context.Context, tenantID string) ([]*WebhookSecret, error)

	// CreateInboundMessage records an inbound message; ErrConflict when
	// (tenant, channel, provider id) was seen before: a provider's retry.
	CreateInboundMessage(ctx context.Context, m *InboundMessage) error
	GetInboundMessage(ctx context.Context, tenantID string, ch consent.Channel, providerID string) (*InboundMessage, error)

	// PutKeywordStop replaces what the last STOP of a contact on a channel
	// withdrew.
	PutKeywordStop(ctx context.Context, s *KeywordStop) error
	GetKeywordStop(ctx context.Context, tenantID, contactID string, ch consent.Channel) (*KeywordStop, error)
	DeleteKeywordStop(ctx context.Context, tenantID, contactID string, ch consent.Channel) error

	PutTenantProfile(ctx context.Context, p *TenantProfile) error
	GetTenantProfile(ctx context.Context, tenantID string) (*TenantProfile, error)

	// PutReplyTemplate creates or replaces the tenant's template for
	// (kind, language).
	PutReplyTemplate(ctx context.Context, t *ReplyTemplate) error
	ListReplyTemplates(ctx context.Context, tenantID string) ([]*ReplyTemplate, error)
	DeleteReplyTemplate(ctx context.Context, tenantID, kind, language string) error

	// PutForwardTarget creates or replaces where the tenant's conversation
	// goes.
	PutForwardTarget(ctx context.Context, f *ForwardTarget) error
	GetForwardTarget(ctx context.Context, tenantID string) (*ForwardTarget, error)
	CreateForward(ctx context.Context, f *Forward) error
	// DueForwards returns up to limit forwards of any tenant whose next
	// attempt is due at now, oldest first.
	DueForwards(ctx context.Context, now time.Time, limit int) ([]*Forward, error)
	// RetryForward records a failed attempt and when to try again.
	RetryForward(ctx context.Context, tenantID, id string, attempts int, next time.Time, lastError string) error
	// DeleteForward removes a delivered (or abandoned) forward, and with
	// it the sealed body.
	DeleteForward(ctx context.Context, tenantID, id string) error
}

// Sender kinds: what a tenant's sending address is.
const (
	SenderShortCode    = "short_code"
	SenderLongNumber   = "long_number"
	SenderAlphanumeric = "alphanumeric"
	SenderEmailDomain  = "email_domain"
	SenderWhatsApp     = "whatsapp_number"
)

// Sender is an address a tenant sends from on a channel, with the purposes
// it carries. Addresses belong to the business, not to a person, and are
// kept in clear.
type Sender struct {
	ID        string
	TenantID  string
	Channel   consent.Channel
	Kind      string
	Address   string // normalised: E.164, digits of a short code, upper-case alphanumeric id, lower-case domain
	Purposes  []string
	CreatedAt time.Time
}

// KeywordRule is a tenant's keyword, such as "STOP NEWS" for one purpose.
type KeywordRule struct {
	ID        string
	TenantID  string
	Phrase    string
	Intent    string
	Action    string
	Scope     string
	Language  string
	CreatedAt time.Time
}

// WebhookSecret is the secret that authenticates a provider's webhooks for
// a tenant, sealed with the tenant's key. The previous secret stays valid
// for a grace period after a rotation, so that deliveries signed before the
// provider was updated still pass.
type WebhookSecret struct {
	TenantID       string
	Provider       string // "generic", "twilio", "whatsapp"
	Sealed         []byte
	PreviousSealed []byte // nil when none
	Hint           string // first characters of a generated secret; empty for a provider's own
	RotatedAt      time.Time
	CreatedAt      time.Time
}

// InboundMessage records one inbound message: enough to answer a retry and
// to prove what was acted on, never the text. The sender's identifier is
// kept only as its blind index; the text as a keyed hash and its length.
type InboundMessage struct {
	ID         string
	TenantID   string
	Channel    consent.Channel
	ProviderID string
	SenderID   string
	ContactID  string // empty when the number is unknown and nothing was recorded
	FromIndex  []byte // blind index of the sender's identifier
	TextHash   []byte // HMAC of the text with the tenant's index key
	TextLen    int
	Keyword    string // canonical keyword, empty for conversation
	Action     string
	Scope      string
	Language   string
	Outcome    string // what the gateway did: "opt_out", "opt_in", "pending", "help", "forwarded", "ignored"
	ReceivedAt time.Time
	RecordedAt time.Time
}

// StopItem is one consent a STOP withdrew, with the state it had, so that
// START can put it back exactly.
type StopItem struct {
	Purpose   string         `json:"purpose"`
	Status    consent.Status `json:"status"`
	Confirmed bool           `json:"confirmed"`
	ExpiresAt time.Time      `json:"expires_at,omitzero"`
}

// KeywordStop is what the last STOP of a contact on a channel withdrew.
type KeywordStop struct {
	TenantID  string
	ContactID string
	Channel   consent.Channel
	InboundID string
	Items     []StopItem
	CreatedAt time.Time
}

// TenantProfile is what HELP replies and notices say about the controller.
type TenantProfile struct {
	TenantID         string
	ControllerName   string
	PrivacyNoticeURL string
	DPOName          string
	DPOEmail         string // a role address of the controller, not a data subject's
	UpdatedAt        time.Time
}

// ReplyTemplate overrides the built-in text of one reply kind in one
// language.
type ReplyTemplate struct {
	TenantID  string
	Kind      string
	Language  string
	Body      string
	UpdatedAt time.Time
}

// ForwardTarget is the tenant's own webhook for conversation (messages that
// are not keywords) and the sealed secret that signs what is sent to it.
type ForwardTarget struct {
	TenantID     string
	URL          string
	SecretSealed []byte
	UpdatedAt    time.Time
}

// Forward is one inbound message waiting to be delivered to the tenant's
// webhook. The body holds the text and the sender's identifier, so it is
// sealed with the tenant's key and deleted once delivered.
type Forward struct {
	ID          string
	TenantID    string
	InboundID   string
	BodySealed  []byte
	Attempts    int
	NextAttempt time.Time
	LastError   string
	CreatedAt   time.Time
}
