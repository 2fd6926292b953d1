package sqlite

import (
	"context"
	"time"

	"github.com/consentgate/consentgate/internal/store"
)

const (
	qPurposesUpdatedSince = `SELECT tenant_id, ` + purposeCols + `, updated_at FROM purposes
		WHERE updated_at >= ? ORDER BY updated_at LIMIT ?`
	qContactsUpdatedSince = `SELECT ` + contactCols + ` FROM contacts WHERE updated_at >= ? ORDER BY updated_at LIMIT ?`
)

func (t *tx) PurposesUpdatedSince(ctx context.Context, since time.Time, limit int) ([]store.PurposeChange, error) {
	var out []store.PurposeChange
	err := scanEach(ctx, t, qPurposesUpdatedSince, func(row interface{ Scan(...any) error }) error {
		var tenantID string
		var updated int64
		p, err := scanPurpose(framed{row: row, first: &tenantID, last: &updated})
		if err != nil {
			return err
		}
		out = append(out, store.PurposeChange{TenantID: tenantID, Purpose: p, UpdatedAt: fromUS(updated), ChangedAt: fromUS(updated)})
		return nil
	}, us(since), limit)
	return out, err
}

func (t *tx) ContactsUpdatedSince(ctx context.Context, since time.Time, limit int) ([]store.ContactChange, error) {
	cs, err := queryAll(ctx, t, qContactsUpdatedSince, scanContact, us(since), limit)
	if err != nil {
		return nil, err
	}
	out := make([]store.ContactChange, len(cs))
	for i, c := range cs {
		ids, err := queryAll(ctx, t, qContactIdentifiers, scanIdentifier, c.TenantID, c.ID)
		if err != nil {
			return nil, err
		}
		out[i].Contact, out[i].ChangedAt = c, c.UpdatedAt
		for _, x := range ids {
			out[i].Identifiers = append(out[i].Identifiers, *x)
		}
	}
	return out, nil
}

// ChangeClock implements store.ChangesTx: on SQLite every writer is on
// this machine, and change times are updated_at, from its clock.
func (t *tx) ChangeClock(context.Context) (time.Time, error) { return time.Now(), nil }

// framed lets a scanner of the purpose columns read a row that has the
// tenant id before them and the update time after them.
type framed struct {
	row         interface{ Scan(...any) error }
	first, last any
}

func (f framed) Scan(dest ...any) error {
	return f.row.Scan(append(append([]any{f.first}, dest...), f.last)...)
}
