package service

import (
	"context"
	"crypto/hmac"
	"runtime"
	"slices"
	"time"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/audit"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/oklog/ulid/v2"
)

const day = 24 * time.Hour

// DefaultRetention is how long each category of data is kept when the
// tenant has not said otherwise; docs/privacy.md gives the reasons.
var DefaultRetention = map[string]time.Duration{
	store.CategoryMessageBodies:   7 * day,       // a safety net: the outbox drops a body once the message is finished
	store.CategoryMessageMetadata: 365 * day,     // proof of what was sent on which basis, for complaints
	store.CategoryInbound:         90 * day,      // replay protection and proof of an opt-out; the opt-out itself is a consent event
	store.CategoryConsentEvidence: 3 * 365 * day, // after withdrawal: the general limitation period for claims
	store.CategoryAuditEvents:     2 * 365 * day, // redacted, not deleted: the hash chain keeps their digests
	store.CategoryDSRRecords:      3 * 365 * day, // after completion: proof the request was answered
}

// categories lists the categories in a stable order.
var categories = []string{store.CategoryMessageBodies, store.CategoryMessageMetadata, store.CategoryInbound,
	store.CategoryConsentEvidence, store.CategoryAuditEvents, store.CategoryDSRRecords}

// purgeable are the categories the purge acts on. Audit events are
// redacted rather than deleted (audit.Redact): a deleted row would break
// the hash chain, a redacted one keeps its place and digest in it.
var purgeable = []string{store.CategoryMessageBodies, store.CategoryMessageMetadata, store.CategoryInbound,
	store.CategoryConsentEvidence, store.CategoryAuditEvents, store.CategoryDSRRecords}

// RetentionView is one category's policy.
type RetentionView struct {
	Category string `json:"category"`
	Days     int    `json:"days"`
	Default  bool   `json:"default"`
	Purged   bool   `json:"purged"` // whether the purge worker acts on it
}

// RetentionInput sets policies; categories not named keep theirs.
type RetentionInput struct {
	Policies []struct {
		Category string `json:"category"`
		Days     int    `json:"days"`
	} `json:"policies"`
}

// GetRetention returns the tenant's policy for every category.
func (s *Service) GetRetention(ctx context.Context, pr auth.Principal) ([]RetentionView, error) {
	if err := authorize(pr, auth.RetentionManage); err != nil {
		return nil, err
	}
	return s.retention(ctx, pr.TenantID)
}

func (s *Service) retention(ctx context.Context, tenantID string) ([]RetentionView, error) {
	var ps []*store.RetentionPolicy
	if err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		ps, err = tx.ListRetentionPolicies(ctx, tenantID)
		return err
	}); err != nil {
		return nil, storeErr(err, "retention")
	}
	out := make([]RetentionView, len(categories))
	for i, c := range categories {
		out[i] = RetentionView{Category: c, Days: int(DefaultRetention[c] / day), Default: true, Purged: slices.Contains(purgeable, c)}
		for _, p := range ps {
			if p.Category == c {
				out[i].Days, out[i].Default = int(p.Period/day), false
			}
		}
	}
	return out, nil
}

// PutRetention sets retention periods, in days (1-3650).
func (s *Service) PutRetention(ctx context.Context, pr auth.Principal, in RetentionInput) ([]RetentionView, error) {
	if err := authorize(pr, auth.RetentionManage); err != nil {
		return nil, err
	}
	if len(in.Policies) == 0 {
		return nil, apperr.New(apperr.InvalidRequest, "policies is empty")
	}
	now := s.now()
	err := s.commit.do(ctx, func(tx store.Tx) error {
		for _, p := range in.Policies {
			if !slices.Contains(categories, p.Category) {
				return apperr.New(apperr.InvalidRequest, "unknown data category %q", p.Category)
			}
			if p.Days < 1 || p.Days > 3650 {
				return apperr.New(apperr.InvalidRequest, "%s: days must be 1-3650", p.Category)
			}
			if err := tx.PutRetentionPolicy(ctx, &store.RetentionPolicy{TenantID: pr.TenantID, Category: p.Category,
				Period: time.Duration(p.Days) * day, UpdatedAt: now}); err != nil {
				return err
			}
		}
		return s.audited(ctx, tx, pr, auditRec{action: audit.Action("retention.update"), objectType: "retention", objectID: pr.TenantID})
	}, nil)
	if err != nil {
		return nil, storeErr(err, "retention")
	}
	return s.retention(ctx, pr.TenantID)
}

// PurgeOptions tune a purge pass.
type PurgeOptions struct {
	TenantID string // "": every tenant
	DryRun   bool   // count only
	// Batch fixes how many rows one transaction removes; 0 sizes each
	// batch by time (purge_batch.go).
	// Batches run back to back, with only a yield between them: a write
	// queued meanwhile (a send's group commit) is handed the writer first
	// anyway, because a released connection goes to a waiting request
	// before the purge asks again. Measured on SQLite with two cores,
	// sleeping between batches made the purge slower without helping the
	// requests (docs/benchmarks.md).
	Batch int
	// Progress, when set, is called with the category, the rows purged so
	// far and the rows due.
	Progress func(tenantID, category string, done, total int)
}

// PurgeSummary is what one purge of one category did.
type PurgeSummary struct {
	TenantID string    `json:"tenant_id"`
	Category string    `json:"category"`
	Cutoff   time.Time `json:"cutoff"`
	Count    int       `json:"count"`
	DryRun   bool      `json:"dry_run,omitempty"`
	RecordID string    `json:"record_id,omitempty"`
}

// Purge removes what has outlived its retention period, category by
// category and batch by batch. Every category that lost rows leaves a
// signed summary in the purge log and an event in the audit trail.
func (s *Service) Purge(ctx context.Context, opt PurgeOptions) ([]PurgeSummary, error) {
	s.privacy.purgeMu.Lock()
	defer s.privacy.purgeMu.Unlock()
	var tenants []*store.Tenant
	if err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		tenants, err = tx.ListTenants(ctx)
		return err
	}); err != nil {
		return nil, err
	}
	// One cut-off per tenant and category, fixed before anything goes, so
	// a partition drop, the row-by-row purge and the summary agree.
	type due struct {
		tenant, category string
		cutoff           time.Time
	}
	var dues []due
	cutoffs := map[string]map[string]time.Time{} // category → tenant → cut-off
	for _, tn := range tenants {
		if opt.TenantID != "" && tn.ID != opt.TenantID {
			continue
		}
		pol, err := s.retention(ctx, tn.ID)
		if err != nil {
			return nil, err
		}
		for _, p := range pol {
			if !p.Purged {
				continue
			}
			d := due{tn.ID, p.Category, s.now().Add(-time.Duration(p.Days) * day)}
			dues = append(dues, d)
			if cutoffs[d.category] == nil {
				cutoffs[d.category] = map[string]time.Time{}
			}
			cutoffs[d.category][d.tenant] = d.cutoff
		}
	}
	// A store that keeps a category in time partitions drops the ones
	// whose rows have all expired, for every tenant at once: far cheaper
	// than deleting their rows one by one (docs/privacy.md).
	dropped := map[string]map[string]int{}
	if d, ok := s.store.(store.PartitionDropper); ok && !opt.DryRun {
		for category, cs := range cutoffs { // the store knows which categories it partitions
			n, err := d.DropExpired(ctx, category, cs)
			if err != nil {
				return nil, err
			}
			dropped[category] = n
		}
	}
	var out []PurgeSummary
	for _, d := range dues {
		sum, err := s.purgeCategory(ctx, d.tenant, d.category, d.cutoff, dropped[d.category][d.tenant], opt)
		if err != nil {
			return out, err
		}
		out = append(out, sum)
	}
	return out, nil
}

// purgeCategory purges what is left of one category of one tenant's data,
// after dropped rows went with whole partitions, and records the summary.
func (s *Service) purgeCategory(ctx context.Context, tenantID, category string, cutoff time.Time, dropped int, opt PurgeOptions) (PurgeSummary, error) {
	sum := PurgeSummary{TenantID: tenantID, Category: category, Cutoff: cutoff, DryRun: opt.DryRun, Count: dropped}
	var due int
	if err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		if category == store.CategoryAuditEvents {
			evs, err := tx.AuditToRedact(ctx, tenantID, cutoff, maxAuditCount)
			due = len(evs)
			return err
		}
		due, err = tx.CountPurgeable(ctx, tenantID, category, cutoff)
		return err
	}); err != nil {
		return sum, err
	}
	if opt.DryRun || due+dropped == 0 {
		sum.Count = due
		if opt.Progress != nil {
			opt.Progress(tenantID, category, due, due)
		}
		return sum, nil
	}
	// Batches commit without waiting for the disk (WriteRelaxed). A batch lost to a power cut only brings back
	// rows the next pass purges again; the summary below is committed
	// durably, which syncs every batch before it, so it never counts rows
	// that could come back. On the first VM measured, an fsync per batch
	// cost the concurrent requests' tail latency more than anything else
	// the purge did; on the second it made no difference either way
	// (docs/benchmarks.md).
	batch := newBatchSizer(opt.Batch, purgeBatchTime(s.store.Dialect()))
	for due > 0 {
		var n int
		var held time.Time // when the batch got the writer: waiting for it is not the batch's cost
		size := batch.size
		if err := s.store.WriteRelaxed(ctx, func(tx store.Tx) (err error) {
			held = time.Now()
			if category == store.CategoryAuditEvents {
				n, err = redactAudit(ctx, tx, tenantID, cutoff, size)
				return err
			}
			n, err = tx.Purge(ctx, tenantID, category, cutoff, size)
			return err
		}); err != nil {
			return sum, err
		}
		batch.done(n, time.Since(held))
		sum.Count += n
		if opt.Progress != nil {
			opt.Progress(tenantID, category, sum.Count, max(due+dropped, sum.Count))
		}
		if n < size {
			break
		}
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		runtime.Gosched()
	}
	if due == 0 && opt.Progress != nil {
		opt.Progress(tenantID, category, dropped, dropped)
	}
	rec := &store.PurgeRecord{ID: ulid.Make().String(), TenantID: tenantID, Category: category, Count: sum.Count,
		Cutoff: cutoff.Truncate(time.Microsecond), At: s.now().Truncate(time.Microsecond)}
	rec.Signature = purgeSignature(s.master, rec)
	sum.RecordID = rec.ID
	err := s.store.Write(ctx, func(tx store.Tx) error {
		if err := tx.AppendPurgeRecord(ctx, rec); err != nil {
			return err
		}
		return s.audited(ctx, tx, Operator(tenantID), auditRec{action: audit.Action("retention.purge"), objectType: "purge",
			objectID: rec.ID, fields: []string{category}})
	})
	if err != nil {
		return sum, err
	}
	s.log.InfoContext(ctx, "purged", "tenant", tenantID, "category", category, "count", sum.Count, "cutoff", cutoff, "record", rec.ID)
	return sum, nil
}

// PurgeRecordView is a purge log entry with its signature checked.
type PurgeRecordView struct {
	ID       string    `json:"id"`
	TenantID string    `json:"tenant_id"`
	Category string    `json:"category"`
	Count    int       `json:"count"`
	Cutoff   time.Time `json:"cutoff"`
	At       time.Time `json:"at"`
	Verified bool      `json:"signature_valid"`
}

// PurgeLog returns the newest purge records, each with its signature
// checked against the master key.
func (s *Service) PurgeLog(ctx context.Context, tenantID string, limit int) ([]PurgeRecordView, error) {
	var rs []*store.PurgeRecord
	if err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		rs, err = tx.ListPurgeRecords(ctx, tenantID, limit)
		return err
	}); err != nil {
		return nil, storeErr(err, "purge log")
	}
	out := make([]PurgeRecordView, len(rs))
	for i, r := range rs {
		out[i] = PurgeRecordView{ID: r.ID, TenantID: r.TenantID, Category: r.Category, Count: r.Count, Cutoff: r.Cutoff,
			At: r.At, Verified: hmac.Equal(r.Signature, purgeSignature(s.master, r))}
	}
	return out, nil
}

// TenantPurgeLog is PurgeLog for the API.
func (s *Service) TenantPurgeLog(ctx context.Context, pr auth.Principal) ([]PurgeRecordView, error) {
	if err := authorize(pr, auth.RetentionManage); err != nil {
		return nil, err
	}
	return s.PurgeLog(ctx, pr.TenantID, 100)
}

// maxAuditCount bounds the dry-run count of audit events due for
// redaction (the count reads the rows).
const maxAuditCount = 1_000_000

// redactAudit redacts up to limit of a tenant's chained audit events older
// than cutoff: their content goes, their digest stays in the chain.
func redactAudit(ctx context.Context, tx store.Tx, tenantID string, cutoff time.Time, limit int) (int, error) {
	evs, err := tx.AuditToRedact(ctx, tenantID, cutoff, limit)
	if err != nil {
		return 0, err
	}
	for _, e := range evs {
		audit.Redact(e)
		if err := tx.RedactAudit(ctx, e); err != nil {
			return 0, err
		}
	}
	return len(evs), nil
}
