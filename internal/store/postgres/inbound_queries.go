package postgres

// The statements of the inbound store (migration 0004, PostgreSQL dialect), in one place for
// review. Every statement on tenant data filters by tenant_id, except the
// routing lookup qFindSender and the worker's qDueForwards, which find the
// tenant.

const (
	senderCols    = `id, tenant_id, channel, kind, address, purposes, created_at`
	qCreateSender = `INSERT INTO senders (` + senderCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7)`
	qGetSender    = `SELECT ` + senderCols + ` FROM senders WHERE tenant_id = $1 AND id = $2`
	qListSenders  = `SELECT ` + senderCols + ` FROM senders WHERE tenant_id = $1 ORDER BY channel, address`
	qFindSender   = `SELECT ` + senderCols + ` FROM senders WHERE channel = $1 AND address = $2`

	ruleCols           = `id, tenant_id, phrase, intent, action, scope, language, created_at`
	qCreateKeywordRule = `INSERT INTO keyword_rules (` + ruleCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
	qListKeywordRules  = `SELECT ` + ruleCols + ` FROM keyword_rules WHERE tenant_id = $1 ORDER BY created_at, id`
	qDeleteKeywordRule = `DELETE FROM keyword_rules WHERE tenant_id = $1 AND id = $2`

	secretCols        = `tenant_id, provider, sealed, previous_sealed, hint, rotated_at, created_at`
	qPutWebhookSecret = `INSERT INTO webhook_secrets (` + secretCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (tenant_id, provider) DO UPDATE SET sealed = excluded.sealed,
		previous_sealed = excluded.previous_sealed, hint = excluded.hint, rotated_at = excluded.rotated_at`
	qGetWebhookSecret   = `SELECT ` + secretCols + ` FROM webhook_secrets WHERE tenant_id = $1 AND provider = $2`
	qListWebhookSecrets = `SELECT ` + secretCols + ` FROM webhook_secrets WHERE tenant_id = $1 ORDER BY provider`

	inboundCols = `tenant_id, channel, provider_id, id, sender_id, contact_id, from_index, text_hash, text_len,
		keyword, action, scope, language, outcome, received_at, recorded_at`
	qCreateInbound = `INSERT INTO inbound_messages (` + inboundCols + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`
	qGetInbound = `SELECT ` + inboundCols + ` FROM inbound_messages WHERE tenant_id = $1 AND channel = $2 AND provider_id = $3`

	stopCols = `tenant_id, contact_id, channel, inbound_id, items, created_at`
	qPutStop = `INSERT INTO keyword_stops (` + stopCols + `) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (tenant_id, contact_id, channel) DO UPDATE SET inbound_id = excluded.inbound_id,
		items = excluded.items, created_at = excluded.created_at`
	qGetStop    = `SELECT ` + stopCols + ` FROM keyword_stops WHERE tenant_id = $1 AND contact_id = $2 AND channel = $3`
	qDeleteStop = `DELETE FROM keyword_stops WHERE tenant_id = $1 AND contact_id = $2 AND channel = $3`
	profileCols = `tenant_id, controller_name, privacy_notice_url, dpo_name, dpo_email, updated_at`
	qPutProfile = `INSERT INTO tenant_profiles (` + profileCols + `) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (tenant_id) DO UPDATE SET controller_name = excluded.controller_name,
		privacy_notice_url = excluded.privacy_notice_url, dpo_name = excluded.dpo_name, dpo_email = excluded.dpo_email,
		updated_at = excluded.updated_at`
	qGetProfile  = `SELECT ` + profileCols + ` FROM tenant_profiles WHERE tenant_id = $1`
	templateCols = `tenant_id, kind, language, body, updated_at`
	qPutTemplate = `INSERT INTO reply_templates (` + templateCols + `) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (tenant_id, kind, language) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`
	qListTempls  = `SELECT ` + templateCols + ` FROM reply_templates WHERE tenant_id = $1 ORDER BY kind, language`
	qDelTemplate = `DELETE FROM reply_templates WHERE tenant_id = $1 AND kind = $2 AND language = $3`

	qPutForwardTarget = `INSERT INTO forward_targets (tenant_id, url, secret_sealed, updated_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (tenant_id) DO UPDATE SET url = excluded.url, secret_sealed = excluded.secret_sealed,
		updated_at = excluded.updated_at`
	qGetForwardTarget = `SELECT tenant_id, url, secret_sealed, updated_at FROM forward_targets WHERE tenant_id = $1`
	forwardCols       = `id, tenant_id, inbound_id, body_sealed, attempts, next_attempt, last_error, created_at`
	qCreateForward    = `INSERT INTO inbound_forwards (` + forwardCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
	qDueForwards      = `SELECT ` + forwardCols + ` FROM inbound_forwards WHERE next_attempt <= $1 ORDER BY next_attempt, id LIMIT $2`
	qRetryForward     = `UPDATE inbound_forwards SET attempts = $1, next_attempt = $2, last_error = $3 WHERE tenant_id = $4 AND id = $5`
	qDeleteForward    = `DELETE FROM inbound_forwards WHERE tenant_id = $1 AND id = $2`
)
