package postgres

import (
	"context"

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

func scanContact(r row) (*store.Contact, error) {
	var c store.Contact
	var created, updated int64
	if err := r.Scan(&c.ID, &c.TenantID, &c.Locale, &c.WrappedKey, &c.AttributesSealed, &c.Restricted, &created, &updated); err != nil {
		return nil, mapErr(err)
	}
	c.CreatedAt, c.UpdatedAt = fromUS(created), fromUS(updated)
	return &c, nil
}

func scanIdentifier(r row) (*store.Identifier, error) {
	var id store.Identifier
	var kind string
	if err := r.Scan(&id.TenantID, &kind, &id.BlindIndex, &id.ContactID, &id.Sealed); err != nil {
		return nil, mapErr(err)
	}
	id.Kind = consent.IdentifierKind(kind)
	return &id, nil
}

func (t *tx) GetContact(ctx context.Context, tenantID, id string) (*store.Contact, []store.Identifier, error) {
	c, err := scanContact(t.queryRow(ctx, qGetContact, tenantID, id))
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
	err := t.queryRow(ctx, qFindContactID, tenantID, string(kind), bi).Scan(&id)
	return id, err
}

func (t *tx) ScanIdentifiers(ctx context.Context, fn func(*store.Identifier) error) error {
	return scanEach(ctx, t, qScanIdentifiers, func(r row) error {
		id, err := scanIdentifier(r)
		if err != nil {
			return err
		}
		return fn(id)
	})
}

func (t *tx) ScanContacts(ctx context.Context, fn func(*store.Contact) error) error {
	return scanEach(ctx, t, qScanContacts, func(r row) error {
		c, err := scanContact(r)
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
	return scanEach(ctx, t, qScanSuppressions, func(r row) error {
		var s store.Suppression
		var kind string
		var created int64
		if err := r.Scan(&s.TenantID, &kind, &s.BlindIndex, &s.Scope, &s.Reason, &created); err != nil {
			return mapErr(err)
		}
		s.Kind, s.CreatedAt = consent.IdentifierKind(kind), fromUS(created)
		return fn(&s)
	})
}
