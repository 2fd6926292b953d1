package service

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/vault"
	"github.com/oklog/ulid/v2"
)

// Limits on what one message may carry.
const (
	maxBodyBytes    = 32 << 10
	maxSubjectBytes = 500
	maxIdemKeyLen   = 200
	// MaxMessageBatch is the most recipients one batch send may carry.
	MaxMessageBatch = 500
)

// SendInput is one message to send.
type SendInput struct {
	To      Recipient `json:"to"`
	Channel string    `json:"channel"`
	Purpose string    `json:"purpose"`
	Sender  string    `json:"sender"`
	Subject string    `json:"subject,omitempty"` // e-mail only
	Body    string    `json:"body"`
	// Template, instead of Body, names a message template to render with
	// parameters (templates.go); exactly one of the two is given.
	Template *TemplateRef `json:"template,omitempty"`
}

// MessageView is a message as the API shows it: metadata and timeline,
// never the address or the text.
type MessageView struct {
	ID         string              `json:"id"`
	Status     store.MessageStatus `json:"status"`
	Kind       string              `json:"kind"`
	ContactID  string              `json:"contact_id,omitempty"`
	Channel    consent.Channel     `json:"channel"`
	Purpose    string              `json:"purpose,omitempty"`
	Sender     string              `json:"sender"`
	Decision   consent.Decision    `json:"decision"`
	BodyHash   string              `json:"body_hash"`
	BodyLength int                 `json:"body_length"`
	Attempts   int                 `json:"attempts"`
	LastError  string              `json:"last_error,omitempty"`
	Timeline   []TimelineEntry     `json:"timeline,omitempty"`
	CreatedAt  time.Time           `json:"created_at"`
	UpdatedAt  time.Time           `json:"updated_at"`
}

// TimelineEntry is one step of a message's status timeline.
type TimelineEntry struct {
	Status store.MessageStatus `json:"status"`
	Detail string              `json:"detail,omitempty"`
	At     time.Time           `json:"at"`
}

func viewMessage(m *store.Message, evs []*store.MessageEvent) MessageView {
	v := MessageView{ID: m.ID, Status: m.Status, Kind: m.Kind, ContactID: m.ContactID, Channel: m.Channel,
		Purpose: m.Purpose, Sender: m.Sender, BodyHash: hex.EncodeToString(m.BodyHash), BodyLength: m.BodyLen,
		Attempts: m.Attempts, LastError: m.LastError, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt,
		Decision: consent.Decision{Allowed: true, Reason: m.Reason, Basis: m.Basis, EventID: m.ConsentEventID}}
	// The timeline starts with the acceptance, which the row itself
	// records (with the decision); the outbox appends each step after it.
	v.Timeline = append(v.Timeline, TimelineEntry{Status: store.MessageQueued, Detail: string(m.Reason), At: m.CreatedAt})
	for _, e := range evs {
		v.Timeline = append(v.Timeline, TimelineEntry{Status: e.Status, Detail: e.Detail, At: e.At})
	}
	return v
}

// envelope is what a message row keeps sealed while the message is queued:
// everything personal the adapter needs.
type envelope struct {
	To      string            `json:"to"`
	Subject string            `json:"subject,omitempty"`
	Body    string            `json:"body"`
	Headers map[string]string `json:"headers,omitempty"`
}

// prepared is a validated send, ready to be written.
type prepared struct {
	in       SendInput
	ch       consent.Channel
	purpose  *consent.Purpose
	kind     consent.IdentifierKind // "" when addressed by contact id
	value    string                 // normalised identifier, or the contact id
	bi       []byte                 // stored form of the recipient's blind index
	contact  string                 // contact id when the recipient is a contact
	decision consent.Decision
	reqHash  []byte      // stored form of the request's keyed digest
	reqForms vault.Forms // and its forms to compare a stored one with
	idemKey  string
}

// SendMessage decides and, when allowed, queues one message. The message
// is sealed outside the write; its row — which records the decision it was
// accepted on and is the first step of its timeline — is written in one
// unit of the group commit, and the dispatcher is woken once it is durable.
// A repeated Idempotency-Key returns the first result and sends nothing
// new; the bool reports whether this call queued the message.
func (s *Service) SendMessage(ctx context.Context, pr auth.Principal, in SendInput, idemKey string) (MessageView, bool, error) {
	if err := authorize(pr, auth.MessagesSend); err != nil {
		return MessageView{}, false, err
	}
	if len(idemKey) > maxIdemKeyLen {
		return MessageView{}, false, apperr.New(apperr.InvalidRequest, "Idempotency-Key is longer than %d characters", maxIdemKeyLen)
	}
	p, err := s.prepareSend(ctx, pr, in, idemKey)
	if err != nil {
		return MessageView{}, false, err
	}
	if p.idemKey != "" {
		if v, ok, err := s.replay(ctx, pr, p); ok || err != nil {
			return v, false, err
		}
	}
	if !p.decision.Allowed {
		return MessageView{}, false, notPermitted(p.decision)
	}
	var m *store.Message
	if err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		m, err = s.sealMessage(ctx, tx, pr, p)
		return err
	}); err != nil {
		return MessageView{}, false, storeErr(err, "message")
	}
	release, err := s.sending.admit(ctx, s, pr.TenantID, in.Sender, 1)
	if err != nil {
		return MessageView{}, false, err
	}
	err = s.commit.doMessage(ctx, m)
	release(err == nil)
	if errors.Is(err, errIdemTaken) {
		v, _, err := s.replay(ctx, pr, p)
		return v, false, err
	}
	if err != nil {
		return MessageView{}, false, storeErr(err, "message")
	}
	s.sending.kick()
	return viewMessage(m, nil), true, nil
}

// errIdemTaken reports that another request with the same idempotency key
// committed first.
var errIdemTaken = errors.New("service: idempotency key taken")

func notPermitted(d consent.Decision) error {
	if d.Reason == consent.ReasonUnavailable {
		// The gateway could not decide (index not ready): fail closed, as
		// an outage and not as a verdict on the message.
		return apperr.New(apperr.Unavailable, "the gateway cannot decide right now; nothing was sent")
	}
	e := apperr.New(apperr.NotPermitted, "the message may not be sent: %s", d.Reason)
	e.Details = map[string]any{"decision": d}
	return e
}

// replay answers a repeated Idempotency-Key with the message the first
// request made. The same key with another request is refused, so that a
// client bug cannot make one message stand for two.
func (s *Service) replay(ctx context.Context, pr auth.Principal, p *prepared) (MessageView, bool, error) {
	var m *store.Message
	var evs []*store.MessageEvent
	err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		if m, err = tx.GetMessageByIdempotencyKey(ctx, pr.TenantID, p.idemKey); err != nil {
			return err
		}
		evs, err = tx.ListMessageEvents(ctx, pr.TenantID, m.ID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return MessageView{}, false, nil
	}
	if err != nil {
		return MessageView{}, true, storeErr(err, "message")
	}
	if !p.reqForms.Matches(m.RequestHash) {
		return MessageView{}, true, apperr.New(apperr.IdempotencyReused, "this Idempotency-Key was used for a different request")
	}
	return viewMessage(m, evs), true, nil
}

// prepareSend validates a send and decides it from the index; it writes
// nothing.
func (s *Service) prepareSend(ctx context.Context, pr auth.Principal, in SendInput, idemKey string) (*prepared, error) {
	if s.sending == nil {
		return nil, apperr.New(apperr.Unavailable, "sending is not configured on this node")
	}
	ch, err := consent.ParseChannel(in.Channel)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.UnknownChannel, "unknown channel %q", in.Channel)
	}
	if err := checkContent(ch, in); err != nil {
		return nil, err
	}
	p := &prepared{in: in, ch: ch, idemKey: idemKey}
	if p.purpose = s.index.Purpose(pr.TenantID, in.Purpose); p.purpose == nil {
		if !s.index.Ready() {
			return nil, apperr.New(apperr.Unavailable, "the decision index is not ready; nothing was sent")
		}
		return nil, apperr.New(apperr.UnknownPurpose, "unknown purpose %q", in.Purpose)
	}
	if !p.purpose.Allows(ch) {
		return nil, apperr.New(apperr.ChannelNotAllowed, "purpose %q does not use channel %s", p.purpose.Key, ch)
	}
	if p.purpose.Category == consent.Marketing && ch == consent.Email && s.sending.cfg.PublicURL == "" {
		// RFC 8058 needs a link people can reach; without one the gateway
		// cannot offer the unsubscribe marketing e-mail must carry.
		return nil, apperr.New(apperr.ChannelNotReady, "marketing e-mail needs the gateway's public URL (--public-url) for unsubscribe links")
	}
	kind, value, err := recipient(in.To, ch)
	if err != nil {
		return nil, apperr.New(apperr.InvalidIdentifier, "%s", apperr.As(err).Message)
	}
	now := s.now()
	if kind == "" {
		id, err := ulid.ParseStrict(value)
		if err != nil {
			return nil, apperr.New(apperr.InvalidIdentifier, "contact_id is not a valid id")
		}
		p.value, p.contact = id.String(), id.String()
		p.decision = s.index.DecideContact(pr.TenantID, id, p.purpose.Key, ch, now)
	} else {
		tk, err := s.tenantKeys(ctx, pr.TenantID)
		if err != nil {
			return nil, err
		}
		n, err := s.normalize(tk, kind, value)
		if err != nil {
			return nil, err
		}
		var who ulid.ULID
		p.kind, p.value, p.bi = kind, n.value, n.forms.Stored()
		p.decision, who = s.index.DecideIdentifier(pr.TenantID, kind, n.forms, p.purpose.Key, ch, now)
		if who != (ulid.ULID{}) {
			p.contact = who.String()
		}
	}
	if idemKey != "" {
		// The digest binds the key to what was asked. It is keyed (the
		// tenant's index key), because a plain hash of a request that names
		// a phone number could be reversed by trying every number.
		tk, err := s.tenantKeys(ctx, pr.TenantID)
		if err != nil {
			return nil, err
		}
		raw, _ := json.Marshal(in)
		p.reqForms = tk.forms("idempotency-request", string(raw))
		p.reqHash = p.reqForms.Stored()
	}
	return p, nil
}

// checkContent refuses what no channel adapter could send faithfully, and
// header injection through the subject or sender.
func checkContent(ch consent.Channel, in SendInput) error {
	if in.Template != nil {
		switch {
		case in.Body != "":
			return apperr.New(apperr.InvalidRequest, "give either body or template, not both")
		case in.Subject != "":
			return apperr.New(apperr.InvalidRequest, "a templated message takes its subject from the template")
		}
		if err := checkTemplateRef(in.Template); err != nil {
			return err
		}
		// The rendered text is checked like a body once it exists
		// (sealMessage); here only what the template does not decide.
		in.Body = "-"
	}
	switch {
	case in.Body == "":
		return apperr.New(apperr.InvalidMessage, "body is required")
	case len(in.Body) > maxBodyBytes:
		return apperr.New(apperr.InvalidMessage, "body is longer than %d bytes", maxBodyBytes)
	case !utf8.ValidString(in.Body) || !utf8.ValidString(in.Subject) || !utf8.ValidString(in.Sender):
		return apperr.New(apperr.InvalidMessage, "body, subject and sender must be UTF-8")
	case in.Sender == "" || len(in.Sender) > 254 || strings.ContainsAny(in.Sender, "\r\n\x00"):
		return apperr.New(apperr.SenderNotAllowed, "sender must be a registered sender address")
	case strings.ContainsAny(in.Subject, "\r\n\x00") || len(in.Subject) > maxSubjectBytes:
		return apperr.New(apperr.InvalidMessage, "subject must be one line of at most %d bytes", maxSubjectBytes)
	case in.Subject != "" && ch != consent.Email:
		return apperr.New(apperr.InvalidMessage, "only e-mail messages have a subject")
	}
	return nil
}

// sealMessage builds the message row outside the write transaction (the
// single SQLite writer is the scarce resource): it checks the sender and
// the channel's provider, resolves the recipient's address and seals it
// with the text. Reading the contact here rather than in the write is safe:
// a contact erased in between leaves a message sealed under a destroyed
// key, which the dispatcher can only block.
func (s *Service) sealMessage(ctx context.Context, tx store.Tx, pr auth.Principal, p *prepared) (*store.Message, error) {
	if err := s.checkSender(ctx, tx, pr.TenantID, p.ch, p.in.Sender, p.purpose.Key); err != nil {
		return nil, err
	}
	if err := s.checkProvider(ctx, tx, pr.TenantID, p.ch); err != nil {
		return nil, err
	}
	tk, err := s.tenantKeys(ctx, pr.TenantID)
	if err != nil {
		return nil, err
	}
	now := s.now().Truncate(time.Microsecond) // what the store keeps, so a replay shows the same times
	m := &store.Message{ID: ulid.Make().String(), TenantID: pr.TenantID, ContactID: p.contact, Kind: store.MessageKindSend,
		Purpose: p.purpose.Key, Channel: p.ch, Sender: p.in.Sender, RecipientKind: p.kind, RecipientIndex: p.bi,
		Status: store.MessageQueued, Reason: p.decision.Reason, Basis: p.decision.Basis, ConsentEventID: p.decision.EventID,
		IdempotencyKey: p.idemKey, RequestHash: p.reqHash, DueAt: now, CreatedAt: now, UpdatedAt: now}
	env := envelope{To: p.value, Subject: p.in.Subject}
	var ck *vault.ContactKey
	locale := ""
	if p.contact != "" {
		c, ids, err := tx.GetContact(ctx, pr.TenantID, p.contact)
		if err != nil {
			return nil, storeErr(err, "contact")
		}
		if ck, err = vault.OpenContactKey(tk.keys, pr.TenantID, c.ID, c.WrappedKey); err != nil {
			return nil, apperr.Wrap(err, apperr.NotPermitted, "the contact's data is erased or unreadable")
		}
		locale = c.Locale
		if p.kind == "" {
			if err := s.addressOf(ck, ids, p, m, &env); err != nil {
				return nil, err
			}
		}
	} else {
		// A recipient who is not a contact (allowed for contract and legal
		// obligation purposes) gets a key of the message's own, wrapped by
		// the tenant key: creating a contact here would invent a customer
		// relationship that legitimate-interest decisions rely on.
		if ck, m.WrappedKey, err = vault.NewContactKey(tk.keys, pr.TenantID, messageKeyID(m.ID)); err != nil {
			return nil, err
		}
	}
	body := p.in.Body
	if ref := p.in.Template; ref != nil {
		// Rendered here, where the contact's locale is known; the text
		// then takes exactly the path of a body. Only the sealed envelope
		// holds it: the parameters are not kept anywhere.
		if env.Subject, body, err = renderFor(ctx, tx, pr.TenantID, p.ch, ref, locale); err != nil {
			return nil, err
		}
		if err := checkContent(p.ch, SendInput{Sender: p.in.Sender, Subject: env.Subject, Body: body}); err != nil {
			return nil, err
		}
	}
	env.Body, env.Headers = s.withOptOut(tk, m, p.purpose, body, locale)
	m.BodyLen = len(env.Body)
	m.BodyHash = tk.forms("message-body", env.Body).Stored()
	raw, err := json.Marshal(env)
	if err != nil {
		return nil, err
	}
	if m.Sealed, err = ck.Seal(envelopeField(m.ID), raw); err != nil {
		return nil, err
	}
	return m, nil
}

// writeMessage runs inside a unit of the group commit. The row is the
// durable record of the message and of the decision it was accepted on; a
// taken idempotency key (the unique index) means another request with the
// same key committed first.
func writeMessage(ctx context.Context, tx store.Tx, m *store.Message) error {
	err := tx.CreateMessage(ctx, m)
	if errors.Is(err, store.ErrConflict) && m.IdempotencyKey != "" {
		return errIdemTaken
	}
	return err
}

// writeMessages is writeMessage for many messages, each on its own, in
// one call (store.Tx CreateMessages: one statement on PostgreSQL).
func writeMessages(ctx context.Context, tx store.Tx, ms []*store.Message) []error {
	errs := tx.CreateMessages(ctx, ms)
	for i, err := range errs {
		if errors.Is(err, store.ErrConflict) && ms[i].IdempotencyKey != "" {
			errs[i] = errIdemTaken
		}
	}
	return errs
}

// addressOf picks the contact's identifier of the kind the channel
// delivers to, for a message addressed by contact id.
func (s *Service) addressOf(ck *vault.ContactKey, ids []store.Identifier, p *prepared, m *store.Message, env *envelope) error {
	want := p.ch.IdentifierKind()
	i := slices.IndexFunc(ids, func(id store.Identifier) bool { return id.Kind == want })
	if i < 0 && p.ch == consent.WhatsApp {
		want = consent.KindPhone
		i = slices.IndexFunc(ids, func(id store.Identifier) bool { return id.Kind == want })
	}
	if i < 0 {
		return apperr.New(apperr.InvalidIdentifier, "the contact has no %s identifier for channel %s", p.ch.IdentifierKind(), p.ch)
	}
	pt, err := ck.Open(string(ids[i].Kind), ids[i].Sealed)
	if err != nil {
		return apperr.Wrap(err, apperr.Internal, "the contact's identifier is unreadable")
	}
	env.To, m.RecipientKind, m.RecipientIndex = string(pt), want, ids[i].BlindIndex
	return nil
}

// messageKeyID names the data key of a message whose recipient is not a
// contact; the vault binds the key to it.
func messageKeyID(id string) string { return "message:" + id }

func envelopeField(id string) string { return "message/" + id }

// checkSender requires the sender to be one of the tenant's registered
// sender addresses on the channel and, when the sender lists purposes, to
// carry this one (DESIGN §4: a sender lists the purposes it carries).
func (s *Service) checkSender(ctx context.Context, tx store.Tx, tenantID string, ch consent.Channel, addr, purpose string) error {
	for _, cand := range senderCandidates(s.norm, ch, addr) {
		snd, err := tx.FindSender(ctx, ch, cand)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if snd.TenantID != tenantID {
			break // another tenant's address is as unknown as no address
		}
		if len(snd.Purposes) > 0 && !slices.Contains(snd.Purposes, purpose) {
			return apperr.New(apperr.SenderNotAllowed, "sender %q does not carry purpose %q", addr, purpose)
		}
		return nil
	}
	return apperr.New(apperr.SenderNotAllowed, "sender %q is not registered for channel %s", addr, ch)
}

// senderCandidates lists the normalised forms a sender address may be
// registered under: E.164 for numbers, digits for short codes, upper case
// for alphanumeric ids, the lower-case domain for an e-mail address.
func senderCandidates(norm consent.Normalizer, ch consent.Channel, addr string) []string {
	a := strings.TrimSpace(addr)
	if ch == consent.Email {
		if at := strings.LastIndexByte(a, '@'); at >= 0 {
			a = a[at+1:]
		}
		return []string{strings.ToLower(strings.Trim(a, "<> "))}
	}
	out := []string{a}
	if e164, err := norm.Normalize(consent.KindPhone, a); err == nil {
		out = append(out, e164)
	}
	return append(out, strings.ToUpper(a))
}

// checkProvider refuses a channel nobody can carry, at the door rather than
// as a dead letter later.
func (s *Service) checkProvider(ctx context.Context, tx store.Tx, tenantID string, ch consent.Channel) error {
	if s.sending.cfg.DefaultProvider != "" {
		return nil
	}
	if _, err := tx.GetChannelProvider(ctx, tenantID, ch); errors.Is(err, store.ErrNotFound) {
		return apperr.New(apperr.ChannelNotReady, "no provider is configured for channel %s", ch)
	} else if err != nil {
		return err
	}
	return nil
}

// GetMessage returns a message's metadata and timeline. Another tenant's
// message is not found.
func (s *Service) GetMessage(ctx context.Context, pr auth.Principal, id string) (MessageView, error) {
	if err := authorize(pr, auth.MessagesRead); err != nil {
		return MessageView{}, err
	}
	var m *store.Message
	var evs []*store.MessageEvent
	err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		if m, err = tx.GetMessage(ctx, pr.TenantID, id); err != nil {
			return err
		}
		evs, err = tx.ListMessageEvents(ctx, pr.TenantID, id)
		return err
	})
	if err != nil {
		return MessageView{}, storeErr(err, "message")
	}
	return viewMessage(m, evs), nil
}
