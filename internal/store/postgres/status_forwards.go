package postgres

import (
	"context"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
)

// The statements of the status forwards (migration 0012), in one place for
// review. The worker's qDueStatusForwards is the one not filtered by
// tenant: it finds the tenant.
const (
	statusForwardCols = `id, tenant_id, message_id, status, channel, purpose, provider_ref, error_code, at,
		attempts, next_attempt, last_error, created_at`
	qCreateStatusForward = `INSERT INTO status_forwards (` + statusForwardCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`
	qDueStatusForwards   = `SELECT ` + statusForwardCols + ` FROM status_forwards WHERE next_attempt <= $1
		ORDER BY next_attempt, id LIMIT $2`
	qRetryStatusForward  = `UPDATE status_forwards SET attempts = $1, next_attempt = $2, last_error = $3 WHERE tenant_id = $4 AND id = $5`
	qDeleteStatusForward = `DELETE FROM status_forwards WHERE tenant_id = $1 AND id = $2`
)

func (t *tx) CreateStatusForward(ctx context.Context, f *store.StatusForward) error {
	_, err := t.exec(ctx, qCreateStatusForward, f.ID, f.TenantID, f.MessageID, string(f.Status), string(f.Channel), f.Purpose,
		f.ProviderRef, f.ErrorCode, us(f.At), f.Attempts, us(f.NextAttempt), f.LastError, us(f.CreatedAt))
	return err
}

func (t *tx) DueStatusForwards(ctx context.Context, now time.Time, limit int) ([]*store.StatusForward, error) {
	return queryAll(ctx, t, qDueStatusForwards, func(r row) (*store.StatusForward, error) {
		var f store.StatusForward
		var status, ch string
		var at, next, created int64
		if err := r.Scan(&f.ID, &f.TenantID, &f.MessageID, &status, &ch, &f.Purpose, &f.ProviderRef, &f.ErrorCode, &at,
			&f.Attempts, &next, &f.LastError, &created); err != nil {
			return nil, mapErr(err)
		}
		f.Status, f.Channel = store.MessageStatus(status), consent.Channel(ch)
		f.At, f.NextAttempt, f.CreatedAt = fromUS(at), fromUS(next), fromUS(created)
		return &f, nil
	}, us(now), limit)
}

func (t *tx) RetryStatusForward(ctx context.Context, tenantID, id string, attempts int, next time.Time, lastError string) error {
	return oneRow(t.exec(ctx, qRetryStatusForward, attempts, us(next), lastError, tenantID, id))
}

func (t *tx) DeleteStatusForward(ctx context.Context, tenantID, id string) error {
	return oneRow(t.exec(ctx, qDeleteStatusForward, tenantID, id))
}
