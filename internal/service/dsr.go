package service

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/audit"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/vault"
	"github.com/oklog/ulid/v2"
)

// The data-subject request types (GDPR Art. 15–21).
const (
	DSRAccess        = "access"        // Art. 15
	DSRPortability   = "portability"   // Art. 20
	DSRErasure       = "erasure"       // Art. 17
	DSRRectification = "rectification" // Art. 16
	DSRRestriction   = "restriction"   // Art. 18
	DSRObjection     = "objection"     // Art. 21
)

var dsrTypes = []string{DSRAccess, DSRPortability, DSRErasure, DSRRectification, DSRRestriction, DSRObjection}

// The request statuses. Open and blocked requests are the DPO's work list.
const (
	dsrOpen      = "open"      // received, not carried out yet
	dsrBlocked   = "blocked"   // erasure held back by a legal hold
	dsrCompleted = "completed" // carried out
)

// dsrExtension is how much longer a request may take, once, when it is
// complex or one of many (Art. 12(3): "by two further months").
const dsrExtensionMonths = 2

// IdentifierInput names a person by one identifier. It travels in request
// bodies only, never in a URL.
type IdentifierInput struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// DSRInput records (and by default carries out) a data-subject request.
type DSRInput struct {
	Type       string           `json:"type"`
	ContactID  string           `json:"contact_id"`
	Identifier *IdentifierInput `json:"identifier"`
	// ReceivedAt is when the person made the request (default: now); the
	// one-month deadline runs from it.
	ReceivedAt *time.Time `json:"received_at"`
	// Execute false only records the request, to be carried out later
	// with POST /v1/dsr/{id}/execute.
	Execute *bool `json:"execute"`
	// Rectification: identifiers to set ("" removes one), attributes to
	// set (null removes one), the locale.
	Identifiers map[string]string `json:"identifiers"`
	Attributes  map[string]any    `json:"attributes"`
	Locale      *string           `json:"locale"`
	// Restriction: lift an earlier restriction instead of imposing one.
	Lift bool `json:"lift"`
	// Objection: the purposes objected to; default every marketing purpose.
	Purposes []string `json:"purposes"`
}

// DSRView is a request as the API shows it.
type DSRView struct {
	ID              string          `json:"id"`
	Type            string          `json:"type"`
	ContactID       string          `json:"contact_id,omitempty"`
	Status          string          `json:"status"`
	ReceivedAt      time.Time       `json:"received_at"`
	DueAt           time.Time       `json:"due_at"`
	Overdue         bool            `json:"overdue"`
	Extended        bool            `json:"extended"`
	ExtensionReason string          `json:"extension_reason,omitempty"`
	CompletedAt     *time.Time      `json:"completed_at,omitempty"`
	Result          json.RawMessage `json:"result,omitempty"`
}

func (s *Service) viewDSR(r *store.DSR) DSRView {
	v := DSRView{ID: r.ID, Type: r.Type, ContactID: r.ContactID, Status: r.Status, ReceivedAt: r.ReceivedAt,
		DueAt: r.DueAt, Extended: r.Extended, ExtensionReason: r.ExtensionReason}
	if !r.CompletedAt.IsZero() {
		t := r.CompletedAt
		v.CompletedAt = &t
	}
	if len(r.Result) > 0 {
		v.Result = json.RawMessage(r.Result)
	}
	v.Overdue = (r.Status == dsrOpen || r.Status == dsrBlocked) && s.now().After(r.DueAt)
	return v
}

// CreateDSR records a data-subject request and, unless in.Execute is false,
// carries it out at once. repeated is true for an erasure of a person who
// was erased before: the answer is then the first certificate.
func (s *Service) CreateDSR(ctx context.Context, pr auth.Principal, in DSRInput) (v DSRView, repeated bool, err error) {
	if err := authorize(pr, auth.DSRManage); err != nil {
		return DSRView{}, false, err
	}
	if !slices.Contains(dsrTypes, in.Type) {
		return DSRView{}, false, apperr.New(apperr.InvalidDSR, "type must be one of %s", strings.Join(dsrTypes, ", "))
	}
	if (in.ContactID == "") == (in.Identifier == nil) {
		return DSRView{}, false, apperr.New(apperr.InvalidDSR, "give exactly one of contact_id and identifier")
	}
	now := s.now()
	received := now
	if in.ReceivedAt != nil {
		received = in.ReceivedAt.UTC()
		if received.After(now.Add(5 * time.Minute)) {
			return DSRView{}, false, apperr.New(apperr.InvalidDSR, "received_at lies in the future")
		}
	}
	contactID, prior, err := s.resolveSubject(ctx, pr.TenantID, in)
	if err != nil {
		return DSRView{}, false, err
	}
	r := &store.DSR{ID: ulid.Make().String(), TenantID: pr.TenantID, Type: in.Type, ContactID: contactID, Status: dsrOpen,
		ReceivedAt: received, DueAt: received.AddDate(0, 1, 0), Actor: pr.KeyID}
	if prior != nil {
		// The person is gone already; the request is answered with the
		// certificate of the erasure that removed them.
		r.Status, r.CompletedAt, r.Result = dsrCompleted, now, prior.Body
		err := s.commit.do(ctx, func(tx store.Tx) error {
			if err := tx.CreateDSR(ctx, r); err != nil {
				return err
			}
			return s.audited(ctx, tx, pr, auditRec{action: audit.Action("dsr.erasure"), objectType: "dsr", objectID: r.ID,
				contactID: r.ContactID, result: audit.OK})
		}, nil)
		return s.viewDSR(r), true, storeErr(err, "request")
	}
	if err := s.commit.do(ctx, func(tx store.Tx) error { return tx.CreateDSR(ctx, r) }, nil); err != nil {
		return DSRView{}, false, storeErr(err, "request")
	}
	if in.Execute != nil && !*in.Execute {
		return s.viewDSR(r), false, nil
	}
	v, err = s.executeDSR(ctx, pr, r, in)
	return v, false, err
}

// resolveSubject finds the contact a request is about. An erasure of a
// person erased before returns the first certificate as prior.
func (s *Service) resolveSubject(ctx context.Context, tenantID string, in DSRInput) (string, *store.ErasureCertificate, error) {
	var kind consent.IdentifierKind
	var forms *vault.Forms
	if in.Identifier != nil {
		k, ok := consent.ParseIdentifierKind(in.Identifier.Kind)
		if !ok {
			return "", nil, apperr.New(apperr.InvalidDSR, "identifier kind must be phone, email or whatsapp")
		}
		tk, err := s.tenantKeys(ctx, tenantID)
		if err != nil {
			return "", nil, err
		}
		n, err := s.normalize(tk, k, in.Identifier.Value)
		if err != nil {
			return "", nil, err
		}
		kind, forms = k, &n.forms
	} else if _, err := ulid.ParseStrict(in.ContactID); err != nil {
		return "", nil, apperr.New(apperr.NotFound, "contact not found")
	}
	var id string
	var prior *store.ErasureCertificate
	err := s.store.Read(ctx, func(tx store.Tx) error {
		id = in.ContactID
		if forms != nil {
			var err error
			id, err = findContactID(ctx, tx, tenantID, kind, *forms)
			if errors.Is(err, store.ErrNotFound) {
				reason, rerr := firstFound(forms.Lookups(), func(form []byte) (string, error) {
					return tx.FindSuppressionReason(ctx, tenantID, string(kind), form)
				})
				if rerr != nil || !strings.HasPrefix(reason, erasedReason) {
					return err
				}
				id = strings.TrimPrefix(reason, erasedReason)
			} else if err != nil {
				return err
			}
		}
		_, _, err := tx.GetContact(ctx, tenantID, id)
		if errors.Is(err, store.ErrNotFound) && in.Type == DSRErasure {
			if c, cerr := tx.GetErasureCertificate(ctx, tenantID, id); cerr == nil {
				prior = c
				return nil
			}
		}
		return err
	})
	if err != nil {
		return "", nil, storeErr(err, "contact")
	}
	return id, prior, nil
}

// ExecuteDSR carries out a request recorded earlier (or blocked by a legal
// hold that has since been released).
func (s *Service) ExecuteDSR(ctx context.Context, pr auth.Principal, id string, in DSRInput) (DSRView, error) {
	if err := authorize(pr, auth.DSRManage); err != nil {
		return DSRView{}, err
	}
	r, err := s.getDSR(ctx, pr.TenantID, id)
	if err != nil {
		return DSRView{}, err
	}
	if r.Status == dsrCompleted {
		return s.viewDSR(r), nil
	}
	in.Type = r.Type
	return s.executeDSR(ctx, pr, r, in)
}

func (s *Service) executeDSR(ctx context.Context, pr auth.Principal, r *store.DSR, in DSRInput) (DSRView, error) {
	var result any
	var err error
	switch r.Type {
	case DSRAccess, DSRPortability:
		result, err = s.accessResult(ctx, pr, r)
	case DSRErasure:
		return s.erase(ctx, pr, r)
	case DSRRectification:
		result, err = s.rectify(ctx, pr, r, in)
	case DSRRestriction:
		result, err = s.restrict(ctx, pr, r, !in.Lift)
	case DSRObjection:
		result, err = s.object(ctx, pr, r, in.Purposes)
	}
	if err != nil {
		return DSRView{}, err
	}
	raw, err := json.Marshal(result)
	if err != nil {
		return DSRView{}, err
	}
	r.Status, r.CompletedAt, r.Result = dsrCompleted, s.now(), raw
	err = s.commit.do(ctx, func(tx store.Tx) error {
		if err := tx.UpdateDSR(ctx, r); err != nil {
			return err
		}
		return s.audited(ctx, tx, pr, auditRec{action: audit.Action("dsr." + r.Type), objectType: "dsr", objectID: r.ID, contactID: r.ContactID})
	}, nil)
	if err != nil {
		return DSRView{}, storeErr(err, "request")
	}
	return s.viewDSR(r), nil
}

func (s *Service) getDSR(ctx context.Context, tenantID, id string) (*store.DSR, error) {
	var r *store.DSR
	err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		r, err = tx.GetDSR(ctx, tenantID, id)
		return err
	})
	return r, storeErr(err, "request")
}

// GetDSR returns one request.
func (s *Service) GetDSR(ctx context.Context, pr auth.Principal, id string) (DSRView, error) {
	if err := authorize(pr, auth.DSRManage); err != nil {
		return DSRView{}, err
	}
	r, err := s.getDSR(ctx, pr.TenantID, id)
	if err != nil {
		return DSRView{}, err
	}
	return s.viewDSR(r), nil
}

// ListDSRs returns the tenant's requests by due date: the open ones (the
// work list) unless all is set.
func (s *Service) ListDSRs(ctx context.Context, pr auth.Principal, all bool) ([]DSRView, error) {
	if err := authorize(pr, auth.DSRManage); err != nil {
		return nil, err
	}
	var rs []*store.DSR
	if err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		rs, err = tx.ListDSRs(ctx, pr.TenantID, !all, 1000)
		return err
	}); err != nil {
		return nil, storeErr(err, "requests")
	}
	out := make([]DSRView, len(rs))
	for i, r := range rs {
		out[i] = s.viewDSR(r)
	}
	return out, nil
}

// ExtendDSR moves an open request's due date by two months, once, for a
// stated reason (Art. 12(3)); the person must be told within the first month.
func (s *Service) ExtendDSR(ctx context.Context, pr auth.Principal, id, reason string) (DSRView, error) {
	if err := authorize(pr, auth.DSRManage); err != nil {
		return DSRView{}, err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > 500 {
		return DSRView{}, apperr.New(apperr.InvalidDSR, "an extension needs a reason of 1-500 characters")
	}
	var r *store.DSR
	err := s.commit.do(ctx, func(tx store.Tx) (err error) {
		if r, err = tx.GetDSR(ctx, pr.TenantID, id); err != nil {
			return err
		}
		switch {
		case r.Status == dsrCompleted:
			return apperr.New(apperr.InvalidDSR, "the request is completed")
		case r.Extended:
			return apperr.New(apperr.InvalidDSR, "the request was extended once already; Art. 12(3) allows one extension")
		case s.now().After(r.DueAt):
			return apperr.New(apperr.InvalidDSR, "the request is overdue; an extension must be decided within the first month")
		}
		r.Extended, r.ExtensionReason, r.DueAt = true, reason, r.DueAt.AddDate(0, dsrExtensionMonths, 0)
		return tx.UpdateDSR(ctx, r)
	}, nil)
	if err != nil {
		return DSRView{}, storeErr(err, "request")
	}
	return s.viewDSR(r), nil
}

// LegalHoldView is a contact's legal hold.
type LegalHoldView struct {
	ContactID string    `json:"contact_id"`
	Reason    string    `json:"reason"`
	Since     time.Time `json:"since"`
}

// SetLegalHold keeps a contact's data from erasure for a stated reason (a
// legal claim, a retention duty), until ReleaseLegalHold.
func (s *Service) SetLegalHold(ctx context.Context, pr auth.Principal, contactID, reason string) (LegalHoldView, error) {
	if err := authorize(pr, auth.DSRManage); err != nil {
		return LegalHoldView{}, err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > 500 {
		return LegalHoldView{}, apperr.New(apperr.InvalidRequest, "a legal hold needs a reason of 1-500 characters")
	}
	h := &store.LegalHold{TenantID: pr.TenantID, ContactID: contactID, Reason: reason, Actor: pr.KeyID, CreatedAt: s.now()}
	err := s.commit.do(ctx, func(tx store.Tx) error {
		if _, _, err := tx.GetContact(ctx, pr.TenantID, contactID); err != nil {
			return err
		}
		return tx.PutLegalHold(ctx, h)
	}, nil)
	if err != nil {
		return LegalHoldView{}, storeErr(err, "contact")
	}
	return LegalHoldView{ContactID: contactID, Reason: reason, Since: h.CreatedAt}, nil
}

// ReleaseLegalHold lifts a contact's legal hold.
func (s *Service) ReleaseLegalHold(ctx context.Context, pr auth.Principal, contactID string) error {
	if err := authorize(pr, auth.DSRManage); err != nil {
		return err
	}
	err := s.commit.do(ctx, func(tx store.Tx) error { return tx.DeleteLegalHold(ctx, pr.TenantID, contactID) }, nil)
	return storeErr(err, "legal hold")
}
