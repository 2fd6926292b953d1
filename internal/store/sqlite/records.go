package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
)

func (t *tx) PutControllerDetails(ctx context.Context, d *store.ControllerDetails) error {
	_, err := t.exec(ctx, qPutController, d.TenantID, d.Address, d.Representative, d.RepresentativeContact, d.DPOPhone,
		d.SupervisoryAuthority, d.SupervisoryAuthorityURL, us(d.UpdatedAt))
	return err
}

func (t *tx) GetControllerDetails(ctx context.Context, tenantID string) (*store.ControllerDetails, error) {
	var d store.ControllerDetails
	var upd int64
	err := t.tx.QueryRowContext(ctx, qGetController, tenantID).Scan(&d.TenantID, &d.Address, &d.Representative,
		&d.RepresentativeContact, &d.DPOPhone, &d.SupervisoryAuthority, &d.SupervisoryAuthorityURL, &upd)
	if err != nil {
		return nil, mapErr(err)
	}
	d.UpdatedAt = fromUS(upd)
	return &d, nil
}

func (t *tx) PutProcessorDetails(ctx context.Context, p *store.ProcessorDetails) error {
	_, err := t.exec(ctx, qPutProcessor, p.TenantID, string(p.Channel), p.Name, p.Country, p.Transfer, p.DPARef, us(p.UpdatedAt))
	return err
}

func (t *tx) ListProcessorDetails(ctx context.Context, tenantID string) ([]*store.ProcessorDetails, error) {
	return queryAll(ctx, t, qListProcessors, func(row scanner) (*store.ProcessorDetails, error) {
		var p store.ProcessorDetails
		var ch string
		var upd int64
		if err := row.Scan(&p.TenantID, &ch, &p.Name, &p.Country, &p.Transfer, &p.DPARef, &upd); err != nil {
			return nil, mapErr(err)
		}
		p.Channel, p.UpdatedAt = consent.Channel(ch), fromUS(upd)
		return &p, nil
	}, tenantID)
}

func (t *tx) CreateRecordVersion(ctx context.Context, v *store.RecordVersion) error {
	_, err := t.exec(ctx, qCreateVersion, v.TenantID, v.Kind, v.Version, v.Digest, v.Body, nonNilBytes(v.Changes), us(v.CreatedAt))
	return err
}

func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func scanVersion(row scanner) (*store.RecordVersion, error) {
	var v store.RecordVersion
	var created int64
	if err := row.Scan(&v.TenantID, &v.Kind, &v.Version, &v.Digest, &v.Body, &v.Changes, &created); err != nil {
		return nil, mapErr(err)
	}
	v.CreatedAt = fromUS(created)
	if len(v.Body) == 0 {
		v.Body = nil
	}
	return &v, nil
}

func (t *tx) LatestRecordVersion(ctx context.Context, tenantID, kind string) (*store.RecordVersion, error) {
	return scanVersion(t.tx.QueryRowContext(ctx, qLatestVersion, tenantID, kind))
}

func (t *tx) GetRecordVersion(ctx context.Context, tenantID, kind string, version int) (*store.RecordVersion, error) {
	return scanVersion(t.tx.QueryRowContext(ctx, qGetVersion, tenantID, kind, version))
}

func (t *tx) ListRecordVersions(ctx context.Context, tenantID, kind string) ([]*store.RecordVersion, error) {
	return queryAll(ctx, t, qListVersions, scanVersion, tenantID, kind)
}

func (t *tx) PutDPIA(ctx context.Context, d *store.DPIARecord) error {
	_, err := t.exec(ctx, qPutDPIA, d.TenantID, d.Purpose, nonNilBytes(d.Answers), d.Risks, d.SignedBy, us(d.SignedAt),
		d.SignedDigest, d.SignNote, us(d.UpdatedAt))
	return err
}

func scanDPIA(row scanner) (*store.DPIARecord, error) {
	var d store.DPIARecord
	var signed, upd int64
	if err := row.Scan(&d.TenantID, &d.Purpose, &d.Answers, &d.Risks, &d.SignedBy, &signed, &d.SignedDigest, &d.SignNote, &upd); err != nil {
		return nil, mapErr(err)
	}
	d.SignedAt, d.UpdatedAt = fromUS(signed), fromUS(upd)
	return &d, nil
}

func (t *tx) GetDPIA(ctx context.Context, tenantID, purpose string) (*store.DPIARecord, error) {
	return scanDPIA(t.tx.QueryRowContext(ctx, qGetDPIA, tenantID, purpose))
}

func (t *tx) ListDPIAs(ctx context.Context, tenantID string) ([]*store.DPIARecord, error) {
	return queryAll(ctx, t, qListDPIAs, scanDPIA, tenantID)
}

func (t *tx) CreateBreach(ctx context.Context, b *store.Breach) error {
	cats, _ := json.Marshal(nonNilStrings(b.Categories))
	_, err := t.exec(ctx, qCreateBreach, b.ID, b.TenantID, us(b.DiscoveredAt), us(b.OccurredFrom), us(b.OccurredTo), b.Nature,
		string(cats), string(b.Channel), b.ApproxSubjects, b.ApproxRecords, b.Consequences, b.Measures, us(b.NotifiedAt),
		b.LateReason, b.RecordedBy, us(b.CreatedAt), us(b.UpdatedAt))
	return err
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (t *tx) UpdateBreach(ctx context.Context, b *store.Breach) error {
	cats, _ := json.Marshal(nonNilStrings(b.Categories))
	r, err := t.exec(ctx, qUpdateBreach, us(b.DiscoveredAt), us(b.OccurredFrom), us(b.OccurredTo), b.Nature, string(cats),
		string(b.Channel), b.ApproxSubjects, b.ApproxRecords, b.Consequences, b.Measures, us(b.NotifiedAt), b.LateReason,
		us(b.UpdatedAt), b.TenantID, b.ID)
	return oneRow(r, err)
}

func scanBreach(row scanner) (*store.Breach, error) {
	var b store.Breach
	var disc, from, to, notified, created, upd int64
	var cats, ch string
	if err := row.Scan(&b.ID, &b.TenantID, &disc, &from, &to, &b.Nature, &cats, &ch, &b.ApproxSubjects, &b.ApproxRecords,
		&b.Consequences, &b.Measures, &notified, &b.LateReason, &b.RecordedBy, &created, &upd); err != nil {
		return nil, mapErr(err)
	}
	b.DiscoveredAt, b.OccurredFrom, b.OccurredTo, b.NotifiedAt = fromUS(disc), fromUS(from), fromUS(to), fromUS(notified)
	b.CreatedAt, b.UpdatedAt, b.Channel = fromUS(created), fromUS(upd), consent.Channel(ch)
	if err := json.Unmarshal([]byte(cats), &b.Categories); err != nil {
		return nil, fmt.Errorf("sqlite: breach %s: categories: %w", b.ID, err)
	}
	return &b, nil
}

func (t *tx) GetBreach(ctx context.Context, tenantID, id string) (*store.Breach, error) {
	return scanBreach(t.tx.QueryRowContext(ctx, qGetBreach, tenantID, id))
}

func (t *tx) ListBreaches(ctx context.Context, tenantID string) ([]*store.Breach, error) {
	return queryAll(ctx, t, qListBreaches, scanBreach, tenantID)
}

func (t *tx) CountAffected(ctx context.Context, q store.AffectedQuery) (*store.AffectedCount, error) {
	qs, ok := affectedQueries[string(q.Source)]
	if !ok {
		return nil, fmt.Errorf("sqlite: unknown affected source %q", q.Source)
	}
	args := []any{q.TenantID, us(q.From), us(q.To), string(q.Channel), string(q.Channel)}
	if q.Source == store.SourceContacts {
		args = []any{q.TenantID, us(q.To)}
	}
	var out store.AffectedCount
	if err := t.tx.QueryRowContext(ctx, qs[0], args...).Scan(&out.Records, &out.Contacts); err != nil {
		return nil, mapErr(err)
	}
	if q.Limit <= 0 {
		return &out, nil
	}
	ids, err := queryAll(ctx, t, qs[1], func(row scanner) (string, error) {
		var id string
		return id, mapErr(row.Scan(&id))
	}, append(args, q.Limit)...)
	out.ContactIDs = ids
	return &out, err
}

func (t *tx) CountConsentStates(ctx context.Context, tenantID string) ([]store.ConsentStateCount, error) {
	return queryAll(ctx, t, qConsentStates, func(row scanner) (store.ConsentStateCount, error) {
		var c store.ConsentStateCount
		var ch, st string
		err := row.Scan(&c.Purpose, &ch, &st, &c.Count)
		c.Channel, c.Status = consent.Channel(ch), consent.Status(st)
		return c, mapErr(err)
	}, tenantID)
}

func (t *tx) CountOptOutsByDay(ctx context.Context, tenantID string, since time.Time) ([]store.DayCount, error) {
	return queryAll(ctx, t, qOptOutsByDay, func(row scanner) (store.DayCount, error) {
		var c store.DayCount
		var day int64
		var ch string
		err := row.Scan(&day, &c.Purpose, &ch, &c.Count)
		c.Day, c.Channel = time.Unix(day*86400, 0).UTC(), consent.Channel(ch)
		return c, mapErr(err)
	}, tenantID, us(since))
}

func (t *tx) PurposeVolumes(ctx context.Context, tenantID string, since time.Time) ([]store.PurposeVolume, error) {
	type pc struct {
		p string
		n int
	}
	scan := func(row scanner) (pc, error) {
		var x pc
		return x, mapErr(row.Scan(&x.p, &x.n))
	}
	consenting, err := queryAll(ctx, t, qConsentingByPu, scan, tenantID)
	if err != nil {
		return nil, err
	}
	messaged, err := queryAll(ctx, t, qMessagedByPu, scan, tenantID, us(since))
	if err != nil {
		return nil, err
	}
	return mergeVolumes(consenting, messaged, func(x pc) (string, int) { return x.p, x.n }), nil
}

// mergeVolumes joins the two per-purpose counts, sorted by purpose.
func mergeVolumes[T any](consenting, messaged []T, kv func(T) (string, int)) []store.PurposeVolume {
	idx := map[string]*store.PurposeVolume{}
	var keys []string
	get := func(p string) *store.PurposeVolume {
		if v, ok := idx[p]; ok {
			return v
		}
		v := &store.PurposeVolume{Purpose: p}
		idx[p] = v
		keys = append(keys, p)
		return v
	}
	for _, x := range consenting {
		p, n := kv(x)
		get(p).Consenting = n
	}
	for _, x := range messaged {
		p, n := kv(x)
		get(p).Messaged = n
	}
	slices.Sort(keys)
	out := make([]store.PurposeVolume, 0, len(keys))
	for _, k := range keys {
		out = append(out, *idx[k])
	}
	return out
}
