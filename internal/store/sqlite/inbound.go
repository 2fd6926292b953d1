package sqlite

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/oklog/ulid/v2"
)

type scanner = interface{ Scan(...any) error }

func (t *tx) CreateSender(ctx context.Context, s *store.Sender) error {
	ps, _ := json.Marshal(s.Purposes)
	_, err := t.exec(ctx, qCreateSender, s.ID, s.TenantID, string(s.Channel), s.Kind, s.Address, string(ps), us(s.CreatedAt))
	return err
}

func scanSender(row scanner) (*store.Sender, error) {
	var s store.Sender
	var ch, ps string
	var created int64
	if err := row.Scan(&s.ID, &s.TenantID, &ch, &s.Kind, &s.Address, &ps, &created); err != nil {
		return nil, mapErr(err)
	}
	s.Channel, s.CreatedAt = consent.Channel(ch), fromUS(created)
	if err := json.Unmarshal([]byte(ps), &s.Purposes); err != nil {
		return nil, fmt.Errorf("sqlite: sender %s: purposes: %w", s.ID, err)
	}
	return &s, nil
}

func (t *tx) GetSender(ctx context.Context, tenantID, id string) (*store.Sender, error) {
	return scanSender(t.tx.QueryRowContext(ctx, qGetSender, tenantID, id))
}

func (t *tx) ListSenders(ctx context.Context, tenantID string) ([]*store.Sender, error) {
	return queryAll(ctx, t, qListSenders, scanSender, tenantID)
}

func (t *tx) FindSender(ctx context.Context, ch consent.Channel, address string) (*store.Sender, error) {
	return scanSender(t.tx.QueryRowContext(ctx, qFindSender, string(ch), address))
}

func (t *tx) CreateKeywordRule(ctx context.Context, r *store.KeywordRule) error {
	_, err := t.exec(ctx, qCreateKeywordRule, r.ID, r.TenantID, r.Phrase, r.Intent, r.Action, r.Scope, r.Language, us(r.CreatedAt))
	return err
}

func scanRule(row scanner) (*store.KeywordRule, error) {
	var r store.KeywordRule
	var created int64
	if err := row.Scan(&r.ID, &r.TenantID, &r.Phrase, &r.Intent, &r.Action, &r.Scope, &r.Language, &created); err != nil {
		return nil, mapErr(err)
	}
	r.CreatedAt = fromUS(created)
	return &r, nil
}

func (t *tx) ListKeywordRules(ctx context.Context, tenantID string) ([]*store.KeywordRule, error) {
	return queryAll(ctx, t, qListKeywordRules, scanRule, tenantID)
}

func (t *tx) DeleteKeywordRule(ctx context.Context, tenantID, id string) error {
	r, err := t.exec(ctx, qDeleteKeywordRule, tenantID, id)
	return oneRow(r, err)
}

func (t *tx) PutWebhookSecret(ctx context.Context, s *store.WebhookSecret) error {
	_, err := t.exec(ctx, qPutWebhookSecret, s.TenantID, s.Provider, s.Sealed, s.PreviousSealed, s.Hint,
		us(s.RotatedAt), us(s.CreatedAt))
	return err
}

func scanSecret(row scanner) (*store.WebhookSecret, error) {
	var s store.WebhookSecret
	var rot, created int64
	if err := row.Scan(&s.TenantID, &s.Provider, &s.Sealed, &s.PreviousSealed, &s.Hint, &rot, &created); err != nil {
		return nil, mapErr(err)
	}
	s.RotatedAt, s.CreatedAt = fromUS(rot), fromUS(created)
	return &s, nil
}

func (t *tx) GetWebhookSecret(ctx context.Context, tenantID, provider string) (*store.WebhookSecret, error) {
	return scanSecret(t.tx.QueryRowContext(ctx, qGetWebhookSecret, tenantID, provider))
}

func (t *tx) ListWebhookSecrets(ctx context.Context, tenantID string) ([]*store.WebhookSecret, error) {
	return queryAll(ctx, t, qListWebhookSecrets, scanSecret, tenantID)
}

// CreateInboundMessage checks the provider id against the partitions of
// the last uniqueWindow (a partition's unique index sees only its own
// rows), then stores the record in the partition of its id's time.
func (t *tx) CreateInboundMessage(ctx context.Context, m *store.InboundMessage) error {
	at := idTime(m.ID, m.RecordedAt)
	if err := t.noneRecent(ctx, inboundKind, at, qInboundUsed, m.TenantID, string(m.Channel), m.ProviderID); err != nil {
		return fmt.Errorf("%w: inbound provider id", err)
	}
	if _, err := ulid.ParseStrict(m.ID); err != nil {
		if err := t.noneExist(ctx, qInboundIDUsed, m.ID); err != nil {
			return fmt.Errorf("%w: inbound id %s", err, m.ID)
		}
	}
	p, err := t.partitionFor(ctx, inboundKind, at)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, in(qCreateInbound, p), m.TenantID, string(m.Channel), m.ProviderID, m.ID, m.SenderID, m.ContactID,
		m.FromIndex, m.TextHash, m.TextLen, m.Keyword, m.Action, m.Scope, m.Language, m.Outcome,
		us(m.ReceivedAt), us(m.RecordedAt))
	return err
}

func (t *tx) GetInboundMessage(ctx context.Context, tenantID string, ch consent.Channel, providerID string) (*store.InboundMessage, error) {
	var m store.InboundMessage
	var chs string
	var rec, recd int64
	// Provider ids are unique within uniqueWindow (docs/inbound.md).
	q, err := t.recent(ctx, inboundKind, us(time.Now().Add(-uniqueWindow)), qGetInbound)
	if err != nil || q == "" {
		return nil, cmp.Or(err, store.ErrNotFound)
	}
	err = t.tx.QueryRowContext(ctx, q, tenantID, string(ch), providerID).Scan(&m.TenantID, &chs, &m.ProviderID,
		&m.ID, &m.SenderID, &m.ContactID, &m.FromIndex, &m.TextHash, &m.TextLen, &m.Keyword, &m.Action, &m.Scope,
		&m.Language, &m.Outcome, &rec, &recd)
	if err != nil {
		return nil, mapErr(err)
	}
	m.Channel, m.ReceivedAt, m.RecordedAt = consent.Channel(chs), fromUS(rec), fromUS(recd)
	return &m, nil
}

func (t *tx) PutKeywordStop(ctx context.Context, s *store.KeywordStop) error {
	items, err := json.Marshal(s.Items)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, qPutStop, s.TenantID, s.ContactID, string(s.Channel), s.InboundID, string(items), us(s.CreatedAt))
	return err
}

func (t *tx) GetKeywordStop(ctx context.Context, tenantID, contactID string, ch consent.Channel) (*store.KeywordStop, error) {
	var s store.KeywordStop
	var chs, items string
	var created int64
	err := t.tx.QueryRowContext(ctx, qGetStop, tenantID, contactID, string(ch)).Scan(&s.TenantID, &s.ContactID, &chs,
		&s.InboundID, &items, &created)
	if err != nil {
		return nil, mapErr(err)
	}
	s.Channel, s.CreatedAt = consent.Channel(chs), fromUS(created)
	if err := json.Unmarshal([]byte(items), &s.Items); err != nil {
		return nil, fmt.Errorf("sqlite: keyword stop: items: %w", err)
	}
	for i := range s.Items {
		if !s.Items[i].ExpiresAt.IsZero() {
			s.Items[i].ExpiresAt = s.Items[i].ExpiresAt.UTC()
		}
	}
	return &s, nil
}

func (t *tx) DeleteKeywordStop(ctx context.Context, tenantID, contactID string, ch consent.Channel) error {
	_, err := t.exec(ctx, qDeleteStop, tenantID, contactID, string(ch))
	return err
}

func (t *tx) PutTenantProfile(ctx context.Context, p *store.TenantProfile) error {
	_, err := t.exec(ctx, qPutProfile, p.TenantID, p.ControllerName, p.PrivacyNoticeURL, p.DPOName, p.DPOEmail, us(p.UpdatedAt))
	return err
}

func (t *tx) GetTenantProfile(ctx context.Context, tenantID string) (*store.TenantProfile, error) {
	var p store.TenantProfile
	var upd int64
	err := t.tx.QueryRowContext(ctx, qGetProfile, tenantID).Scan(&p.TenantID, &p.ControllerName, &p.PrivacyNoticeURL,
		&p.DPOName, &p.DPOEmail, &upd)
	if err != nil {
		return nil, mapErr(err)
	}
	p.UpdatedAt = fromUS(upd)
	return &p, nil
}

func (t *tx) PutReplyTemplate(ctx context.Context, rt *store.ReplyTemplate) error {
	_, err := t.exec(ctx, qPutTemplate, rt.TenantID, rt.Kind, rt.Language, rt.Body, us(rt.UpdatedAt))
	return err
}

func (t *tx) ListReplyTemplates(ctx context.Context, tenantID string) ([]*store.ReplyTemplate, error) {
	return queryAll(ctx, t, qListTempls, func(row scanner) (*store.ReplyTemplate, error) {
		var rt store.ReplyTemplate
		var upd int64
		if err := row.Scan(&rt.TenantID, &rt.Kind, &rt.Language, &rt.Body, &upd); err != nil {
			return nil, mapErr(err)
		}
		rt.UpdatedAt = fromUS(upd)
		return &rt, nil
	}, tenantID)
}

func (t *tx) DeleteReplyTemplate(ctx context.Context, tenantID, kind, language string) error {
	r, err := t.exec(ctx, qDelTemplate, tenantID, kind, language)
	return oneRow(r, err)
}

func (t *tx) PutForwardTarget(ctx context.Context, f *store.ForwardTarget) error {
	_, err := t.exec(ctx, qPutForwardTarget, f.TenantID, f.URL, f.SecretSealed, us(f.UpdatedAt))
	return err
}

func (t *tx) GetForwardTarget(ctx context.Context, tenantID string) (*store.ForwardTarget, error) {
	var f store.ForwardTarget
	var upd int64
	if err := t.tx.QueryRowContext(ctx, qGetForwardTarget, tenantID).Scan(&f.TenantID, &f.URL, &f.SecretSealed, &upd); err != nil {
		return nil, mapErr(err)
	}
	f.UpdatedAt = fromUS(upd)
	return &f, nil
}

func (t *tx) CreateForward(ctx context.Context, f *store.Forward) error {
	_, err := t.exec(ctx, qCreateForward, f.ID, f.TenantID, f.InboundID, f.BodySealed, f.Attempts,
		us(f.NextAttempt), f.LastError, us(f.CreatedAt))
	return err
}

func (t *tx) DueForwards(ctx context.Context, now time.Time, limit int) ([]*store.Forward, error) {
	return queryAll(ctx, t, qDueForwards, func(row scanner) (*store.Forward, error) {
		var f store.Forward
		var next, created int64
		if err := row.Scan(&f.ID, &f.TenantID, &f.InboundID, &f.BodySealed, &f.Attempts, &next, &f.LastError, &created); err != nil {
			return nil, mapErr(err)
		}
		f.NextAttempt, f.CreatedAt = fromUS(next), fromUS(created)
		return &f, nil
	}, us(now), limit)
}

func (t *tx) RetryForward(ctx context.Context, tenantID, id string, attempts int, next time.Time, lastError string) error {
	r, err := t.exec(ctx, qRetryForward, attempts, us(next), lastError, tenantID, id)
	return oneRow(r, err)
}

func (t *tx) DeleteForward(ctx context.Context, tenantID, id string) error {
	r, err := t.exec(ctx, qDeleteForward, tenantID, id)
	return oneRow(r, err)
}
