package service

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/inventory"
	"github.com/consentgate/consentgate/internal/store"
)

// BreachInput records or changes a breach. On an update every field is
// optional: nil or empty leaves it as it is.
type BreachInput struct {
	DiscoveredAt     *time.Time `json:"discovered_at"`
	OccurredFrom     *time.Time `json:"occurred_from"`
	OccurredTo       *time.Time `json:"occurred_to"`
	Nature           *string    `json:"nature"`
	Categories       []string   `json:"categories"`
	ProcessorChannel *string    `json:"processor_channel"`
	ApproxSubjects   *int       `json:"approx_subjects"`
	ApproxRecords    *int       `json:"approx_records"`
	Consequences     *string    `json:"consequences"`
	Measures         *string    `json:"measures"`
	NotifiedAt       *time.Time `json:"notified_at"`
	LateReason       *string    `json:"late_reason"`
}

// apply copies the set fields onto b.
func (in *BreachInput) apply(b *store.Breach) {
	set := func(dst *time.Time, src *time.Time) {
		if src != nil {
			*dst = src.UTC().Truncate(time.Microsecond)
		}
	}
	set(&b.DiscoveredAt, in.DiscoveredAt)
	set(&b.OccurredFrom, in.OccurredFrom)
	set(&b.OccurredTo, in.OccurredTo)
	set(&b.NotifiedAt, in.NotifiedAt)
	for dst, src := range map[*string]*string{&b.Nature: in.Nature, &b.Consequences: in.Consequences, &b.Measures: in.Measures, &b.LateReason: in.LateReason} {
		if src != nil {
			*dst = strings.TrimSpace(*src)
		}
	}
	if in.Categories != nil {
		b.Categories = slices.Clone(in.Categories)
		slices.Sort(b.Categories)
		b.Categories = slices.Compact(b.Categories)
	}
	if in.ProcessorChannel != nil {
		b.Channel = consent.Channel(*in.ProcessorChannel)
	}
	if in.ApproxSubjects != nil {
		b.ApproxSubjects = *in.ApproxSubjects
	}
	if in.ApproxRecords != nil {
		b.ApproxRecords = *in.ApproxRecords
	}
}

// checkBreach validates a breach as it would be stored.
func checkBreach(b *store.Breach, now time.Time) error {
	bad := func(format string, args ...any) error { return apperr.New(apperr.InvalidRecord, format, args...) }
	switch {
	case b.Nature == "" || len(b.Nature) > 4000:
		return bad("nature is 1-4000 characters")
	case len(b.Consequences) > 4000 || len(b.Measures) > 4000 || len(b.LateReason) > 4000:
		return bad("consequences, measures and late_reason are at most 4000 characters")
	case b.DiscoveredAt.After(now.Add(5 * time.Minute)):
		return bad("discovered_at is in the future")
	case b.OccurredFrom.IsZero():
		return bad("occurred_from is required: the start of the window the breach could concern")
	case b.OccurredTo.Before(b.OccurredFrom):
		return bad("occurred_to is before occurred_from")
	case b.OccurredFrom.After(b.DiscoveredAt):
		return bad("occurred_from is after discovered_at")
	case !b.NotifiedAt.IsZero() && b.NotifiedAt.Before(b.DiscoveredAt):
		return bad("notified_at is before discovered_at")
	case b.ApproxSubjects < 0 || b.ApproxRecords < 0:
		return bad("approximate numbers must not be negative")
	case len(b.Categories) == 0:
		return bad("categories: name at least one data category (%s)", categoryNames())
	}
	for _, c := range b.Categories {
		if _, err := inventory.ParseCategory(c); err != nil {
			return bad("unknown data category %q (one of %s)", c, categoryNames())
		}
	}
	if b.Channel != "" {
		if _, err := consent.ParseChannel(string(b.Channel)); err != nil {
			return apperr.Wrap(err, apperr.UnknownChannel, "unknown processor_channel %q", b.Channel)
		}
	}
	return nil
}

func categoryNames() string {
	names := make([]string, len(inventory.Categories))
	for i, c := range inventory.Categories {
		names[i] = string(c)
	}
	return strings.Join(names, ", ")
}

// CreateBreach records a breach in the register. discovered_at defaults to
// now and occurred_to to discovered_at; when approx_subjects is not given
// the gateway's own count of affected contacts is used.
func (s *Service) CreateBreach(ctx context.Context, pr auth.Principal, in BreachInput) (inventory.Breach, error) {
	if err := authorize(pr, auth.BreachesWrite); err != nil {
		return inventory.Breach{}, err
	}
	now := s.now()
	b := &store.Breach{ID: s.newRecordID(), TenantID: pr.TenantID, DiscoveredAt: now, RecordedBy: signer(pr), CreatedAt: now, UpdatedAt: now}
	in.apply(b)
	if in.OccurredTo == nil {
		b.OccurredTo = b.DiscoveredAt
	}
	if err := checkBreach(b, now); err != nil {
		return inventory.Breach{}, err
	}
	var out inventory.Breach
	err := s.commit.do(ctx, func(tx store.Tx) error {
		aff, err := affected(ctx, tx, b, 0)
		if err != nil {
			return err
		}
		if in.ApproxSubjects == nil {
			b.ApproxSubjects = aff.Contacts
		}
		if in.ApproxRecords == nil {
			for _, c := range aff.Categories {
				b.ApproxRecords += c.Records
			}
		}
		if err := tx.CreateBreach(ctx, b); err != nil {
			return err
		}
		out = viewBreach(b, now)
		return s.audited(ctx, tx, pr, auditRec{action: ActionBreachCreate, objectType: "breach", objectID: b.ID, fields: b.Categories})
	}, nil)
	return out, storeErr(err, "breach")
}

// UpdateBreach changes a breach: typically the measures taken and the time
// the authority was notified.
func (s *Service) UpdateBreach(ctx context.Context, pr auth.Principal, id string, in BreachInput) (inventory.Breach, error) {
	if err := authorize(pr, auth.BreachesWrite); err != nil {
		return inventory.Breach{}, err
	}
	now := s.now()
	var out inventory.Breach
	err := s.commit.do(ctx, func(tx store.Tx) error {
		b, err := tx.GetBreach(ctx, pr.TenantID, id)
		if err != nil {
			return err
		}
		in.apply(b)
		if err := checkBreach(b, now); err != nil {
			return err
		}
		b.UpdatedAt = now
		if err := tx.UpdateBreach(ctx, b); err != nil {
			return err
		}
		out = viewBreach(b, now)
		return s.audited(ctx, tx, pr, auditRec{action: ActionBreachUpdate, objectType: "breach", objectID: b.ID, fields: in.fields()})
	}, nil)
	return out, storeErr(err, "breach")
}

// fields names the fields an update sets, for its audit event.
func (in *BreachInput) fields() []string {
	var out []string
	for name, set := range map[string]bool{"discovered_at": in.DiscoveredAt != nil, "occurred_from": in.OccurredFrom != nil,
		"occurred_to": in.OccurredTo != nil, "nature": in.Nature != nil, "categories": in.Categories != nil,
		"processor_channel": in.ProcessorChannel != nil, "approx_subjects": in.ApproxSubjects != nil,
		"approx_records": in.ApproxRecords != nil, "consequences": in.Consequences != nil, "measures": in.Measures != nil,
		"notified_at": in.NotifiedAt != nil, "late_reason": in.LateReason != nil} {
		if set {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

func viewBreach(b *store.Breach, now time.Time) inventory.Breach {
	v := inventory.Breach{ID: b.ID, DiscoveredAt: b.DiscoveredAt, OccurredFrom: b.OccurredFrom, OccurredTo: b.OccurredTo,
		Nature: b.Nature, Channel: b.Channel, ApproxSubjects: b.ApproxSubjects, ApproxRecords: b.ApproxRecords,
		Consequences: b.Consequences, Measures: b.Measures, NotifiedAt: b.NotifiedAt, LateReason: b.LateReason,
		RecordedBy: b.RecordedBy, CreatedAt: b.CreatedAt, UpdatedAt: b.UpdatedAt, Categories: []inventory.DataCategory{}}
	for _, c := range b.Categories {
		v.Categories = append(v.Categories, inventory.DataCategory(c))
	}
	inventory.Track(&v, now)
	return v
}

// Breaches lists the register, newest first, with each deadline tracked.
func (s *Service) Breaches(ctx context.Context, pr auth.Principal) ([]inventory.Breach, error) {
	if err := authorize(pr, auth.BreachesRead); err != nil {
		return nil, err
	}
	var bs []*store.Breach
	if err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		bs, err = tx.ListBreaches(ctx, pr.TenantID)
		return err
	}); err != nil {
		return nil, storeErr(err, "breach")
	}
	out := make([]inventory.Breach, 0, len(bs))
	for _, b := range bs {
		out = append(out, viewBreach(b, s.now()))
	}
	return out, nil
}

// BreachReport returns a breach with the gateway's count of what it could
// affect (counts only) and the controller details: the report for the
// authority (Art. 33(3)).
func (s *Service) BreachReport(ctx context.Context, pr auth.Principal, id string) (inventory.Breach, inventory.Controller, error) {
	if err := authorize(pr, auth.BreachesRead); err != nil {
		return inventory.Breach{}, inventory.Controller{}, err
	}
	var out inventory.Breach
	var c inventory.Controller
	err := s.store.Read(ctx, func(tx store.Tx) error {
		b, err := tx.GetBreach(ctx, pr.TenantID, id)
		if err != nil {
			return err
		}
		aff, err := affected(ctx, tx, b, 0)
		if err != nil {
			return err
		}
		out = viewBreach(b, s.now())
		out.Affected = aff
		c, err = readController(ctx, tx, pr.TenantID)
		return err
	})
	return out, c, storeErr(err, "breach")
}

// maxAffectedIDs caps the contact ids one answer lists.
const maxAffectedIDs = 10000

// BreachAffected answers "which contacts and data categories could be
// affected" for a breach's window, categories and processor. Counts are
// for every reader of the register; contact ids only with withContacts,
// which needs the compliance role's breaches:contacts permission and is
// itself an audit event.
func (s *Service) BreachAffected(ctx context.Context, pr auth.Principal, id string, withContacts bool) (*inventory.Affected, error) {
	perm := auth.BreachesRead
	if withContacts {
		perm = auth.BreachContacts
	}
	if err := authorize(pr, perm); err != nil {
		return nil, err
	}
	var aff *inventory.Affected
	limit := 0
	if withContacts {
		limit = maxAffectedIDs
	}
	run := func(tx store.Tx) error {
		b, err := tx.GetBreach(ctx, pr.TenantID, id)
		if err != nil {
			return err
		}
		if aff, err = affected(ctx, tx, b, limit); err != nil || !withContacts {
			return err
		}
		return s.audited(ctx, tx, pr, auditRec{action: ActionBreachContacts, objectType: "breach", objectID: id,
			fields: []string{"contact_ids"}})
	}
	var err error
	if withContacts {
		// Listing ids is recorded in the same transaction (fail closed).
		err = s.commit.do(ctx, run, nil)
	} else {
		err = s.store.Read(ctx, run)
	}
	return aff, storeErr(err, "breach")
}

// scopeSource is one count a data category of a breach is scoped by.
type scopeSource struct {
	src   store.AffectedSource
	basis string
}

// scopeSources says which rows a category of a breach concerns. Through a
// processor, identifiers were exposed for the people messaged through it or
// replying through it; without one (the database itself), for every
// contact stored before the window ended.
func scopeSources(cat inventory.DataCategory, viaProcessor bool) []scopeSource {
	switch cat {
	case inventory.CatIdentifiers:
		if viaProcessor {
			return []scopeSource{{store.SourceMessages, "recipients of messages sent through the processor in the window"},
				{store.SourceInbound, "senders of replies received through the processor in the window"}}
		}
		return []scopeSource{{store.SourceContacts, "contacts stored before the window ended"}}
	case inventory.CatContactAttributes:
		if viaProcessor {
			return nil // attributes are never passed to a processor
		}
		return []scopeSource{{store.SourceContacts, "contacts stored before the window ended"}}
	case inventory.CatConsentEvidence:
		return []scopeSource{{store.SourceConsentEvents, "consent events recorded in the window"}}
	case inventory.CatMessageMetadata, inventory.CatMessageBodies:
		return []scopeSource{{store.SourceMessages, "messages created in the window"}}
	case inventory.CatInboundMessages:
		return []scopeSource{{store.SourceInbound, "replies recorded in the window"}}
	}
	return nil
}

// affected counts what a breach's window could affect. Distinct contacts
// over all categories come from the union of their ids, read up to a
// bound; beyond it the total is the largest single count (a lower bound),
// and Truncated says so.
func affected(ctx context.Context, tx store.Tx, b *store.Breach, limit int) (*inventory.Affected, error) {
	const unionBound = 100000
	a := &inventory.Affected{From: b.OccurredFrom, To: b.OccurredTo, Channel: b.Channel, Categories: []inventory.CategoryCount{}}
	union := map[string]bool{}
	largest := 0
	for _, c := range b.Categories {
		cat := inventory.DataCategory(c)
		cc := inventory.CategoryCount{Category: cat, Basis: "not counted by the gateway"}
		var bases []string
		for _, src := range scopeSources(cat, b.Channel != "") {
			n, err := tx.CountAffected(ctx, store.AffectedQuery{TenantID: b.TenantID, Source: src.src, Channel: b.Channel,
				From: b.OccurredFrom, To: b.OccurredTo.Add(time.Microsecond), Limit: unionBound})
			if err != nil {
				return nil, err
			}
			cc.Records += n.Records
			cc.Contacts += n.Contacts
			largest = max(largest, n.Contacts)
			if n.Contacts > len(n.ContactIDs) {
				a.Truncated = true
			}
			for _, id := range n.ContactIDs {
				union[id] = true
			}
			bases = append(bases, src.basis)
		}
		if len(bases) > 0 {
			cc.Basis = strings.Join(bases, "; ")
		}
		a.Categories = append(a.Categories, cc)
	}
	a.Contacts = max(len(union), largest)
	if limit > 0 {
		a.ContactIDs = make([]string, 0, min(len(union), limit))
		for id := range union {
			a.ContactIDs = append(a.ContactIDs, id)
		}
		slices.Sort(a.ContactIDs)
		if len(a.ContactIDs) > limit {
			a.ContactIDs, a.Truncated = a.ContactIDs[:limit], true
		}
	}
	return a, nil
}
