package service

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"time"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/audit"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/vault"
	"github.com/oklog/ulid/v2"
)

// The audit trail is written in the transaction of the access it records:
// a read of personal data runs inside s.commit.do together with its audit
// insert, so that a read that cannot be recorded returns nothing (fail
// closed), and a change and its record commit or vanish together.
//
// Decisions (POST /v1/decisions) are not audited one by one: they are the
// hot path at tens of thousands per second, they return no personal data
// (an allowed/refused answer about an identifier the caller already has),
// and each is counted in the consentgate_decisions_total metric instead.

type requestKey struct{}

// WithRequestID returns a context that carries the request id, which every
// audit event written for the request records.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestKey{}, id)
}

func requestIDOf(ctx context.Context) string {
	id, _ := ctx.Value(requestKey{}).(string)
	return id
}

// auditRec is what a use case says about the access it audits; the rest of
// the event (actor, time, request) comes from the principal and context.
type auditRec struct {
	action     audit.Action
	objectType string
	objectID   string
	contactID  string
	fields     []string
	reason     string // sealed before it is stored
	result     audit.Result
}

// Operator is the principal of command-line actions: whoever holds the
// data directory and the master key. Its events record actor type
// "operator".
func Operator(tenantID string) auth.Principal {
	return auth.Principal{TenantID: tenantID, Role: auth.Owner}
}

// auditEvent builds the event for rec as principal pr.
func (s *Service) auditEvent(ctx context.Context, pr auth.Principal, rec auditRec) (*audit.Event, error) {
	e := &audit.Event{ID: ulid.Make().String(), TenantID: pr.TenantID, At: s.now().Truncate(time.Microsecond),
		ActorType: audit.ActorKey, ActorID: pr.KeyID, Role: string(pr.Role), Action: rec.action,
		ObjectType: rec.objectType, ObjectID: rec.objectID, ContactID: rec.contactID, Fields: rec.fields,
		RequestID: requestIDOf(ctx), Result: rec.result}
	switch {
	case pr.UserID != "":
		e.ActorType, e.ActorID = audit.ActorUser, pr.UserID
	case pr.KeyID == "" && pr.TenantID != "" && pr.Role != "":
		e.ActorType, e.Role = audit.ActorOperator, "operator"
	case pr.KeyID == "" || pr.Role == "":
		e.ActorType = audit.ActorAnonymous
	}
	if e.Result == "" {
		e.Result = audit.OK
	}
	if rec.reason != "" {
		k, err := s.auditKey(ctx, pr.TenantID)
		if err != nil {
			return nil, err
		}
		if e.Reason, err = vault.Seal(k, []byte(rec.reason), reasonAAD(pr.TenantID, e.ID)); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// writeAudit inserts e in tx. Its failure fails the transaction's unit, so
// the access it records is refused.
func writeAudit(ctx context.Context, tx store.Tx, e *audit.Event) error {
	if err := tx.AppendAudit(ctx, e); err != nil {
		return apperr.Wrap(err, apperr.Unavailable, "the audit trail cannot be written; the request was refused")
	}
	return nil
}

// audited builds the event for rec and writes it in tx: the one-line form
// for use cases whose event needs nothing from the transaction.
func (s *Service) audited(ctx context.Context, tx store.Tx, pr auth.Principal, rec auditRec) error {
	e, err := s.auditEvent(ctx, pr, rec)
	if err != nil {
		return err
	}
	return writeAudit(ctx, tx, e)
}

// RecordDenied records a refused authorization (the principal is known but
// its role or scopes do not allow perm) for the route it tried. The refusal
// stands whether or not the record can be written.
func (s *Service) RecordDenied(ctx context.Context, pr auth.Principal, route, perm string) {
	var fields []string
	if perm != "" {
		fields = []string{perm}
	}
	s.recordAlone(ctx, pr, auditRec{action: audit.AccessDenied, objectType: "route", objectID: route, fields: fields, result: audit.Denied})
}

// recordAuthFailure records a failed authentication. A key that exists
// (expired or revoked) is recorded against its tenant and id; anything else
// with an empty tenant, where only the operator sees it (docs/access.md).
func (s *Service) recordAuthFailure(ctx context.Context, k *store.APIKey) {
	pr := auth.Principal{}
	if k != nil {
		pr = auth.Principal{TenantID: k.TenantID, KeyID: k.ID, Role: auth.Role(k.Role)}
	}
	s.recordAlone(ctx, pr, auditRec{action: audit.AuthFailed, objectType: "credential", result: audit.Denied})
}

// recordAlone writes an event that belongs to no other write: a refusal or
// failed authentication, where nothing was read or changed.
func (s *Service) recordAlone(ctx context.Context, pr auth.Principal, rec auditRec) {
	e, err := s.auditEvent(ctx, pr, rec)
	if err == nil {
		err = s.commit.doRead(ctx, func(tx store.Tx) error { return writeAudit(ctx, tx, e) })
	}
	if err != nil {
		s.log.ErrorContext(ctx, "audit event not written", "action", rec.action, "tenant", pr.TenantID, "request_id", requestIDOf(ctx), "err", err)
	}
}

func reasonAAD(tenantID, eventID string) []byte {
	return []byte("consentgate/audit-reason/v1|" + tenantID + "|" + eventID)
}

// auditKey is the tenant's key for audit reasons, derived from its
// encryption key so that it needs no storage of its own.
func (s *Service) auditKey(ctx context.Context, tenantID string) (vault.Key, error) {
	tk, err := s.tenantKeys(ctx, tenantID)
	if err != nil {
		return vault.Key{}, err
	}
	return deriveKey(tk.keys.Enc, "consentgate/audit-reason/v1"), nil
}

// deriveKey returns HMAC-SHA256(k, label): a separate key per use from one
// stored key.
func deriveKey(k vault.Key, label string) vault.Key {
	m := hmac.New(sha256.New, k[:])
	m.Write([]byte(label))
	var out vault.Key
	copy(out[:], m.Sum(nil))
	return out
}
