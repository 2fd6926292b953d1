package service

import (
	"context"
	"slices"
	"time"

	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/inventory"
	"github.com/consentgate/consentgate/internal/store"
)

// figuresWindow is how far back the time series of the figures reach.
const figuresWindow = 90 * 24 * time.Hour

// Figures are the compliance numbers a dashboard shows. They are counts
// only: no contact ids, no identifiers.
type Figures struct {
	GeneratedAt   time.Time            `json:"generated_at"`
	Record        RecordFigures        `json:"record"`
	ConsentStates []ConsentStateFigure `json:"consent_states"`
	OptOutsByDay  []OptOutFigure       `json:"opt_outs_by_day"`
	DSRs          DSRFigures           `json:"dsrs"`
	Purges        []PurgeFigure        `json:"purges"`
	Keys          KeyFigures           `json:"keys"`
	DPIAs         DPIAFigures          `json:"dpias"`
	Breaches      BreachFigures        `json:"breaches"`
	Unavailable   map[string]string    `json:"unavailable"` // figure → why the gateway cannot give it yet
}

// RecordFigures summarise the record of processing.
type RecordFigures struct {
	Version  int            `json:"version"`
	Digest   string         `json:"digest"`
	Findings map[string]int `json:"findings"` // by severity
}

// ConsentStateFigure counts current consent states.
type ConsentStateFigure struct {
	Purpose string          `json:"purpose"`
	Channel consent.Channel `json:"channel"`
	Status  consent.Status  `json:"status"`
	Count   int             `json:"count"`
}

// OptOutFigure counts withdrawals and objections of one day.
type OptOutFigure struct {
	Day     string          `json:"day"` // YYYY-MM-DD, UTC
	Purpose string          `json:"purpose"`
	Channel consent.Channel `json:"channel"`
	Count   int             `json:"count"`
}

// DSRFigures compare open data-subject requests with their due dates.
type DSRFigures struct {
	Open        int `json:"open"`
	Overdue     int `json:"overdue"`
	DueIn7Days  int `json:"due_in_7_days"`
	OldestOpenH int `json:"oldest_open_hours"`
}

// PurgeFigure sums the retention purges of one category in the window.
type PurgeFigure struct {
	Category string    `json:"category"`
	Rows     int       `json:"rows"`
	Runs     int       `json:"runs"`
	Last     time.Time `json:"last"`
}

// KeyFigures count the tenant's active API keys.
type KeyFigures struct {
	Active        int `json:"active"`
	WithoutExpiry int `json:"without_expiry"`
}

// DPIAFigures count worksheets by status; unreviewed is draft plus
// review_needed.
type DPIAFigures struct {
	Purposes     int `json:"purposes"`
	Signed       int `json:"signed"`
	Draft        int `json:"draft"`
	ReviewNeeded int `json:"review_needed"`
	Unreviewed   int `json:"unreviewed"`
	Required     int `json:"likely_required"`
}

// BreachFigures count the register's open deadlines.
type BreachFigures struct {
	Total        int `json:"total"`
	NotNotified  int `json:"not_notified"`
	Overdue      int `json:"overdue"`
	NotifiedLate int `json:"notified_late"`
}

// ComplianceFigures returns the figures. Generating them also stores a new
// version of the record of processing when the configuration changed, so
// a dashboard that polls them keeps the record's history current.
func (s *Service) ComplianceFigures(ctx context.Context, pr auth.Principal) (Figures, error) {
	rec, err := s.Ropa(ctx, pr, 0)
	if err != nil {
		return Figures{}, err
	}
	now := s.now()
	f := Figures{GeneratedAt: now, Record: RecordFigures{Version: rec.Version, Digest: rec.Digest, Findings: map[string]int{}},
		ConsentStates: []ConsentStateFigure{}, OptOutsByDay: []OptOutFigure{}, Purges: []PurgeFigure{},
		Unavailable: map[string]string{"opt_out_rate_per_campaign": "campaigns are not part of the gateway yet"}}
	for _, x := range rec.Findings {
		f.Record.Findings[x.Severity]++
	}
	err = s.store.Read(ctx, func(tx store.Tx) error {
		if err := s.consentFigures(ctx, tx, pr.TenantID, now, &f); err != nil {
			return err
		}
		if err := s.dsrFigures(ctx, tx, pr.TenantID, now, &f); err != nil {
			return err
		}
		if err := s.accessFigures(ctx, tx, pr.TenantID, now, &f); err != nil {
			return err
		}
		sums, err := s.readDPIASummaries(ctx, tx, pr.TenantID)
		if err != nil {
			return err
		}
		for _, d := range sums {
			f.DPIAs.Purposes++
			switch d.Status {
			case inventory.StatusSigned:
				f.DPIAs.Signed++
			case inventory.StatusDraft:
				f.DPIAs.Draft++
			case inventory.StatusReviewNeeded:
				f.DPIAs.ReviewNeeded++
			}
			if d.Outcome == inventory.OutcomeRequired {
				f.DPIAs.Required++
			}
		}
		f.DPIAs.Unreviewed = f.DPIAs.Draft + f.DPIAs.ReviewNeeded
		bs, err := tx.ListBreaches(ctx, pr.TenantID)
		for _, b := range bs {
			v := viewBreach(b, now)
			f.Breaches.Total++
			switch v.DeadlineStatus {
			case inventory.DeadlineOpen:
				f.Breaches.NotNotified++
			case inventory.DeadlineOverdue:
				f.Breaches.NotNotified++
				f.Breaches.Overdue++
			case inventory.DeadlineLate:
				f.Breaches.NotifiedLate++
			}
		}
		return err
	})
	return f, storeErr(err, "figures")
}

func (s *Service) consentFigures(ctx context.Context, tx store.Tx, tenantID string, now time.Time, f *Figures) error {
	states, err := tx.CountConsentStates(ctx, tenantID)
	if err != nil {
		return err
	}
	for _, c := range states {
		f.ConsentStates = append(f.ConsentStates, ConsentStateFigure{Purpose: c.Purpose, Channel: c.Channel, Status: c.Status, Count: c.Count})
	}
	days, err := tx.CountOptOutsByDay(ctx, tenantID, now.Add(-figuresWindow))
	if err != nil {
		return err
	}
	for _, d := range days {
		f.OptOutsByDay = append(f.OptOutsByDay, OptOutFigure{Day: d.Day.Format(time.DateOnly), Purpose: d.Purpose, Channel: d.Channel, Count: d.Count})
	}
	return nil
}

// dsrFigures reads the privacy store's open requests (issue 6) and their
// purge log.
func (s *Service) dsrFigures(ctx context.Context, tx store.Tx, tenantID string, now time.Time, f *Figures) error {
	open, err := tx.ListDSRs(ctx, tenantID, true, 10000)
	if err != nil {
		return err
	}
	for _, r := range open {
		f.DSRs.Open++
		switch {
		case r.DueAt.Before(now):
			f.DSRs.Overdue++
		case r.DueAt.Before(now.Add(7 * 24 * time.Hour)):
			f.DSRs.DueIn7Days++
		}
		f.DSRs.OldestOpenH = max(f.DSRs.OldestOpenH, int(now.Sub(r.ReceivedAt)/time.Hour))
	}
	purges, err := tx.ListPurgeRecords(ctx, tenantID, 1000)
	if err != nil {
		return err
	}
	for _, p := range purges {
		if p.At.Before(now.Add(-figuresWindow)) {
			continue
		}
		i := slices.IndexFunc(f.Purges, func(x PurgeFigure) bool { return x.Category == p.Category })
		if i < 0 {
			f.Purges = append(f.Purges, PurgeFigure{Category: p.Category})
			i = len(f.Purges) - 1
		}
		f.Purges[i].Rows += p.Count
		f.Purges[i].Runs++
		if p.At.After(f.Purges[i].Last) {
			f.Purges[i].Last = p.At
		}
	}
	slices.SortFunc(f.Purges, func(a, b PurgeFigure) int {
		if a.Category < b.Category {
			return -1
		}
		return 1
	})
	return nil
}

func (s *Service) accessFigures(ctx context.Context, tx store.Tx, tenantID string, now time.Time, f *Figures) error {
	keys, err := tx.ListAPIKeys(ctx, tenantID)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if !k.RevokedAt.IsZero() || (!k.ExpiresAt.IsZero() && !k.ExpiresAt.After(now)) {
			continue
		}
		f.Keys.Active++
		if k.ExpiresAt.IsZero() {
			f.Keys.WithoutExpiry++
		}
	}
	return nil
}
