package service

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/consentgate/consentgate/internal/store"
	"github.com/oklog/ulid/v2"
)

// Status events: every change of a message's status that the tenant can act
// on goes to the tenant's forwarding webhook (the one conversation goes to),
// as {"type": "message.status", ...}. The pending row is written in the
// transaction of the status change, so an event is never lost and never
// announces a change that was rolled back; the worker in forward.go delivers
// it at least once, with the row's id as the webhook-id on every attempt.

// StatusEventType is the "type" of a status event; conversation is
// "inbound.message".
const StatusEventType = "message.status"

// StatusEvent is what the tenant's webhook receives for a status change:
// ids, statuses and codes only, never the recipient or the text.
type StatusEvent struct {
	Type        string              `json:"type"`
	MessageID   string              `json:"message_id"`
	Status      store.MessageStatus `json:"status"`
	Channel     string              `json:"channel"`
	Purpose     string              `json:"purpose"`
	At          time.Time           `json:"at"`
	ProviderRef string              `json:"provider_ref,omitempty"`
	ErrorCode   string              `json:"error_code,omitempty"`
}

// forwardedStatus reports whether a change to st is announced: queued and
// sending are the outbox's own business.
func forwardedStatus(st store.MessageStatus) bool {
	switch st {
	case store.MessageSent, store.MessageDelivered, store.MessageFailed, store.MessageDead, store.MessageBlocked:
		return true
	}
	return false
}

// cachedTarget remembers whether a tenant has a forwarding webhook, so that
// the outbox's hot path costs a map lookup for tenants without one.
type cachedTarget struct {
	has     bool
	expires time.Time
}

func (st *inboundState) putTarget(tenantID string, v cachedTarget) {
	st.mu.Lock()
	if st.targets == nil {
		st.targets = map[string]cachedTarget{}
	}
	st.targets[tenantID] = v
	st.mu.Unlock()
}

func (st *inboundState) dropTarget(tenantID string) {
	st.mu.Lock()
	delete(st.targets, tenantID)
	st.mu.Unlock()
}

// hasTarget reports whether the tenant has a forwarding webhook, reading it
// in tx when the cache does not know. A webhook set on another node is seen
// within inboundCacheTTL; one set on this node at once.
func (s *Service) hasTarget(ctx context.Context, tx store.Tx, tenantID string) (bool, error) {
	now := s.now()
	if c, ok := cacheGet(&s.inbound, s.inbound.targets, tenantID); ok && now.Before(c.expires) {
		return c.has, nil
	}
	_, err := tx.GetForwardTarget(ctx, tenantID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	has := err == nil
	s.inbound.putTarget(tenantID, cachedTarget{has: has, expires: now.Add(inboundCacheTTL)})
	return has, nil
}

// ForwardStatus queues the status change ev of message m for the tenant's
// webhook, in tx, the transaction that records the change. It does nothing
// for statuses that are not announced or when the tenant has no webhook.
// providerRef is the provider's id for the message, when known.
func (s *Service) ForwardStatus(ctx context.Context, tx store.Tx, m *store.Message, ev *store.MessageEvent, providerRef string) error {
	if !forwardedStatus(ev.Status) {
		return nil
	}
	if has, err := s.hasTarget(ctx, tx, m.TenantID); err != nil || !has {
		return err
	}
	now := s.now()
	return tx.CreateStatusForward(ctx, &store.StatusForward{ID: ulid.Make().String(), TenantID: m.TenantID, MessageID: m.ID,
		Status: ev.Status, Channel: m.Channel, Purpose: m.Purpose, ProviderRef: providerRef, ErrorCode: ev.Detail,
		At: ev.At, NextAttempt: now, CreatedAt: now})
}

// deliverStatuses is DeliverForwards' pass over the due status events.
func (s *Service) deliverStatuses(ctx context.Context, client *http.Client) (int, error) {
	var due []*store.StatusForward
	if err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		due, err = tx.DueStatusForwards(ctx, s.now(), forwardBatch)
		return err
	}); err != nil {
		return 0, err
	}
	n := 0
	for _, f := range due {
		body, err := json.Marshal(StatusEvent{Type: StatusEventType, MessageID: f.MessageID, Status: f.Status,
			Channel: string(f.Channel), Purpose: f.Purpose, At: f.At, ProviderRef: f.ProviderRef, ErrorCode: f.ErrorCode})
		if err == nil {
			err = s.postSigned(ctx, client, f.TenantID, f.ID, body)
		}
		if err == nil {
			if err := s.commit.do(ctx, func(tx store.Tx) error { return tx.DeleteStatusForward(ctx, f.TenantID, f.ID) }, nil); err != nil {
				return n, err
			}
			n++
			continue
		}
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		attempts := f.Attempts + 1
		s.log.Warn("status event to the tenant's webhook failed", "tenant", f.TenantID, "forward", f.ID, "message", f.MessageID,
			"attempt", attempts, "err", err)
		werr := s.commit.do(ctx, func(tx store.Tx) error {
			if attempts >= forwardMaxAttempts || errors.Is(err, errNoTarget) {
				return tx.DeleteStatusForward(ctx, f.TenantID, f.ID)
			}
			backoff := min(10*time.Second<<attempts, time.Hour)
			return tx.RetryStatusForward(ctx, f.TenantID, f.ID, attempts, s.now().Add(backoff), truncate(err.Error(), 200))
		}, nil)
		if werr != nil {
			return n, werr
		}
	}
	return n, nil
}
