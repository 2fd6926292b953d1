package postgres

import (
	"context"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/jackc/pgx/v5"
)

// CreateContact sends the contact and its identifiers in one round trip.
func (t *tx) CreateContact(ctx context.Context, c *store.Contact, ids []store.Identifier) error {
	b := &pgx.Batch{}
	b.Queue(qCreateContact, c.ID, c.TenantID, c.Locale, c.WrappedKey, c.AttributesSealed,
		c.Restricted, us(c.CreatedAt), us(c.UpdatedAt))
	for _, id := range ids {
		b.Queue(qCreateIdentifier, c.TenantID, string(id.Kind), id.BlindIndex, c.ID, id.Sealed)
	}
	return t.execAll(ctx, b)
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

// GetContact reads the contact and its identifiers in one round trip.
func (t *tx) GetContact(ctx context.Context, tenantID, id string) (*store.Contact, []store.Identifier, error) {
	b := &pgx.Batch{}
	b.Queue(qGetContact, tenantID, id)
	b.Queue(qContactIdentifiers, tenantID, id)
	br, err := t.pipeline(ctx, b)
	if err != nil {
		return nil, nil, err
	}
	defer br.Close()
	c, err := scanContact(br.QueryRow())
	if err != nil {
		return nil, nil, t.check(err)
	}
	rows, err := br.Query()
	if err != nil {
		return nil, nil, t.check(err)
	}
	defer rows.Close()
	ids := []store.Identifier{}
	for rows.Next() {
		p, err := scanIdentifier(rows)
		if err != nil {
			return nil, nil, t.check(err)
		}
		ids = append(ids, *p)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, t.check(err)
	}
	return c, ids, t.check(br.Close())
}

// ContactKeys returns the wrapped data keys of a tenant's contacts in one
// statement; a contact that does not exist is left out. The dispatcher
// reads the keys of every contact a claim holds messages for.
func (t *tx) ContactKeys(ctx context.Context, tenantID string, ids []string) (map[string][]byte, error) {
	keys := make(map[string][]byte, len(ids))
	err := scanEach(ctx, t, qContactKeys, func(r row) error {
		var id string
		var key []byte
		if err := r.Scan(&id, &key); err != nil {
			return mapErr(err)
		}
		keys[id] = key
		return nil
	}, tenantID, ids)
	return keys, err
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
