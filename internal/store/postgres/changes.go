package postgres

import (
	"context"
	"time"

	"github.com/consentgate/consentgate/internal/store"
)

const (
	// changed_at is stamped by the database (migration 0016), see
	// store.ChangesTx.
	qPurposesUpdatedSince = `SELECT tenant_id, ` + purposeCols + `, updated_at, changed_at FROM purposes
		WHERE changed_at >= $1 ORDER BY changed_at LIMIT $2`
	qContactsUpdatedSince = `SELECT ` + contactCols + `, changed_at FROM contacts
		WHERE changed_at >= $1 ORDER BY changed_at LIMIT $2`
	qPageIdentifiers = `SELECT ` + identifierCols + ` FROM contact_identifiers WHERE contact_id = ANY($1)
		ORDER BY tenant_id, contact_id, kind`
	qChangeClock = `SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint`
)

func (t *tx) PurposesUpdatedSince(ctx context.Context, since time.Time, limit int) ([]store.PurposeChange, error) {
	var out []store.PurposeChange
	err := scanEach(ctx, t, qPurposesUpdatedSince, func(r row) error {
		var tenantID string
		var updated, changed int64
		p, err := scanPurpose(framed{row: r, first: &tenantID, last: []any{&updated, &changed}})
		if err != nil {
			return err
		}
		out = append(out, store.PurposeChange{TenantID: tenantID, Purpose: p, UpdatedAt: fromUS(updated),
			ChangedAt: fromUS(changed)})
		return nil
	}, us(since), limit)
	return out, err
}

func (t *tx) ContactsUpdatedSince(ctx context.Context, since time.Time, limit int) ([]store.ContactChange, error) {
	var changed []int64
	cs, err := queryAll(ctx, t, qContactsUpdatedSince, func(r row) (*store.Contact, error) {
		var at int64
		c, err := scanContact(framed{row: r, last: []any{&at}})
		changed = append(changed, at)
		return c, err
	}, us(since), limit)
	if err != nil {
		return nil, err
	}
	out := make([]store.ContactChange, len(cs))
	if len(cs) == 0 {
		return out, nil
	}
	// The identifiers of the whole page in one round trip, not one per
	// contact: a feed catching up reads pages of a thousand.
	ids := make([]string, len(cs))
	at := make(map[[2]string]int, len(cs))
	for i, c := range cs {
		out[i].Contact, out[i].ChangedAt = c, fromUS(changed[i])
		ids[i] = c.ID
		at[[2]string{c.TenantID, c.ID}] = i
	}
	err = scanEach(ctx, t, qPageIdentifiers, func(r row) error {
		x, err := scanIdentifier(r)
		if err != nil {
			return err
		}
		if i, ok := at[[2]string{x.TenantID, x.ContactID}]; ok {
			out[i].Identifiers = append(out[i].Identifiers, *x)
		}
		return nil
	}, ids)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ChangeClock implements store.ChangesTx: the database server's clock,
// which stamps changed_at.
func (t *tx) ChangeClock(ctx context.Context) (time.Time, error) {
	var now int64
	if err := t.queryRow(ctx, qChangeClock).Scan(&now); err != nil {
		return time.Time{}, mapErr(err)
	}
	return fromUS(now), nil
}

// framed lets a scanner of a table's columns read a row that has more
// columns before them (first, when set) and after them (last).
type framed struct {
	row   row
	first any
	last  []any
}

func (f framed) Scan(dest ...any) error {
	var all []any
	if f.first != nil {
		all = append(all, f.first)
	}
	return f.row.Scan(append(append(all, dest...), f.last...)...)
}
