package service

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/inventory"
	"github.com/consentgate/consentgate/internal/store"
)

// volumeWindow is how far back "messaged contacts" count for a DPIA's
// large-scale question.
const volumeWindow = 365 * 24 * time.Hour

// DPIA returns the worksheet of a purpose: screening pre-answered from the
// configuration and volumes, manual answers over them, the risk register
// and the sign-off state.
func (s *Service) DPIA(ctx context.Context, pr auth.Principal, purpose string) (inventory.DPIA, error) {
	if err := authorize(pr, auth.RecordsRead); err != nil {
		return inventory.DPIA{}, err
	}
	var d inventory.DPIA
	err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		d, _, err = s.readDPIA(ctx, tx, pr.TenantID, purpose)
		return err
	})
	return d, storeErr(err, "purpose")
}

// readDPIA builds the worksheet inside tx and returns the stored state too
// (zero when none is stored).
func (s *Service) readDPIA(ctx context.Context, tx store.Tx, tenantID, purpose string) (inventory.DPIA, *store.DPIARecord, error) {
	p, err := tx.GetPurpose(ctx, tenantID, purpose)
	if err != nil {
		return inventory.DPIA{}, nil, err
	}
	in, err := s.readRecordsInput(ctx, tx, tenantID)
	if err != nil {
		return inventory.DPIA{}, nil, err
	}
	vols, err := tx.PurposeVolumes(ctx, tenantID, s.now().Add(-volumeWindow))
	if err != nil {
		return inventory.DPIA{}, nil, err
	}
	return s.buildDPIA(ctx, tx, tenantID, p, in, vols)
}

// buildDPIA builds one purpose's worksheet from an input and volumes read
// once for all purposes.
func (s *Service) buildDPIA(ctx context.Context, tx store.Tx, tenantID string, p *consent.Purpose, in inventory.Input,
	vols []store.PurposeVolume) (inventory.DPIA, *store.DPIARecord, error) {
	purpose := p.Key
	v := inventory.Volumes{Known: true}
	for _, x := range vols {
		if x.Purpose == purpose {
			v.Consenting, v.Messaged = x.Consenting, x.Messaged
		}
	}
	rec, err := tx.GetDPIA(ctx, tenantID, purpose)
	if errors.Is(err, store.ErrNotFound) {
		rec, err = &store.DPIARecord{TenantID: tenantID, Purpose: purpose}, nil
	}
	if err != nil {
		return inventory.DPIA{}, nil, err
	}
	st, err := dpiaState(rec)
	if err != nil {
		return inventory.DPIA{}, nil, err
	}
	return inventory.BuildDPIA(*p, in, v, st, s.now()), rec, nil
}

func dpiaState(r *store.DPIARecord) (inventory.DPIAState, error) {
	var st inventory.DPIAState
	if len(r.Answers) > 0 {
		if err := json.Unmarshal(r.Answers, &st.Answers); err != nil {
			return st, apperr.Wrap(err, apperr.Internal, "stored DPIA answers unreadable")
		}
	}
	if r.Risks != nil {
		st.Risks = []inventory.Risk{}
		if err := json.Unmarshal(r.Risks, &st.Risks); err != nil {
			return st, apperr.Wrap(err, apperr.Internal, "stored DPIA risks unreadable")
		}
	}
	if r.SignedBy != "" {
		st.SignOff = &inventory.SignOff{By: r.SignedBy, At: r.SignedAt, Digest: r.SignedDigest, Note: r.SignNote}
	}
	return st, nil
}

// DPIAInput replaces the manual answers and, when Risks is not nil, the
// risk register. An empty Risks list is a register with no risks; leave it
// out (null) to keep the generated one.
type DPIAInput struct {
	Answers map[string]inventory.ManualAnswer `json:"answers"`
	Risks   []inventory.Risk                  `json:"risks"`
}

func (in *DPIAInput) check() error {
	for id, a := range in.Answers {
		if !slices.Contains(inventory.Questions, id) {
			return apperr.New(apperr.InvalidRecord, "unknown screening question %q (one of %s)", id, strings.Join(inventory.Questions, ", "))
		}
		if a.Answer != inventory.Yes && a.Answer != inventory.No && a.Answer != inventory.Unknown {
			return apperr.New(apperr.InvalidRecord, "answer to %s must be yes, no or unknown", id)
		}
		if len(a.Note) > 1000 {
			return apperr.New(apperr.InvalidRecord, "the note on %s is longer than 1000 characters", id)
		}
	}
	if len(in.Risks) > 50 {
		return apperr.New(apperr.InvalidRecord, "at most 50 risks")
	}
	seen := map[string]bool{}
	for _, r := range in.Risks {
		if err := r.Validate(); err != nil {
			return apperr.Wrap(err, apperr.InvalidRecord, "%v", err)
		}
		if seen[r.ID] {
			return apperr.New(apperr.InvalidRecord, "risk id %q appears twice", r.ID)
		}
		seen[r.ID] = true
	}
	return nil
}

// PutDPIA stores the compliance role's answers and risk register. A
// signed-off worksheet that changes needs a new sign-off: its status
// becomes review_needed, because its digest no longer matches.
func (s *Service) PutDPIA(ctx context.Context, pr auth.Principal, purpose string, in DPIAInput) (inventory.DPIA, error) {
	if err := authorize(pr, auth.DPIAWrite); err != nil {
		return inventory.DPIA{}, err
	}
	if err := in.check(); err != nil {
		return inventory.DPIA{}, err
	}
	var d inventory.DPIA
	err := s.commit.do(ctx, func(tx store.Tx) error {
		_, rec, err := s.readDPIA(ctx, tx, pr.TenantID, purpose)
		if err != nil {
			return err
		}
		if rec.Answers, err = json.Marshal(in.Answers); err != nil {
			return err
		}
		rec.Risks = nil
		if in.Risks != nil {
			if rec.Risks, err = json.Marshal(in.Risks); err != nil {
				return err
			}
		}
		rec.UpdatedAt = s.now()
		if err := tx.PutDPIA(ctx, rec); err != nil {
			return err
		}
		if d, _, err = s.readDPIA(ctx, tx, pr.TenantID, purpose); err != nil {
			return err
		}
		return s.audited(ctx, tx, pr, auditRec{action: ActionDPIAUpdate, objectType: "dpia", objectID: purpose, fields: []string{"answers", "risks"}})
	}, nil)
	return d, storeErr(err, "purpose")
}

// SignOff is the compliance role's approval of a worksheet. Digest must be
// the digest of the worksheet the signer read: a worksheet that changed in
// between is not signed.
type SignOff struct {
	Digest string `json:"digest"`
	Note   string `json:"note"`
}

// SignOffDPIA records the sign-off of a purpose's worksheet. Only the
// compliance role may (separation of duties: those who define purposes
// and run the system do not approve their own assessment).
func (s *Service) SignOffDPIA(ctx context.Context, pr auth.Principal, purpose string, in SignOff) (inventory.DPIA, error) {
	if err := authorize(pr, auth.DPIASignOff); err != nil {
		return inventory.DPIA{}, err
	}
	if in.Digest == "" || len(in.Note) > 1000 {
		return inventory.DPIA{}, apperr.New(apperr.InvalidRecord, "digest (of the worksheet read) is required; note is at most 1000 characters")
	}
	var d inventory.DPIA
	err := s.commit.do(ctx, func(tx store.Tx) error {
		cur, rec, err := s.readDPIA(ctx, tx, pr.TenantID, purpose)
		if err != nil {
			return err
		}
		if cur.Digest != in.Digest {
			return apperr.New(apperr.Conflict, "the worksheet changed since it was read (digest %s); read it again before signing", cur.Digest)
		}
		if cur.Outcome == inventory.OutcomeUndetermined {
			return apperr.New(apperr.InvalidRecord, "screening answers are unknown that decide whether a DPIA is required; answer them first")
		}
		rec.SignedBy, rec.SignedAt, rec.SignedDigest, rec.SignNote = signer(pr), s.now(), cur.Digest, strings.TrimSpace(in.Note)
		rec.UpdatedAt = rec.SignedAt
		if rec.Answers == nil {
			rec.Answers = []byte("{}")
		}
		if err := tx.PutDPIA(ctx, rec); err != nil {
			return err
		}
		if d, _, err = s.readDPIA(ctx, tx, pr.TenantID, purpose); err != nil {
			return err
		}
		return s.audited(ctx, tx, pr, auditRec{action: ActionDPIASignOff, objectType: "dpia", objectID: purpose, fields: []string{cur.Digest}})
	}, nil)
	return d, storeErr(err, "purpose")
}

// signer names who signed: the key (or user) id and its role.
func signer(pr auth.Principal) string {
	if pr.KeyID == "" {
		return "operator"
	}
	return pr.KeyID + " (" + string(pr.Role) + ")"
}

// DPIASummary is one purpose's worksheet status.
type DPIASummary struct {
	Purpose  string    `json:"purpose"`
	Outcome  string    `json:"outcome"`
	Status   string    `json:"status"`
	Digest   string    `json:"digest"`
	SignedAt time.Time `json:"signed_at,omitzero"`
}

// DPIAs lists every purpose's worksheet status.
func (s *Service) DPIAs(ctx context.Context, pr auth.Principal) ([]DPIASummary, error) {
	if err := authorize(pr, auth.RecordsRead); err != nil {
		return nil, err
	}
	var out []DPIASummary
	err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		out, err = s.readDPIASummaries(ctx, tx, pr.TenantID)
		return err
	})
	return out, storeErr(err, "purpose")
}

func (s *Service) readDPIASummaries(ctx context.Context, tx store.Tx, tenantID string) ([]DPIASummary, error) {
	ps, err := tx.ListPurposes(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	in, err := s.readRecordsInput(ctx, tx, tenantID)
	if err != nil {
		return nil, err
	}
	vols, err := tx.PurposeVolumes(ctx, tenantID, s.now().Add(-volumeWindow))
	if err != nil {
		return nil, err
	}
	out := make([]DPIASummary, 0, len(ps))
	for _, p := range ps {
		d, _, err := s.buildDPIA(ctx, tx, tenantID, p, in, vols)
		if err != nil {
			return nil, err
		}
		sum := DPIASummary{Purpose: p.Key, Outcome: d.Outcome, Status: d.Status, Digest: d.Digest}
		if d.SignOff != nil {
			sum.SignedAt = d.SignOff.At
		}
		out = append(out, sum)
	}
	return out, nil
}
