package service

import (
	"context"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/oklog/ulid/v2"
)

// MaxBatch is the most recipients one batch decision may carry.
const MaxBatch = 1000

// Recipient names whom a message would go to: exactly one of the fields.
type Recipient struct {
	Phone     string `json:"phone,omitempty"`
	Email     string `json:"email,omitempty"`
	WhatsApp  string `json:"whatsapp,omitempty"`
	ContactID string `json:"contact_id,omitempty"`
}

// DecisionInput asks whether a message may be sent.
type DecisionInput struct {
	To      Recipient `json:"to"`
	Channel string    `json:"channel"`
	Purpose string    `json:"purpose"`
}

// Decide answers one decision from the in-memory index; it never touches
// the database. It fails closed: when the index is not ready the answer is
// "not allowed" with reason "unavailable".
func (s *Service) Decide(ctx context.Context, pr auth.Principal, in DecisionInput) (consent.Decision, error) {
	if err := authorize(pr, auth.Decide); err != nil {
		return consent.Decision{}, err
	}
	return s.decide(ctx, pr, in)
}

// BatchItem is one answer of a batch: a decision, or the error that item
// had (the other items are still decided).
type BatchItem struct {
	Decision *consent.Decision `json:"decision,omitempty"`
	Error    *apperr.Error     `json:"-"`
}

// DecideBatch answers many decisions in one call, in input order.
func (s *Service) DecideBatch(ctx context.Context, pr auth.Principal, in []DecisionInput) ([]BatchItem, error) {
	if err := authorize(pr, auth.Decide); err != nil {
		return nil, err
	}
	if len(in) == 0 || len(in) > MaxBatch {
		return nil, apperr.New(apperr.InvalidRequest, "a batch holds 1-%d decisions", MaxBatch)
	}
	out := make([]BatchItem, len(in))
	for i, item := range in {
		d, err := s.decide(ctx, pr, item)
		if err != nil {
			out[i].Error = apperr.As(err)
			continue
		}
		out[i].Decision = &d
	}
	return out, nil
}

func (s *Service) decide(ctx context.Context, pr auth.Principal, in DecisionInput) (consent.Decision, error) {
	ch, err := consent.ParseChannel(in.Channel)
	if err != nil {
		return consent.Decision{}, apperr.Wrap(err, apperr.UnknownChannel, "unknown channel %q", in.Channel)
	}
	if s.index.Ready() && s.index.Purpose(pr.TenantID, in.Purpose) == nil {
		return consent.Decision{}, apperr.New(apperr.UnknownPurpose, "unknown purpose %q", in.Purpose)
	}
	kind, value, err := recipient(in.To, ch)
	if err != nil {
		return consent.Decision{}, err
	}
	now := s.now()
	if kind == "" {
		id, err := ulid.ParseStrict(value)
		if err != nil {
			return consent.Decision{}, apperr.New(apperr.InvalidRequest, "contact_id is not a valid id")
		}
		return s.index.DecideContact(pr.TenantID, id, in.Purpose, ch, now), nil
	}
	tk, err := s.tenantKeys(ctx, pr.TenantID)
	if err != nil {
		return consent.Decision{Reason: consent.ReasonUnavailable}, err
	}
	n, err := s.normalize(tk, kind, value)
	if err != nil {
		return consent.Decision{}, err
	}
	d, _ := s.index.DecideIdentifier(pr.TenantID, kind, n.forms, in.Purpose, ch, now)
	return d, nil
}

// recipient returns the identifier kind and value of to; kind is empty for
// a contact id. The identifier must be the kind the channel delivers to.
func recipient(to Recipient, ch consent.Channel) (consent.IdentifierKind, string, error) {
	var kind consent.IdentifierKind
	var value string
	n := 0
	for _, f := range []struct {
		k consent.IdentifierKind
		v string
	}{{consent.KindPhone, to.Phone}, {consent.KindEmail, to.Email}, {consent.KindWhatsApp, to.WhatsApp}, {"", to.ContactID}} {
		if f.v != "" {
			kind, value = f.k, f.v
			n++
		}
	}
	if n != 1 {
		return "", "", apperr.New(apperr.InvalidRequest, "to must name exactly one of phone, email, whatsapp, contact_id")
	}
	if kind != "" && kind != ch.IdentifierKind() {
		// WhatsApp is also reachable by a phone number: accept a phone for
		// it, but never an e-mail address for SMS and the like.
		if !(ch == consent.WhatsApp && kind == consent.KindPhone) {
			return "", "", apperr.New(apperr.InvalidRequest, "channel %s needs a %s identifier", ch, ch.IdentifierKind())
		}
	}
	return kind, value, nil
}
