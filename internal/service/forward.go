package service

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/inbound"
	"github.com/consentgate/consentgate/internal/periodic"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/vault"
	"github.com/oklog/ulid/v2"
)

// Forwarding: messages that are not keywords are conversation, and go on to
// the tenant's own webhook, signed the Standard Webhooks way with a secret
// the gateway makes. They wait in a durable table, sealed, until delivered
// (then deleted) or given up after forwardMaxAttempts.
const (
	forwardMaxAttempts = 12 // 10 s doubling, capped at an hour: about half a day
	forwardBatch       = 50
	forwardTimeout     = 10 * time.Second
)

// ForwardTargetInput sets the tenant's webhook for conversation.
type ForwardTargetInput struct {
	URL string `json:"url"`
}

// ForwardTargetView describes it; Secret is shown once, when set.
type ForwardTargetView struct {
	URL       string    `json:"url"`
	Secret    string    `json:"secret,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

func forwardSecretAAD(tenantID string) []byte {
	return []byte("consentgate/forward-secret/v1|" + tenantID)
}

func forwardBodyAAD(tenantID, id string) []byte {
	return []byte("consentgate/forward-body/v1|" + tenantID + "|" + id)
}

// PutForwardTarget sets where conversation goes and makes a new signing
// secret, returned once.
func (s *Service) PutForwardTarget(ctx context.Context, pr auth.Principal, in ForwardTargetInput) (ForwardTargetView, error) {
	if err := authorize(pr, auth.WebhooksManage); err != nil {
		return ForwardTargetView{}, err
	}
	u, err := url.Parse(in.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(in.URL) > 500 || u.User != nil {
		return ForwardTargetView{}, apperr.New(apperr.InvalidRequest, "url must be an http(s) URL of at most 500 characters, without credentials")
	}
	tk, err := s.tenantKeys(ctx, pr.TenantID)
	if err != nil {
		return ForwardTargetView{}, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return ForwardTargetView{}, err
	}
	sealed, err := vault.Seal(tk.keys.Enc, key, forwardSecretAAD(pr.TenantID))
	if err != nil {
		return ForwardTargetView{}, err
	}
	ft := &store.ForwardTarget{TenantID: pr.TenantID, URL: in.URL, SecretSealed: sealed, UpdatedAt: s.now()}
	if err := s.commit.do(ctx, func(tx store.Tx) error { return tx.PutForwardTarget(ctx, ft) },
		func() { s.inbound.dropTarget(pr.TenantID) }); err != nil {
		return ForwardTargetView{}, storeErr(err, "forwarding target")
	}
	return ForwardTargetView{URL: ft.URL, Secret: inbound.FormatSecret(key), UpdatedAt: ft.UpdatedAt}, nil
}

// GetForwardTarget describes the tenant's webhook for conversation.
func (s *Service) GetForwardTarget(ctx context.Context, pr auth.Principal) (ForwardTargetView, error) {
	if err := authorize(pr, auth.WebhooksManage); err != nil {
		return ForwardTargetView{}, err
	}
	var ft *store.ForwardTarget
	if err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		ft, err = tx.GetForwardTarget(ctx, pr.TenantID)
		return err
	}); err != nil {
		return ForwardTargetView{}, storeErr(err, "forwarding target")
	}
	return ForwardTargetView{URL: ft.URL, UpdatedAt: ft.UpdatedAt}, nil
}

// ForwardedMessage is what the tenant's webhook receives.
type ForwardedMessage struct {
	Type       string    `json:"type"` // "inbound.message"
	InboundID  string    `json:"inbound_id"`
	ProviderID string    `json:"provider_id"`
	Channel    string    `json:"channel"`
	SenderID   string    `json:"sender_id"`
	To         string    `json:"to"`
	From       string    `json:"from"`
	ContactID  string    `json:"contact_id,omitempty"`
	Text       string    `json:"text"`
	ReceivedAt time.Time `json:"received_at"`
}

// forward queues the message for the tenant's webhook; false when the
// tenant has none (the text is then dropped: it is not the gateway's to keep).
func (j *inboundJob) forward(tx store.Tx) (bool, error) {
	tenantID := j.sn.TenantID
	if _, err := tx.GetForwardTarget(j.ctx, tenantID); errors.Is(err, store.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	body, err := json.Marshal(ForwardedMessage{Type: "inbound.message", InboundID: j.im.ID, ProviderID: j.msg.ProviderID,
		Channel: string(j.msg.Channel), SenderID: j.sn.ID, To: j.sn.Address, From: j.from.value, ContactID: j.im.ContactID,
		Text: j.msg.Text, ReceivedAt: j.received})
	if err != nil {
		return false, err
	}
	f := &store.Forward{ID: ulid.Make().String(), TenantID: tenantID, InboundID: j.im.ID, NextAttempt: j.s.now(), CreatedAt: j.s.now()}
	if f.BodySealed, err = vault.Seal(j.tk.keys.Enc, body, forwardBodyAAD(tenantID, f.ID)); err != nil {
		return false, err
	}
	return true, tx.CreateForward(j.ctx, f)
}

// DeliverForwards makes one pass over the due forwards, conversation and
// then status events (forward_status.go), and returns how many were
// delivered. The worker calls it; tests call it directly.
func (s *Service) DeliverForwards(ctx context.Context, client *http.Client) (int, error) {
	n, err := s.deliverInbound(ctx, client)
	if err != nil {
		return n, err
	}
	m, err := s.deliverStatuses(ctx, client)
	return n + m, err
}

func (s *Service) deliverInbound(ctx context.Context, client *http.Client) (int, error) {
	var due []*store.Forward
	if err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		due, err = tx.DueForwards(ctx, s.now(), forwardBatch)
		return err
	}); err != nil {
		return 0, err
	}
	n := 0
	for _, f := range due {
		err := s.deliverForward(ctx, client, f)
		if err == nil {
			n++
			continue
		}
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		attempts := f.Attempts + 1
		s.log.Warn("forward to the tenant's webhook failed", "tenant", f.TenantID, "forward", f.ID, "inbound", f.InboundID,
			"attempt", attempts, "err", err)
		werr := s.commit.do(ctx, func(tx store.Tx) error {
			if attempts >= forwardMaxAttempts || errors.Is(err, errNoTarget) {
				return tx.DeleteForward(ctx, f.TenantID, f.ID)
			}
			backoff := min(10*time.Second<<attempts, time.Hour)
			return tx.RetryForward(ctx, f.TenantID, f.ID, attempts, s.now().Add(backoff), truncate(err.Error(), 200))
		}, nil)
		if werr != nil {
			return n, werr
		}
	}
	return n, nil
}

var errNoTarget = errors.New("the tenant has no forwarding target any more")

func (s *Service) deliverForward(ctx context.Context, client *http.Client, f *store.Forward) error {
	tk, err := s.tenantKeys(ctx, f.TenantID)
	if err != nil {
		return err
	}
	body, err := vault.Open(tk.keys.Enc, f.BodySealed, forwardBodyAAD(f.TenantID, f.ID))
	if err != nil {
		return err
	}
	if err := s.postSigned(ctx, client, f.TenantID, f.ID, body); err != nil {
		return err
	}
	// Delivered: the sealed body goes with the row.
	return s.commit.do(ctx, func(tx store.Tx) error { return tx.DeleteForward(ctx, f.TenantID, f.ID) }, nil)
}

// postSigned posts body to the tenant's webhook, signed the Standard
// Webhooks way with id as the webhook-id: the id of the pending row, so it
// is the same on every retry and the tenant can drop a repeat.
func (s *Service) postSigned(ctx context.Context, client *http.Client, tenantID, id string, body []byte) error {
	var ft *store.ForwardTarget
	err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		ft, err = tx.GetForwardTarget(ctx, tenantID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return errNoTarget
	} else if err != nil {
		return err
	}
	tk, err := s.tenantKeys(ctx, tenantID)
	if err != nil {
		return err
	}
	key, err := vault.Open(tk.keys.Enc, ft.SecretSealed, forwardSecretAAD(tenantID))
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, forwardTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, ft.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	now := s.now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(inbound.HeaderWebhookID, id)
	req.Header.Set(inbound.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(inbound.HeaderWebhookSignature, inbound.SignGeneric(key, id, now, body))
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Forwarder is the background worker that delivers forwards.
type Forwarder struct{ runner *periodic.Runner }

// StartForwarder runs DeliverForwards every interval until Stop.
func (s *Service) StartForwarder(client *http.Client, every time.Duration) *Forwarder {
	if client == nil {
		client = &http.Client{Timeout: forwardTimeout}
	}
	f := &Forwarder{runner: &periodic.Runner{First: every, Every: every, Job: func(ctx context.Context) {
		if _, err := s.DeliverForwards(ctx, client); err != nil && ctx.Err() == nil {
			s.log.Warn("forwarder pass failed", "err", err)
		}
	}}}
	f.runner.Start()
	return f
}

// Stop ends the worker after its current pass; undelivered forwards stay
// in the table for the next start.
func (f *Forwarder) Stop() {
	if f != nil {
		f.runner.Stop()
	}
}
