package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
)

func (t *tx) CreateContact(ctx context.Context, c *store.Contact, ids []store.Identifier) error {
	if _, err := t.exec(ctx, qCreateContact, c.ID, c.TenantID, c.Locale, c.WrappedKey, c.AttributesSealed,
		c.Restricted, us(c.CreatedAt), us(c.UpdatedAt)); err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := t.exec(ctx, qCreateIdentifier, c.TenantID, string(id.Kind), id.BlindIndex, c.ID, id.Sealed); err != nil {
			return err
		}
	}
	return nil
}

func scanContact(row interface{ Scan(...any) error }) (*store.Contact, error) {
	var c store.Contact
	var created, updated int64
	if err := row.Scan(&c.ID, &c.TenantID, &c.Locale, &c.WrappedKey, &c.AttributesSealed, &c.Restricted, &created, &updated); err != nil {
		return nil, mapErr(err)
	}
	c.CreatedAt, c.UpdatedAt = fromUS(created), fromUS(updated)
	return &c, nil
}

func scanIdentifier(row interface{ Scan(...any) error }) (*store.Identifier, error) {
	var id store.Identifier
	var kind string
	if err := row.Scan(&id.TenantID, &kind, &id.BlindIndex, &id.ContactID, &id.Sealed); err != nil {
		return nil, mapErr(err)
	}
	id.Kind = consent.IdentifierKind(kind)
	return &id, nil
}

func (t *tx) GetContact(ctx context.Context, tenantID, id string) (*store.Contact, []store.Identifier, error) {
	c, err := scanContact(t.tx.QueryRowContext(ctx, qGetContact, tenantID, id))
	if err != nil {
		return nil, nil, err
	}
	idp, err := queryAll(ctx, t, qContactIdentifiers, scanIdentifier, tenantID, id)
	if err != nil {
		return nil, nil, err
	}
	ids := make([]store.Identifier, len(idp))
	for i, p := range idp {
		ids[i] = *p
	}
	return c, ids, nil
}

func (t *tx) FindContactID(ctx context.Context, tenantID string, kind consent.IdentifierKind, bi []byte) (string, error) {
	var id string
	err := t.tx.QueryRowContext(ctx, qFindContactID, tenantID, string(kind), bi).Scan(&id)
	return id, mapErr(err)
}

func (t *tx) ScanIdentifiers(ctx context.Context, fn func(*store.Identifier) error) error {
	return scanEach(ctx, t, qScanIdentifiers, func(row interface{ Scan(...any) error }) error {
		id, err := scanIdentifier(row)
		if err != nil {
			return err
		}
		return fn(id)
	})
}

func (t *tx) ScanContacts(ctx context.Context, fn func(*store.Contact) error) error {
	return scanEach(ctx, t, qScanContacts, func(row interface{ Scan(...any) error }) error {
		c, err := scanContact(row)
		if err != nil {
			return err
		}
		return fn(c)
	})
}

func (t *tx) AddSuppression(ctx context.Context, s *store.Suppression) error {
	_, err := t.exec(ctx, qAddSuppression, s.TenantID, string(s.Kind), s.BlindIndex, s.Scope, s.Reason, us(s.CreatedAt))
	return err
}

func (t *tx) ScanSuppressions(ctx context.Context, fn func(*store.Suppression) error) error {
	return scanEach(ctx, t, qScanSuppressions, func(row interface{ Scan(...any) error }) error {
		var s store.Suppression
		var kind string
		var created int64
		if err := row.Scan(&s.TenantID, &kind, &s.BlindIndex, &s.Scope, &s.Reason, &created); err != nil {
			return mapErr(err)
		}
		s.Kind, s.CreatedAt = consent.IdentifierKind(kind), fromUS(created)
		return fn(&s)
	})
}

// ContactKeys implements store.Tx one contact at a time: on SQLite a
// cached statement costs no round trip.
func (t *tx) ContactKeys(ctx context.Context, tenantID string, ids []string) (map[string][]byte, error) {
	keys := make(map[string][]byte, len(ids))
	for _, id := range ids {
		var key []byte
		err := t.tx.QueryRowContext(ctx, qGetContactKey, tenantID, id).Scan(&key)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, mapErr(err)
		}
		keys[id] = key
	}
	return keys, nil
}
