package service

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"maps"
	"slices"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/index"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/vault"
	"github.com/oklog/ulid/v2"
)

// The sources of the consent events data-subject requests append.
const (
	sourceRectification = "rectification"
	sourceDSR           = "dsr"
)

// rectify corrects a contact's identifiers, attributes or locale (Art. 16).
// Changed identifiers are sealed again and get new blind indexes; every
// current consent state is carried over by a new event with source
// "rectification" whose evidence names the request and the fields changed,
// so that the ledger shows when the data behind each consent was corrected.
func (s *Service) rectify(ctx context.Context, pr auth.Principal, r *store.DSR, in DSRInput) (any, error) {
	if len(in.Identifiers) == 0 && in.Attributes == nil && in.Locale == nil {
		return nil, apperr.New(apperr.InvalidDSR, "a rectification needs identifiers, attributes or locale to correct")
	}
	tk, err := s.tenantKeys(ctx, pr.TenantID)
	if err != nil {
		return nil, err
	}
	set := map[string]any{}
	for k, v := range in.Attributes {
		if v != nil {
			set[k] = v
		}
	}
	if err := s.checkAttributes(ctx, pr.TenantID, set); err != nil {
		return nil, err
	}
	repl := map[consent.IdentifierKind]*normalized{}
	for k, v := range in.Identifiers {
		kind, ok := consent.ParseIdentifierKind(k)
		if !ok {
			return nil, apperr.New(apperr.InvalidRequest, "unknown identifier kind %q (phone, email, whatsapp)", k)
		}
		if v == "" {
			repl[kind] = nil
			continue
		}
		n, err := s.normalize(tk, kind, v)
		if err != nil {
			return nil, err
		}
		repl[kind] = &n
	}
	cid, _ := ulid.ParseStrict(r.ContactID)
	var fields []string
	var idx []index.Identifier
	var applied []*store.ConsentEvent
	err = s.commit.do(ctx, func(tx store.Tx) error {
		fields, idx, applied = nil, nil, nil
		c, ids, err := tx.GetContact(ctx, pr.TenantID, r.ContactID)
		if err != nil {
			return err
		}
		ck, err := vault.OpenContactKey(tk.keys, pr.TenantID, c.ID, c.WrappedKey)
		if err != nil {
			return apperr.Wrap(err, apperr.Internal, "contact key unreadable")
		}
		var newIDs []store.Identifier
		var claimed []normalized
		if len(repl) > 0 {
			for _, id := range ids {
				if _, ok := repl[id.Kind]; !ok {
					newIDs = append(newIDs, id)
				}
			}
			for kind, n := range repl {
				fields = append(fields, "identifiers."+string(kind))
				if n == nil {
					continue
				}
				sealed, err := ck.Seal(string(kind), []byte(n.value))
				if err != nil {
					return err
				}
				newIDs = append(newIDs, store.Identifier{Kind: kind, BlindIndex: n.forms.Stored(), Sealed: sealed})
				claimed = append(claimed, *n)
			}
			if len(newIDs) == 0 {
				return apperr.New(apperr.InvalidDSR, "a contact keeps at least one identifier; erase it instead")
			}
			slices.SortFunc(newIDs, func(a, b store.Identifier) int { return compareStr(string(a.Kind), string(b.Kind)) })
		}
		if in.Attributes != nil {
			attrs := map[string]any{}
			if len(c.AttributesSealed) > 0 {
				pt, err := ck.Open("attributes", c.AttributesSealed)
				if err != nil {
					return apperr.Wrap(err, apperr.Internal, "the stored attributes are unreadable; set them all again")
				}
				if err := json.Unmarshal(pt, &attrs); err != nil {
					return err
				}
			}
			for _, k := range slices.Sorted(maps.Keys(in.Attributes)) {
				fields = append(fields, "attributes."+k)
				if in.Attributes[k] == nil {
					delete(attrs, k)
				} else {
					attrs[k] = in.Attributes[k]
				}
			}
			c.AttributesSealed = nil
			if len(attrs) > 0 {
				raw, err := json.Marshal(attrs)
				if err != nil || len(raw) > maxAttributesBytes {
					return apperr.New(apperr.InvalidRequest, "attributes must be a JSON object of at most %d bytes", maxAttributesBytes)
				}
				if c.AttributesSealed, err = ck.Seal("attributes", raw); err != nil {
					return err
				}
			}
		}
		if in.Locale != nil {
			c.Locale = *in.Locale
			fields = append(fields, "locale")
		}
		slices.Sort(fields)
		c.UpdatedAt = s.now()
		if err := claimIdentifiers(ctx, tx, tk, pr.TenantID, c.ID, claimed); err != nil {
			return err
		}
		if err := tx.UpdateContact(ctx, c, newIDs); err != nil {
			return err
		}
		for _, id := range newIDs {
			idx = append(idx, index.Identifier{Kind: id.Kind, BlindIndex: id.BlindIndex})
		}
		cur, err := tx.CurrentConsents(ctx, pr.TenantID, r.ContactID)
		if err != nil {
			return err
		}
		evidence, _ := json.Marshal(map[string]any{"request_id": r.ID, "fields": fields})
		for _, old := range cur {
			e := &store.ConsentEvent{ID: ulid.Make().String(), TenantID: pr.TenantID, ContactID: r.ContactID, Purpose: old.Purpose,
				Channel: old.Channel, Status: old.Status, Confirmed: old.Confirmed, Source: sourceRectification,
				NoticeVersion: old.NoticeVersion, Actor: pr.KeyID, OccurredAt: c.UpdatedAt, RecordedAt: c.UpdatedAt, ExpiresAt: old.ExpiresAt}
			if err := appendSealed(ctx, tx, ck, e, evidence); err != nil {
				return err
			}
			applied = append(applied, e)
		}
		return nil
	}, func() {
		if len(repl) > 0 {
			s.index.ReplaceIdentifiers(pr.TenantID, cid, idx)
		}
		for _, e := range applied {
			s.index.ApplyConsent(pr.TenantID, cid, e.Purpose, e.Channel, e.State())
		}
	})
	if err != nil {
		return nil, storeErr(err, "contact")
	}
	ids := make([]string, len(applied))
	for i, e := range applied {
		ids[i] = e.ID
	}
	return map[string]any{"rectified_fields": fields, "consent_events": ids}, nil
}

// appendSealed seals evidence with the contact's key, records its digest
// and appends the event.
func appendSealed(ctx context.Context, tx store.Tx, ck *vault.ContactKey, e *store.ConsentEvent, evidence []byte) error {
	sealed, err := ck.Seal("evidence/"+e.ID, evidence)
	if err != nil {
		return err
	}
	d := sha256.Sum256(sealed)
	e.EvidenceSealed, e.EvidenceDigest = sealed, d[:]
	return tx.AppendConsentEvent(ctx, e)
}

// restrict imposes (or lifts) a restriction of processing (Art. 18). The
// decision refuses every message but legal obligations from the moment the
// transaction commits.
func (s *Service) restrict(ctx context.Context, pr auth.Principal, r *store.DSR, on bool) (any, error) {
	cid, _ := ulid.ParseStrict(r.ContactID)
	err := s.commit.do(ctx, func(tx store.Tx) error {
		return tx.SetRestricted(ctx, pr.TenantID, r.ContactID, on, s.now())
	}, func() { s.index.SetRestricted(pr.TenantID, cid, on) })
	if err != nil {
		return nil, storeErr(err, "contact")
	}
	return map[string]any{"restricted": on}, nil
}

// object records an objection (Art. 21): an "objected" consent event for
// every channel of each purpose objected to, by default every marketing
// purpose of the tenant (Art. 21(3): direct marketing stops without a
// balancing test).
func (s *Service) object(ctx context.Context, pr auth.Principal, r *store.DSR, purposes []string) (any, error) {
	tk, err := s.tenantKeys(ctx, pr.TenantID)
	if err != nil {
		return nil, err
	}
	cid, _ := ulid.ParseStrict(r.ContactID)
	var applied []*store.ConsentEvent
	err = s.commit.do(ctx, func(tx store.Tx) error {
		applied = nil
		c, _, err := tx.GetContact(ctx, pr.TenantID, r.ContactID)
		if err != nil {
			return err
		}
		ck, err := vault.OpenContactKey(tk.keys, pr.TenantID, c.ID, c.WrappedKey)
		if err != nil {
			return apperr.Wrap(err, apperr.Internal, "contact key unreadable")
		}
		all, err := tx.ListPurposes(ctx, pr.TenantID)
		if err != nil {
			return err
		}
		var targets []*consent.Purpose
		for _, p := range all {
			if (len(purposes) == 0 && p.Category == consent.Marketing) || slices.Contains(purposes, p.Key) {
				targets = append(targets, p)
			}
		}
		if len(purposes) > 0 && len(targets) != len(slices.Compact(slices.Sorted(slices.Values(purposes)))) {
			return apperr.New(apperr.UnknownPurpose, "an objection names a purpose the tenant does not have")
		}
		now := s.now()
		evidence, _ := json.Marshal(map[string]any{"request_id": r.ID, "article": "21"})
		for _, p := range targets {
			for _, ch := range p.Channels {
				e := &store.ConsentEvent{ID: ulid.Make().String(), TenantID: pr.TenantID, ContactID: r.ContactID, Purpose: p.Key,
					Channel: ch, Status: consent.StatusObjected, Source: sourceDSR, NoticeVersion: p.NoticeVersion,
					Actor: pr.KeyID, OccurredAt: now, RecordedAt: now}
				if err := appendSealed(ctx, tx, ck, e, evidence); err != nil {
					return err
				}
				applied = append(applied, e)
			}
		}
		return nil
	}, func() {
		for _, e := range applied {
			s.index.ApplyConsent(pr.TenantID, cid, e.Purpose, e.Channel, e.State())
		}
	})
	if err != nil {
		return nil, storeErr(err, "contact")
	}
	out := make([]map[string]string, len(applied))
	for i, e := range applied {
		out[i] = map[string]string{"purpose": e.Purpose, "channel": string(e.Channel), "event_id": e.ID}
	}
	return map[string]any{"objected": out}, nil
}
