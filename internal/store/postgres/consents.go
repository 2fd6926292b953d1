package postgres

import (
	"context"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
)

// AppendConsentEvent inserts the event and moves the projection in one
// statement, and notes the seq for the notification Write sends at commit.
func (t *tx) AppendConsentEvent(ctx context.Context, e *store.ConsentEvent) error {
	err := t.queryRow(ctx, qAppendConsentEvent, e.ID, e.TenantID, e.ContactID, e.Purpose,
		string(e.Channel), string(e.Status), e.Confirmed, e.Source, e.NoticeVersion, e.EvidenceSealed,
		e.EvidenceDigest, e.Actor, us(e.OccurredAt), us(e.RecordedAt), us(e.ExpiresAt)).Scan(&e.Seq)
	if err != nil {
		return err
	}
	if t.state.lo == 0 || e.Seq < t.state.lo {
		t.state.lo = e.Seq
	}
	t.state.hi = max(t.state.hi, e.Seq)
	return nil
}

func scanEvent(r row) (*store.ConsentEvent, error) {
	var e store.ConsentEvent
	var ch, st string
	var occ, rec, exp int64
	if err := r.Scan(&e.Seq, &e.ID, &e.TenantID, &e.ContactID, &e.Purpose, &ch, &st, &e.Confirmed, &e.Source,
		&e.NoticeVersion, &e.EvidenceSealed, &e.EvidenceDigest, &e.Actor, &occ, &rec, &exp); err != nil {
		return nil, mapErr(err)
	}
	e.Channel, e.Status = consent.Channel(ch), consent.Status(st)
	e.OccurredAt, e.RecordedAt, e.ExpiresAt = fromUS(occ), fromUS(rec), fromUS(exp)
	return &e, nil
}

func (t *tx) ListConsentEvents(ctx context.Context, tenantID, contactID string) ([]*store.ConsentEvent, error) {
	return queryAll(ctx, t, qListConsentEvents, scanEvent, tenantID, contactID)
}

func (t *tx) CurrentConsents(ctx context.Context, tenantID, contactID string) ([]*store.ConsentEvent, error) {
	return queryAll(ctx, t, qCurrentConsents, scanEvent, tenantID, contactID)
}

func (t *tx) GetConsentEvent(ctx context.Context, tenantID, id string) (*store.ConsentEvent, error) {
	return scanEvent(t.queryRow(ctx, qGetConsentEvent, tenantID, id))
}

// ScanCurrentConsents hands fn the same record each time, filled with the
// state fields only (see store.Tx).
func (t *tx) ScanCurrentConsents(ctx context.Context, fn func(*store.ConsentEvent) error) error {
	var e store.ConsentEvent
	var ch, st string
	var exp int64
	return scanEach(ctx, t, qScanCurrentConsents, func(r row) error {
		if err := r.Scan(&e.Seq, &e.ID, &e.TenantID, &e.ContactID, &e.Purpose, &ch, &st, &e.Confirmed, &exp); err != nil {
			return mapErr(err)
		}
		e.Channel, e.Status, e.ExpiresAt = consent.Channel(ch), consent.Status(st), fromUS(exp)
		return fn(&e)
	})
}

func (t *tx) ConsentEventsAfter(ctx context.Context, seq int64, limit int) ([]*store.ConsentEvent, error) {
	return queryAll(ctx, t, qConsentEventsAfter, scanEvent, seq, limit)
}
