package service

import (
	"context"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
)

// Reply is a message the gateway sends on its own account in answer to an
// inbound message: an opt-out or opt-in confirmation, a double opt-in
// request, a HELP answer. Replies are not marketing and are never blocked by
// the opt-out they confirm; there is at most one per inbound message.
type Reply struct {
	TenantID  string
	ContactID string
	Channel   consent.Channel
	Sender    string // the tenant's sender address the inbound message was sent to; the reply goes out from it
	Kind      string // "opt_out_confirmation", "opt_in_confirmation", "double_opt_in_request", "help"
	Body      string
	Language  string // ISO 639-1 of Body
	InboundID string // provider message id of the inbound message (idempotency key)

	// For a sender who is not a contact (a HELP from an unknown number),
	// ContactID is empty and the reply goes to this normalised identifier;
	// it is sealed under a key of the reply's own, never stored in clear,
	// and no contact is created just to answer.
	To           string
	ToKind       consent.IdentifierKind
	ToBlindIndex []byte
}

// ReplyQueue queues a reply for delivery in the same transaction as the
// consent change it confirms, so that either both happen or neither does.
// The outbox implements it.
type ReplyQueue interface {
	QueueReply(ctx context.Context, tx store.Tx, r Reply) error
}

// SetReplyQueue sets where replies go. It is called once at start-up,
// before the service handles requests.
func (s *Service) SetReplyQueue(q ReplyQueue) { s.replies = q }
