package service

import (
	"context"
	"strconv"
	"time"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/audit"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/vault"
)

// AuditQuery filters the audit trail of the caller's tenant.
type AuditQuery struct {
	Actor      string // key or user id
	Contact    string // contact id
	ObjectType string
	ObjectID   string
	Action     string
	From, To   time.Time // From inclusive, To exclusive
	Cursor     string    // from the previous page's next_cursor
	Limit      int       // 1-1000, default 100
}

// AuditView is an audit event as the API shows it. Reason is opened for
// those allowed to read the audit trail: judging whether a reveal was
// justified is what they read it for (and each of their reads is itself
// an audit event).
type AuditView struct {
	ID         string          `json:"id"`
	Seq        int64           `json:"seq"`
	At         time.Time       `json:"at"`
	ActorType  audit.ActorType `json:"actor_type"`
	ActorID    string          `json:"actor_id"`
	Role       string          `json:"role"`
	Action     audit.Action    `json:"action"`
	ObjectType string          `json:"object_type"`
	ObjectID   string          `json:"object_id"`
	ContactID  string          `json:"contact_id"`
	Fields     []string        `json:"fields"`
	Reason     string          `json:"reason,omitempty"`
	RequestID  string          `json:"request_id"`
	Result     audit.Result    `json:"result"`
	ChainPos   int64           `json:"chain_pos,omitempty"` // 0 until the chainer has linked it
}

const maxAuditPage = 1000

func (q AuditQuery) filter(tenantID string) (store.AuditFilter, error) {
	f := store.AuditFilter{TenantID: tenantID, ActorID: q.Actor, ContactID: q.Contact, ObjectType: q.ObjectType,
		ObjectID: q.ObjectID, Action: q.Action, From: q.From, To: q.To, Limit: q.Limit}
	if f.Limit == 0 {
		f.Limit = 100
	}
	if f.Limit < 1 || f.Limit > maxAuditPage {
		return f, apperr.New(apperr.InvalidRequest, "limit must be 1-%d", maxAuditPage)
	}
	if q.Cursor != "" {
		seq, err := strconv.ParseInt(q.Cursor, 10, 64)
		if err != nil || seq <= 0 {
			return f, apperr.New(apperr.InvalidRequest, "cursor is not one this API gave out")
		}
		f.BeforeSeq = seq
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return f, apperr.New(apperr.InvalidRequest, "from must lie before to")
	}
	return f, nil
}

// ListAudit returns one page of the caller's tenant's audit trail, newest
// first, and the cursor of the next page ("" at the end). The read is
// itself audited, in the same transaction.
func (s *Service) ListAudit(ctx context.Context, pr auth.Principal, q AuditQuery) ([]AuditView, string, error) {
	if err := authorize(pr, auth.AuditRead); err != nil {
		return nil, "", err
	}
	f, err := q.filter(pr.TenantID)
	if err != nil {
		return nil, "", err
	}
	ev, err := s.auditEvent(ctx, pr, auditRec{action: audit.AuditRead, objectType: "audit", contactID: q.Contact,
		fields: []string{"events"}})
	if err != nil {
		return nil, "", err
	}
	var evs []*audit.Event
	err = s.commit.doRead(ctx, func(tx store.Tx) (err error) {
		if evs, err = tx.ListAudit(ctx, f); err != nil {
			return err
		}
		return writeAudit(ctx, tx, ev)
	})
	if err != nil {
		return nil, "", storeErr(err, "audit")
	}
	out, err := s.viewAudit(ctx, pr.TenantID, evs)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(evs) == f.Limit {
		next = strconv.FormatInt(evs[len(evs)-1].Seq, 10)
	}
	return out, next, nil
}

// ExportAudit streams every event matching q to emit, newest first, page by
// page (the cursor and limit of q are ignored). The export is audited
// before the first event leaves, in the transaction that reads the first
// page: when it cannot be recorded, nothing is exported.
func (s *Service) ExportAudit(ctx context.Context, pr auth.Principal, q AuditQuery, emit func(AuditView) error) error {
	if err := authorize(pr, auth.AuditRead); err != nil {
		return err
	}
	q.Cursor, q.Limit = "", maxAuditPage
	f, err := q.filter(pr.TenantID)
	if err != nil {
		return err
	}
	ev, err := s.auditEvent(ctx, pr, auditRec{action: audit.AuditExport, objectType: "audit", contactID: q.Contact,
		fields: []string{"events"}})
	if err != nil {
		return err
	}
	var evs []*audit.Event
	err = s.commit.doRead(ctx, func(tx store.Tx) (err error) {
		if evs, err = tx.ListAudit(ctx, f); err != nil {
			return err
		}
		return writeAudit(ctx, tx, ev)
	})
	for {
		if err != nil {
			return storeErr(err, "audit")
		}
		if err := s.emitAudit(ctx, pr.TenantID, evs, emit); err != nil {
			return err
		}
		if len(evs) < f.Limit {
			return nil
		}
		f.BeforeSeq = evs[len(evs)-1].Seq
		err = s.store.Read(ctx, func(tx store.Tx) (rerr error) {
			evs, rerr = tx.ListAudit(ctx, f)
			return rerr
		})
	}
}

func (s *Service) emitAudit(ctx context.Context, tenantID string, evs []*audit.Event, emit func(AuditView) error) error {
	vs, err := s.viewAudit(ctx, tenantID, evs)
	if err != nil {
		return err
	}
	for _, v := range vs {
		if err := emit(v); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) viewAudit(ctx context.Context, tenantID string, evs []*audit.Event) ([]AuditView, error) {
	var key vault.Key
	var haveKey bool
	out := make([]AuditView, len(evs))
	for i, e := range evs {
		v := AuditView{ID: e.ID, Seq: e.Seq, At: e.At, ActorType: e.ActorType, ActorID: e.ActorID, Role: e.Role,
			Action: e.Action, ObjectType: e.ObjectType, ObjectID: e.ObjectID, ContactID: e.ContactID, Fields: e.Fields,
			RequestID: e.RequestID, Result: e.Result, ChainPos: e.ChainPos}
		if v.Fields == nil {
			v.Fields = []string{}
		}
		if len(e.Reason) > 0 {
			if !haveKey {
				k, err := s.auditKey(ctx, tenantID)
				if err != nil {
					return nil, err
				}
				key, haveKey = k, true
			}
			if pt, err := vault.Open(key, e.Reason, reasonAAD(e.TenantID, e.ID)); err == nil {
				v.Reason = string(pt)
			} else {
				v.Reason = Unreadable
			}
		}
		out[i] = v
	}
	return out, nil
}
