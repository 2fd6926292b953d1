package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/consentgate/consentgate/internal/audit"
	"github.com/consentgate/consentgate/internal/store"
)

func (t *tx) SetAPIKeyScopes(ctx context.Context, tenantID, keyID string, scopes []string) error {
	r, err := t.exec(ctx, qSetAPIKeyScopes, strings.Join(scopes, " "), tenantID, keyID)
	return oneRow(r, err)
}

func (t *tx) APIKeyScopes(ctx context.Context, tenantID, keyID string) ([]string, error) {
	var s string
	if err := t.tx.QueryRowContext(ctx, qAPIKeyScopes, tenantID, keyID).Scan(&s); err != nil {
		return nil, mapErr(err)
	}
	return strings.Fields(s), nil
}

func (t *tx) ListAPIKeyScopes(ctx context.Context, tenantID string) (map[string][]string, error) {
	out := map[string][]string{}
	err := scanEach(ctx, t, qListAPIKeyScopes, func(row interface{ Scan(...any) error }) error {
		var id, s string
		if err := row.Scan(&id, &s); err != nil {
			return mapErr(err)
		}
		out[id] = strings.Fields(s)
		return nil
	}, tenantID)
	return out, err
}

func (t *tx) GetAPIKey(ctx context.Context, tenantID, id string) (*store.APIKey, error) {
	return scanAPIKey(t.tx.QueryRowContext(ctx, qGetAPIKeyInTenant, tenantID, id))
}

func (t *tx) CreateUser(ctx context.Context, u *store.User) error {
	_, err := t.exec(ctx, qCreateUser, u.ID, u.TenantID, u.Role, u.EmailSealed, u.EmailIndex, u.PasswordHash, us(u.CreatedAt))
	return err
}

func scanUser(row interface{ Scan(...any) error }) (*store.User, error) {
	var u store.User
	var c int64
	if err := row.Scan(&u.ID, &u.TenantID, &u.Role, &u.EmailSealed, &u.EmailIndex, &u.PasswordHash, &c); err != nil {
		return nil, mapErr(err)
	}
	u.CreatedAt = fromUS(c)
	return &u, nil
}

func (t *tx) GetUser(ctx context.Context, tenantID, id string) (*store.User, error) {
	return scanUser(t.tx.QueryRowContext(ctx, qGetUser, tenantID, id))
}

func (t *tx) ListUsers(ctx context.Context, tenantID string) ([]*store.User, error) {
	return queryAll(ctx, t, qListUsers, scanUser, tenantID)
}

func (t *tx) DeleteUser(ctx context.Context, tenantID, id string) error {
	r, err := t.exec(ctx, qDeleteUser, tenantID, id)
	return oneRow(r, err)
}

func (t *tx) AppendAudit(ctx context.Context, e *audit.Event) error {
	fields, err := json.Marshal(nonNilFields(e.Fields))
	if err != nil {
		return err
	}
	err = t.tx.QueryRowContext(ctx, qAppendAudit, e.ID, e.TenantID, us(e.At), string(e.ActorType), e.ActorID, e.Role,
		string(e.Action), e.ObjectType, e.ObjectID, e.ContactID, string(fields), e.Reason, e.RequestID, string(e.Result)).Scan(&e.Seq)
	return mapErr(err)
}

func nonNilFields(f []string) []string {
	if f == nil {
		return []string{}
	}
	return f
}

func scanAudit(row interface{ Scan(...any) error }) (*audit.Event, error) {
	var e audit.Event
	var at int64
	var actorType, action, result, fields string
	var pos sql.NullInt64
	if err := row.Scan(&e.Seq, &e.ID, &e.TenantID, &at, &actorType, &e.ActorID, &e.Role, &action, &e.ObjectType, &e.ObjectID,
		&e.ContactID, &fields, &e.Reason, &e.RequestID, &result, &pos, &e.ChainHash, &e.Redacted, &e.ContentDigest); err != nil {
		return nil, mapErr(err)
	}
	e.At, e.ActorType, e.Action, e.Result, e.ChainPos = fromUS(at), audit.ActorType(actorType), audit.Action(action), audit.Result(result), pos.Int64
	if err := json.Unmarshal([]byte(fields), &e.Fields); err != nil {
		return nil, fmt.Errorf("sqlite: audit event %d: fields: %w", e.Seq, err)
	}
	return &e, nil
}

func (t *tx) ListAudit(ctx context.Context, f store.AuditFilter) ([]*audit.Event, error) {
	var q strings.Builder
	q.WriteString(qListAuditBase)
	args := []any{f.TenantID}
	add := func(cond string, v any) {
		q.WriteString(cond)
		args = append(args, v)
	}
	if f.ActorID != "" {
		add(qListAuditActor, f.ActorID)
	}
	if f.ContactID != "" {
		add(qListAuditContact, f.ContactID)
	}
	if f.ObjectType != "" {
		add(qListAuditObjType, f.ObjectType)
	}
	if f.ObjectID != "" {
		add(qListAuditObjID, f.ObjectID)
	}
	if f.Action != "" {
		add(qListAuditAction, f.Action)
	}
	if !f.From.IsZero() {
		add(qListAuditFrom, us(f.From))
	}
	if !f.To.IsZero() {
		add(qListAuditTo, us(f.To))
	}
	if f.BeforeSeq > 0 {
		add(qListAuditBefore, f.BeforeSeq)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	add(qListAuditOrdering, limit)
	return queryAll(ctx, t, q.String(), scanAudit, args...)
}

func (t *tx) AuditEventsAfter(ctx context.Context, seq int64, limit int) ([]*audit.Event, error) {
	return queryAll(ctx, t, qAuditEventsAfter, scanAudit, seq, limit)
}

func (t *tx) UnchainedAudit(ctx context.Context, limit int) ([]*audit.Event, error) {
	return queryAll(ctx, t, qUnchainedAudit, scanAudit, limit)
}

func (t *tx) CountUnchainedAudit(ctx context.Context) (int64, error) {
	var n int64
	err := t.tx.QueryRowContext(ctx, qCountUnchained).Scan(&n)
	return n, mapErr(err)
}

func (t *tx) ChainAudit(ctx context.Context, seq, pos int64, hash []byte) error {
	r, err := t.exec(ctx, qChainAudit, pos, hash, seq)
	if err = oneRow(r, err); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: audit event %d is chained already", store.ErrConflict, seq)
	}
	return err
}

func (t *tx) AuditHead(ctx context.Context) (audit.Head, error) {
	var h audit.Head
	err := t.tx.QueryRowContext(ctx, qAuditHead).Scan(&h.Pos, &h.Hash)
	return h, mapErr(err)
}

func (t *tx) AdvanceAuditHead(ctx context.Context, from int64, h audit.Head) error {
	r, err := t.exec(ctx, qAdvanceAuditHead, h.Pos, h.Hash, from)
	if err = oneRow(r, err); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: the audit chain head moved", store.ErrConflict)
	}
	return err
}

func (t *tx) ChainedAudit(ctx context.Context, afterPos int64, limit int) ([]*audit.Event, error) {
	return queryAll(ctx, t, qChainedAudit, scanAudit, afterPos, limit)
}

// AuditToRedact returns up to limit chained, unredacted events of a tenant
// older than before, oldest first.
func (t *tx) AuditToRedact(ctx context.Context, tenantID string, before time.Time, limit int) ([]*audit.Event, error) {
	return queryAll(ctx, t, qAuditToRedact, scanAudit, tenantID, us(before), limit)
}

// RedactAudit stores e's redaction (audit.Redact): content removed, digest
// kept.
func (t *tx) RedactAudit(ctx context.Context, e *audit.Event) error {
	r, err := t.exec(ctx, qRedactAudit, e.ContentDigest, e.Seq)
	return oneRow(r, err)
}
