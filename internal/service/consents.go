package service

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"regexp"
	"time"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/audit"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/vault"
	"github.com/oklog/ulid/v2"
)

const maxEvidenceBytes = 4096

var sourceRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)

// ConsentInput records a consent change for (contact, purpose, channel).
type ConsentInput struct {
	Status consent.Status `json:"status"`
	Source string         `json:"source"`
	// Confirmed attests that the person completed the purpose's double
	// opt-in (for example by clicking a confirmation link the tenant sent);
	// without it a grant on a double opt-in purpose is recorded as pending.
	Confirmed  bool            `json:"confirmed"`
	Evidence   json.RawMessage `json:"evidence"`
	OccurredAt *time.Time      `json:"occurred_at"`
}

// ConsentView is one consent state with the event it rests on.
type ConsentView struct {
	ContactID     string          `json:"contact_id"`
	Purpose       string          `json:"purpose"`
	Channel       consent.Channel `json:"channel"`
	Status        consent.Status  `json:"status"`
	Confirmed     bool            `json:"confirmed"`
	Source        string          `json:"source"`
	NoticeVersion int             `json:"notice_version"`
	EventID       string          `json:"event_id"`
	OccurredAt    time.Time       `json:"occurred_at"`
	RecordedAt    time.Time       `json:"recorded_at"`
	ExpiresAt     *time.Time      `json:"expires_at,omitempty"`
}

func viewConsent(e *store.ConsentEvent) ConsentView {
	v := ConsentView{ContactID: e.ContactID, Purpose: e.Purpose, Channel: e.Channel, Status: e.Status,
		Confirmed: e.Confirmed, Source: e.Source, NoticeVersion: e.NoticeVersion, EventID: e.ID,
		OccurredAt: e.OccurredAt, RecordedAt: e.RecordedAt}
	if !e.ExpiresAt.IsZero() {
		t := e.ExpiresAt
		v.ExpiresAt = &t
	}
	return v
}

// SetConsent appends a consent event and returns the new state. The event is
// durable and the decision index updated before it returns.
func (s *Service) SetConsent(ctx context.Context, pr auth.Principal, contactID, purposeKey, channel string, in ConsentInput) (ConsentView, error) {
	if err := authorize(pr, auth.ConsentsWrite); err != nil {
		return ConsentView{}, err
	}
	ch, err := consent.ParseChannel(channel)
	if err != nil {
		return ConsentView{}, apperr.Wrap(err, apperr.UnknownChannel, "unknown channel %q", channel)
	}
	status, err := consent.ParseStatus(string(in.Status))
	if err != nil || status == consent.StatusPending {
		return ConsentView{}, apperr.New(apperr.InvalidConsent, "status must be granted, withdrawn or objected")
	}
	if in.Source == "" {
		in.Source = string(consent.SourceAPI)
	}
	if !sourceRE.MatchString(in.Source) {
		return ConsentView{}, apperr.New(apperr.InvalidConsent, "source must match %s", sourceRE)
	}
	evidence, err := canonicalEvidence(in.Evidence)
	if err != nil {
		return ConsentView{}, err
	}
	now := s.now()
	occurred := now
	if in.OccurredAt != nil {
		occurred = in.OccurredAt.UTC()
		if occurred.After(now.Add(5 * time.Minute)) {
			return ConsentView{}, apperr.New(apperr.InvalidConsent, "occurred_at lies in the future")
		}
	}
	cid, err := ulid.ParseStrict(contactID)
	if err != nil {
		return ConsentView{}, apperr.New(apperr.NotFound, "contact not found")
	}
	tk, err := s.tenantKeys(ctx, pr.TenantID)
	if err != nil {
		return ConsentView{}, err
	}
	e := &store.ConsentEvent{ID: ulid.Make().String(), TenantID: pr.TenantID, ContactID: contactID, Purpose: purposeKey,
		Channel: ch, Status: status, Source: in.Source, Actor: pr.KeyID, OccurredAt: occurred, RecordedAt: now}
	ev, err := s.auditEvent(ctx, pr, auditRec{action: audit.ConsentChange, objectType: "consent_event", objectID: e.ID,
		contactID: contactID, fields: []string{"consent." + purposeKey + "." + string(ch), "evidence"}})
	if err != nil {
		return ConsentView{}, err
	}
	err = s.commit.do(ctx, func(tx store.Tx) error {
		p, err := tx.GetPurpose(ctx, pr.TenantID, purposeKey)
		if errors.Is(err, store.ErrNotFound) {
			return apperr.New(apperr.UnknownPurpose, "unknown purpose %q", purposeKey)
		} else if err != nil {
			return err
		}
		if !p.Allows(ch) {
			return apperr.New(apperr.ChannelNotAllowed, "purpose %q does not use channel %s", p.Key, ch)
		}
		c, _, err := tx.GetContact(ctx, pr.TenantID, contactID)
		if err != nil {
			return storeErr(err, "contact")
		}
		ck, err := vault.OpenContactKey(tk.keys, pr.TenantID, contactID, c.WrappedKey)
		if err != nil {
			return apperr.Wrap(err, apperr.Internal, "contact key unreadable")
		}
		// Every field that depends on what this run read is set afresh: the
		// function runs again when a PostgreSQL write is retried.
		e.NoticeVersion, e.Status, e.Confirmed, e.ExpiresAt = p.NoticeVersion, status, false, time.Time{}
		if status == consent.StatusGranted {
			e.Confirmed = in.Confirmed || !p.DoubleOptIn
			if p.DoubleOptIn && !in.Confirmed {
				// Consent on a double opt-in purpose counts only once the
				// person has confirmed; until then it is pending.
				e.Status = consent.StatusPending
			}
			if p.Lifetime > 0 {
				e.ExpiresAt = occurred.Add(p.Lifetime)
			}
		}
		if e.EvidenceSealed, err = ck.Seal("evidence/"+e.ID, evidence); err != nil {
			return err
		}
		d := sha256.Sum256(e.EvidenceSealed)
		e.EvidenceDigest = d[:]
		if err := tx.AppendConsentEvent(ctx, e); err != nil {
			return err
		}
		return writeAudit(ctx, tx, ev)
	}, func() { s.index.ApplyConsent(pr.TenantID, cid, purposeKey, ch, e.State()) })
	if err != nil {
		return ConsentView{}, storeErr(err, "consent")
	}
	return viewConsent(e), nil
}

// canonicalEvidence checks that evidence is a small JSON object and returns
// it compacted, so its digest does not depend on whitespace.
func canonicalEvidence(raw json.RawMessage) ([]byte, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return []byte("{}"), nil
	}
	if len(raw) > maxEvidenceBytes {
		return nil, apperr.New(apperr.InvalidConsent, "evidence is larger than %d bytes", maxEvidenceBytes)
	}
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, apperr.New(apperr.InvalidRequest, "evidence must be a JSON object")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, apperr.New(apperr.InvalidRequest, "evidence must be a JSON object")
	}
	return buf.Bytes(), nil
}

// ListConsents returns every current consent state of a contact, each with
// the event it rests on.
func (s *Service) ListConsents(ctx context.Context, pr auth.Principal, contactID string) ([]ConsentView, error) {
	if err := authorize(pr, auth.ConsentsRead); err != nil {
		return nil, err
	}
	ev, err := s.auditEvent(ctx, pr, auditRec{action: audit.ConsentList, objectType: "contact", objectID: contactID,
		contactID: contactID, fields: []string{"consents"}})
	if err != nil {
		return nil, err
	}
	var evs []*store.ConsentEvent
	err = s.commit.doRead(ctx, func(tx store.Tx) error {
		if _, _, err := tx.GetContact(ctx, pr.TenantID, contactID); err != nil {
			return err
		}
		var err error
		if evs, err = tx.CurrentConsents(ctx, pr.TenantID, contactID); err != nil {
			return err
		}
		return writeAudit(ctx, tx, ev)
	})
	if err != nil {
		return nil, storeErr(err, "contact")
	}
	out := make([]ConsentView, 0, len(evs))
	for _, e := range evs {
		out = append(out, viewConsent(e))
	}
	return out, nil
}
