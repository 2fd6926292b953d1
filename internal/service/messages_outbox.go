package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/consentgate/consentgate/internal/channel"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/vault"
	"github.com/oklog/ulid/v2"
)

// This file is the service's side of the outbox: the outbox leases rows and
// talks to adapters; everything that needs keys or the decision rule stays
// here, in the one place rules live.

// ReasonReply is the decision reason recorded on a reply: replies answer
// the person's own message (and confirm an opt-out), so no consent gate
// applies to them.
const ReasonReply consent.Reason = "reply"

// ErrErased is returned for a message whose recipient's data was erased
// (crypto-shredded) while it was queued: it can never be sent.
var ErrErased = errors.New("service: the recipient's data is erased")

// Recheck decides a queued message again, at dispatch time, from the
// in-memory index: an opt-out recorded since the message was accepted
// stops it. Replies pass: they are not marketing and confirm the very
// opt-out that would stop them.
func (s *Service) Recheck(m *store.Message) consent.Decision {
	if m.Kind != store.MessageKindSend {
		return consent.Decision{Allowed: true, Reason: ReasonReply}
	}
	now := s.now()
	if len(m.RecipientIndex) > 0 && m.RecipientKind != "" {
		return s.index.DecideStored(m.TenantID, m.RecipientKind, m.RecipientIndex, m.Purpose, m.Channel, now)
	}
	id, err := ulid.ParseStrict(m.ContactID)
	if err != nil {
		return consent.Decision{Reason: consent.ReasonUnknownContact}
	}
	return s.index.DecideContact(m.TenantID, id, m.Purpose, m.Channel, now)
}

// KeepsBody reports whether a sent message's sealed text is kept (its
// purpose says so) rather than deleted when the message is finished; the
// retention purge then deletes it when the tenant's message-body period
// ends. Replies and unknown purposes never keep theirs.
func (s *Service) KeepsBody(m *store.Message) bool {
	if m.Kind != store.MessageKindSend || m.Purpose == "" {
		return false
	}
	p := s.index.Purpose(m.TenantID, m.Purpose)
	return p != nil && p.KeepBodies
}

// OpenMessages unseals claimed messages for their adapters, reading each
// distinct contact's key once, in one read transaction. errs[i] is set for
// a message that cannot be opened (ErrErased when the contact was erased).
func (s *Service) OpenMessages(ctx context.Context, ms []*store.Message) (out []*channel.Message, errs []error, err error) {
	out, errs = make([]*channel.Message, len(ms)), make([]error, len(ms))
	wrapped := map[[2]string][]byte{}
	for _, m := range ms {
		if m.WrappedKey == nil && m.ContactID != "" {
			wrapped[[2]string{m.TenantID, m.ContactID}] = nil
		}
	}
	if len(wrapped) > 0 {
		if err := s.store.Read(ctx, func(tx store.Tx) error { return readContactKeys(ctx, tx, wrapped) }); err != nil {
			return nil, nil, err
		}
	}
	keys := map[[2]string]*vault.ContactKey{}
	for i, m := range ms {
		out[i], errs[i] = s.openMessage(ctx, m, wrapped, keys)
	}
	return out, errs, nil
}

// readContactKeys fills in the wrapped key of each (tenant, contact) in
// wrapped, with one ContactKeys call per tenant; one that does not exist
// keeps nil.
func readContactKeys(ctx context.Context, tx store.Tx, wrapped map[[2]string][]byte) error {
	byTenant := map[string][]string{}
	for k := range wrapped {
		byTenant[k[0]] = append(byTenant[k[0]], k[1])
	}
	for tn, ids := range byTenant {
		keys, err := tx.ContactKeys(ctx, tn, ids)
		if err != nil {
			return err
		}
		for id, key := range keys {
			wrapped[[2]string{tn, id}] = key
		}
	}
	return nil
}

func (s *Service) openMessage(ctx context.Context, m *store.Message, wrapped map[[2]string][]byte, keys map[[2]string]*vault.ContactKey) (*channel.Message, error) {
	if m.Sealed == nil {
		return nil, fmt.Errorf("service: message %s has no envelope", m.ID)
	}
	tk, err := s.tenantKeys(ctx, m.TenantID)
	if err != nil {
		return nil, err
	}
	var ck *vault.ContactKey
	if m.WrappedKey != nil {
		ck, err = vault.OpenContactKey(tk.keys, m.TenantID, messageKeyID(m.ID), m.WrappedKey)
	} else {
		k := [2]string{m.TenantID, m.ContactID}
		if ck = keys[k]; ck == nil {
			if ck, err = vault.OpenContactKey(tk.keys, m.TenantID, m.ContactID, wrapped[k]); err == nil {
				keys[k] = ck
			}
		}
	}
	if errors.Is(err, vault.ErrShredded) {
		return nil, ErrErased
	} else if err != nil {
		return nil, err
	}
	raw, err := ck.Open(envelopeField(m.ID), m.Sealed)
	if err != nil {
		return nil, err
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, fmt.Errorf("service: message %s: envelope: %w", m.ID, err)
	}
	return &channel.Message{ID: m.ID, Channel: m.Channel, From: m.Sender, To: env.To, Subject: env.Subject,
		Body: env.Body, Headers: env.Headers}, nil
}

// ProviderConfig returns the tenant's provider for a channel with its
// secret unsealed, for the outbox to build the adapter, and when it was last
// changed (so cached adapters are rebuilt). Without a configured provider it
// falls back to the node's default kind; store.ErrNotFound when there is
// none.
func (s *Service) ProviderConfig(ctx context.Context, tenantID string, ch consent.Channel) (channel.Config, time.Time, error) {
	var p *store.ChannelProvider
	err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		p, err = tx.GetChannelProvider(ctx, tenantID, ch)
		return err
	})
	if errors.Is(err, store.ErrNotFound) && s.sending != nil && s.sending.cfg.DefaultProvider != "" {
		return channel.Config{Kind: s.sending.cfg.DefaultProvider, Channel: ch}, time.Time{}, nil
	}
	if err != nil {
		return channel.Config{}, time.Time{}, err
	}
	cfg := channel.Config{Kind: p.Kind, Channel: ch, Settings: p.Settings}
	if p.SecretSealed != nil {
		tk, err := s.tenantKeys(ctx, tenantID)
		if err != nil {
			return channel.Config{}, time.Time{}, err
		}
		pt, err := openProviderSecret(tk, tenantID, ch, p.SecretSealed)
		if err != nil {
			return channel.Config{}, time.Time{}, err
		}
		cfg.Secret = pt
	}
	return cfg, p.UpdatedAt, nil
}

// ReplyMessage builds the outbox row of a reply to an inbound message, in
// the caller's transaction: the recipient is the contact's identifier for
// the channel, sealed with the text under the contact's key.
func (s *Service) ReplyMessage(ctx context.Context, tx store.Tx, r Reply) (*store.Message, error) {
	if r.TenantID == "" || (r.ContactID == "" && r.To == "") || r.InboundID == "" || r.Kind == "" || r.Body == "" || r.Sender == "" {
		return nil, errors.New("service: a reply needs tenant, contact or recipient, inbound id, kind, sender and body")
	}
	tk, err := s.tenantKeys(ctx, r.TenantID)
	if err != nil {
		return nil, err
	}
	now := s.now().Truncate(time.Microsecond) // what the store keeps, so a replay shows the same times
	m := &store.Message{ID: ulid.Make().String(), TenantID: r.TenantID, ContactID: r.ContactID, Kind: r.Kind, InboundID: r.InboundID,
		Channel: r.Channel, Sender: r.Sender, Status: store.MessageQueued, Reason: ReasonReply, DueAt: now,
		CreatedAt: now, UpdatedAt: now}
	env := envelope{Body: r.Body}
	var ck *vault.ContactKey
	if r.ContactID == "" {
		// Not a contact: a key of the reply's own, as for a contract
		// message to a non-contact (messages.go).
		if ck, m.WrappedKey, err = vault.NewContactKey(tk.keys, r.TenantID, messageKeyID(m.ID)); err != nil {
			return nil, err
		}
		env.To, m.RecipientKind, m.RecipientIndex = r.To, r.ToKind, r.ToBlindIndex
	} else {
		c, ids, err := tx.GetContact(ctx, r.TenantID, r.ContactID)
		if err != nil {
			return nil, err
		}
		if ck, err = vault.OpenContactKey(tk.keys, r.TenantID, c.ID, c.WrappedKey); err != nil {
			return nil, err
		}
		if err := s.addressOf(ck, ids, &prepared{ch: r.Channel}, m, &env); err != nil {
			return nil, err
		}
	}
	m.BodyLen = len(env.Body)
	m.BodyHash = tk.forms("message-body", env.Body).Stored()
	raw, _ := json.Marshal(env)
	if m.Sealed, err = ck.Seal(envelopeField(m.ID), raw); err != nil {
		return nil, err
	}
	return m, nil
}

// Kick wakes the dispatcher, for writers that queue messages in their own
// transactions (replies) once those have committed.
func (s *Service) Kick() {
	if s.sending != nil {
		s.sending.kick()
	}
}
