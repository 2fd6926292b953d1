package sqlite

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
)

func (t *tx) CreateAttributeDef(ctx context.Context, d *store.AttributeDef) error {
	_, err := t.exec(ctx, qCreateAttrDef, d.TenantID, d.Name, d.Type, d.Category, d.Purpose,
		int64(d.Retention/time.Second), d.Description, us(d.CreatedAt))
	return err
}

func (t *tx) ListAttributeDefs(ctx context.Context, tenantID string) ([]*store.AttributeDef, error) {
	return queryAll(ctx, t, qListAttrDefs, func(row interface{ Scan(...any) error }) (*store.AttributeDef, error) {
		var d store.AttributeDef
		var ret, created int64
		if err := row.Scan(&d.TenantID, &d.Name, &d.Type, &d.Category, &d.Purpose, &ret, &d.Description, &created); err != nil {
			return nil, mapErr(err)
		}
		d.Retention, d.CreatedAt = time.Duration(ret)*time.Second, fromUS(created)
		return &d, nil
	}, tenantID)
}

func scanDSR(row interface{ Scan(...any) error }) (*store.DSR, error) {
	var r store.DSR
	var rec, due, done int64
	if err := row.Scan(&r.ID, &r.TenantID, &r.Type, &r.ContactID, &r.Status, &rec, &due, &r.Extended,
		&r.ExtensionReason, &r.Result, &r.Actor, &done); err != nil {
		return nil, mapErr(err)
	}
	r.ReceivedAt, r.DueAt, r.CompletedAt = fromUS(rec), fromUS(due), fromUS(done)
	return &r, nil
}

func (t *tx) CreateDSR(ctx context.Context, r *store.DSR) error {
	_, err := t.exec(ctx, qCreateDSR, r.ID, r.TenantID, r.Type, r.ContactID, r.Status, us(r.ReceivedAt), us(r.DueAt),
		r.Extended, r.ExtensionReason, r.Result, r.Actor, us(r.CompletedAt))
	return err
}

func (t *tx) UpdateDSR(ctx context.Context, r *store.DSR) error {
	res, err := t.exec(ctx, qUpdateDSR, r.ContactID, r.Status, us(r.DueAt), r.Extended, r.ExtensionReason, r.Result,
		us(r.CompletedAt), r.TenantID, r.ID)
	return oneRow(res, err)
}

func (t *tx) GetDSR(ctx context.Context, tenantID, id string) (*store.DSR, error) {
	return scanDSR(t.tx.QueryRowContext(ctx, qGetDSR, tenantID, id))
}

func (t *tx) ListDSRs(ctx context.Context, tenantID string, openOnly bool, limit int) ([]*store.DSR, error) {
	q := qListDSRs
	if openOnly {
		q = qListOpenDSRs
	}
	return queryAll(ctx, t, q, scanDSR, tenantID, limit)
}

func (t *tx) ListContactDSRs(ctx context.Context, tenantID, contactID string) ([]*store.DSR, error) {
	return queryAll(ctx, t, qContactDSRs, scanDSR, tenantID, contactID)
}

func (t *tx) PutLegalHold(ctx context.Context, h *store.LegalHold) error {
	_, err := t.exec(ctx, qPutLegalHold, h.TenantID, h.ContactID, h.Reason, h.Actor, us(h.CreatedAt))
	return err
}

func (t *tx) GetLegalHold(ctx context.Context, tenantID, contactID string) (*store.LegalHold, error) {
	var h store.LegalHold
	var created int64
	err := t.tx.QueryRowContext(ctx, qGetLegalHold, tenantID, contactID).Scan(&h.TenantID, &h.ContactID, &h.Reason, &h.Actor, &created)
	if err != nil {
		return nil, mapErr(err)
	}
	h.CreatedAt = fromUS(created)
	return &h, nil
}

func (t *tx) DeleteLegalHold(ctx context.Context, tenantID, contactID string) error {
	return oneRow(t.exec(ctx, qDelLegalHold, tenantID, contactID))
}

func (t *tx) UpdateContact(ctx context.Context, c *store.Contact, ids []store.Identifier) error {
	if err := oneRow(t.exec(ctx, qUpdateContact, c.Locale, c.AttributesSealed, us(c.UpdatedAt), c.TenantID, c.ID)); err != nil {
		return err
	}
	if ids == nil {
		return nil
	}
	if _, err := t.exec(ctx, qDelIdentifiers, c.TenantID, c.ID); err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := t.exec(ctx, qCreateIdentifier, c.TenantID, string(id.Kind), id.BlindIndex, c.ID, id.Sealed); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) SetRestricted(ctx context.Context, tenantID, contactID string, restricted bool, at time.Time) error {
	return oneRow(t.exec(ctx, qSetRestricted, restricted, us(at), tenantID, contactID))
}

func (t *tx) EraseContact(ctx context.Context, tenantID, contactID string, forms [][]byte) (map[string]int, error) {
	if _, _, err := t.GetContact(ctx, tenantID, contactID); err != nil {
		return nil, err
	}
	fs := formsJSON(forms)
	steps := []struct {
		name string
		q    string
		args []any
		kind *partKind // the statement runs in each of the kind's partitions
	}{
		{"inbound_forwards", qEraseForwards, []any{tenantID, tenantID, contactID, tenantID, contactID, fs}, nil},
		{"inbound_messages", qEraseInbound, []any{tenantID, contactID, tenantID, contactID, fs}, inboundKind},
		{"message_events", qEraseMsgEvents, []any{tenantID, contactID, tenantID, contactID, fs}, messagesKind},
		{"messages", qEraseMessages, []any{tenantID, contactID, tenantID, contactID, fs}, messagesKind},
		{"keyword_stops", qEraseStops, []any{tenantID, contactID}, nil},
		{"consent_states", qEraseCurrent, []any{tenantID, contactID}, nil},
		{"consent_evidence", qEraseEvidence, []any{tenantID, contactID}, nil},
		{"legal_holds", qEraseHold, []any{tenantID, contactID}, nil},
		{"identifiers", qDelIdentifiers, []any{tenantID, contactID}, nil},
		{"data_keys", qShredKey, []any{tenantID, contactID}, nil},
		{"contacts", qEraseContact, []any{tenantID, contactID}, nil},
	}
	out := make(map[string]int, len(steps))
	for _, s := range steps {
		qs := []string{s.q}
		if s.kind != nil {
			var err error
			if qs, err = t.inEach(ctx, s.kind, s.q); err != nil {
				return nil, err
			}
		}
		for _, q := range qs {
			n, err := rowsAffected(t.exec(ctx, q, s.args...))
			if err != nil {
				return nil, fmt.Errorf("sqlite: erase %s: %w", s.name, err)
			}
			out[s.name] += n
		}
	}
	return out, nil
}

// formsJSON is the further forms of EraseContact as its statements take
// them, a JSON array of hex strings ("[]" for none): one statement text
// whatever their number, which the statement cache keeps. Empty forms are
// left out; no row holds one.
func formsJSON(forms [][]byte) string {
	hexes := make([]string, 0, len(forms))
	for _, f := range forms {
		if len(f) > 0 {
			hexes = append(hexes, hex.EncodeToString(f))
		}
	}
	b, _ := json.Marshal(hexes)
	return string(b)
}

func (t *tx) CreateErasureCertificate(ctx context.Context, c *store.ErasureCertificate) error {
	_, err := t.exec(ctx, qCreateCert, c.ID, c.TenantID, c.ContactID, c.DSRID, c.Body, us(c.CreatedAt))
	return err
}

func (t *tx) GetErasureCertificate(ctx context.Context, tenantID, contactID string) (*store.ErasureCertificate, error) {
	var c store.ErasureCertificate
	var created int64
	err := t.tx.QueryRowContext(ctx, qGetCert, tenantID, contactID).Scan(&c.ID, &c.TenantID, &c.ContactID, &c.DSRID, &c.Body, &created)
	if err != nil {
		return nil, mapErr(err)
	}
	c.CreatedAt = fromUS(created)
	return &c, nil
}

func (t *tx) FindSuppressionReason(ctx context.Context, tenantID, kind string, bi []byte) (string, error) {
	var reason string
	err := t.tx.QueryRowContext(ctx, qSuppReason, tenantID, kind, bi).Scan(&reason)
	return reason, mapErr(err)
}

func (t *tx) ListContactMessages(ctx context.Context, tenantID, contactID string, limit int) ([]*store.Message, error) {
	return queryAll(ctx, t, qContactMsgs, scanMessage, tenantID, contactID, limit)
}

func (t *tx) ListContactInbound(ctx context.Context, tenantID, contactID string, limit int) ([]*store.InboundMessage, error) {
	return queryAll(ctx, t, qContactInbound, func(row interface{ Scan(...any) error }) (*store.InboundMessage, error) {
		var m store.InboundMessage
		var ch string
		var rec, recd int64
		if err := row.Scan(&m.TenantID, &ch, &m.ProviderID, &m.ID, &m.SenderID, &m.ContactID, &m.FromIndex, &m.TextHash,
			&m.TextLen, &m.Keyword, &m.Action, &m.Scope, &m.Language, &m.Outcome, &rec, &recd); err != nil {
			return nil, mapErr(err)
		}
		m.Channel, m.ReceivedAt, m.RecordedAt = consent.Channel(ch), fromUS(rec), fromUS(recd)
		return &m, nil
	}, tenantID, contactID, limit)
}

func (t *tx) PutRetentionPolicy(ctx context.Context, p *store.RetentionPolicy) error {
	_, err := t.exec(ctx, qPutRetention, p.TenantID, p.Category, int64(p.Period/time.Second), us(p.UpdatedAt))
	return err
}

func (t *tx) ListRetentionPolicies(ctx context.Context, tenantID string) ([]*store.RetentionPolicy, error) {
	return queryAll(ctx, t, qListRetention, func(row interface{ Scan(...any) error }) (*store.RetentionPolicy, error) {
		var p store.RetentionPolicy
		var period, updated int64
		if err := row.Scan(&p.TenantID, &p.Category, &period, &updated); err != nil {
			return nil, mapErr(err)
		}
		p.Period, p.UpdatedAt = time.Duration(period)*time.Second, fromUS(updated)
		return &p, nil
	}, tenantID)
}

func (t *tx) Purge(ctx context.Context, tenantID, category string, cutoff time.Time, limit int) (int, error) {
	q, ok := purgeQueries[category]
	if !ok {
		return 0, fmt.Errorf("sqlite: nothing to purge for category %q", category)
	}
	k := purgeKinds[category]
	if k == nil {
		return rowsAffected(t.exec(ctx, q[0], tenantID, us(cutoff), limit))
	}
	// Oldest partitions first: they hold most of what is due. A partition
	// whose rows have all expired is dropped whole by DropExpired before the
	// service comes here; this deletes the rest one by one.
	qs, err := t.inEach(ctx, k, q[0])
	if err != nil {
		return 0, err
	}
	done := 0
	for _, q := range qs {
		n, err := rowsAffected(t.exec(ctx, q, tenantID, us(cutoff), limit-done))
		if err != nil {
			return done, err
		}
		if done += n; done >= limit {
			break
		}
	}
	return done, nil
}

func (t *tx) CountPurgeable(ctx context.Context, tenantID, category string, cutoff time.Time) (int, error) {
	q, ok := purgeQueries[category]
	if !ok {
		return 0, fmt.Errorf("sqlite: nothing to purge for category %q", category)
	}
	qs := []string{q[1]}
	if k := purgeKinds[category]; k != nil {
		var err error
		if qs, err = t.inEach(ctx, k, q[1]); err != nil {
			return 0, err
		}
	}
	total := 0
	for _, q := range qs {
		var n int
		if err := t.tx.QueryRowContext(ctx, q, tenantID, us(cutoff)).Scan(&n); err != nil {
			return 0, mapErr(err)
		}
		total += n
	}
	return total, nil
}

func (t *tx) AppendPurgeRecord(ctx context.Context, r *store.PurgeRecord) error {
	_, err := t.exec(ctx, qAppendPurge, r.ID, r.TenantID, r.Category, r.Count, us(r.Cutoff), us(r.At), r.Signature)
	return err
}

func (t *tx) ListPurgeRecords(ctx context.Context, tenantID string, limit int) ([]*store.PurgeRecord, error) {
	scan := func(row interface{ Scan(...any) error }) (*store.PurgeRecord, error) {
		var r store.PurgeRecord
		var cut, at int64
		if err := row.Scan(&r.ID, &r.TenantID, &r.Category, &r.Count, &cut, &at, &r.Signature); err != nil {
			return nil, mapErr(err)
		}
		r.Cutoff, r.At = fromUS(cut), fromUS(at)
		return &r, nil
	}
	if tenantID == "" {
		return queryAll(ctx, t, qListPurgeAll, scan, limit)
	}
	return queryAll(ctx, t, qListPurge, scan, tenantID, limit)
}

func (t *tx) SetPurgeSignature(ctx context.Context, id string, sig []byte) error {
	return oneRow(t.exec(ctx, qSetPurgeSig, sig, id))
}

func (t *tx) UpdateTenantKey(ctx context.Context, tenantID string, wrapped []byte) error {
	return oneRow(t.exec(ctx, qUpdateTenantKey, wrapped, tenantID))
}

func (t *tx) wrappedAfter(ctx context.Context, q, tenantID, afterID string, limit int) ([]store.WrappedKey, error) {
	var out []store.WrappedKey
	err := scanEach(ctx, t, q, func(row interface{ Scan(...any) error }) error {
		var k store.WrappedKey
		if err := row.Scan(&k.ID, &k.Wrapped); err != nil {
			return mapErr(err)
		}
		out = append(out, k)
		return nil
	}, tenantID, afterID, limit)
	return out, err
}

func (t *tx) ContactKeysAfter(ctx context.Context, tenantID, afterID string, limit int) ([]store.WrappedKey, error) {
	return t.wrappedAfter(ctx, qContactKeysAfter, tenantID, afterID, limit)
}

func (t *tx) SetContactKey(ctx context.Context, tenantID, contactID string, wrapped []byte) error {
	return oneRow(t.exec(ctx, qSetContactKey, wrapped, tenantID, contactID))
}

func (t *tx) MessageKeysAfter(ctx context.Context, tenantID, afterID string, limit int) ([]store.WrappedKey, error) {
	return t.wrappedAfter(ctx, qMessageKeysAfter, tenantID, afterID, limit)
}

func (t *tx) SetMessageKey(ctx context.Context, tenantID, id string, wrapped []byte) error {
	return t.updateMessage(ctx, id, qSetMessageKey, wrapped, tenantID, id)
}

func (t *tx) ForwardBodiesAfter(ctx context.Context, tenantID, afterID string, limit int) ([]store.WrappedKey, error) {
	return t.wrappedAfter(ctx, qForwardsAfter, tenantID, afterID, limit)
}

func (t *tx) SetForwardBody(ctx context.Context, tenantID, id string, sealed []byte) error {
	return oneRow(t.exec(ctx, qSetForwardBody, sealed, tenantID, id))
}

func (t *tx) UpdateLedgerKey(ctx context.Context, name string, skeySealed []byte) error {
	return oneRow(t.exec(ctx, qUpdateLedgerKey, skeySealed, name))
}
