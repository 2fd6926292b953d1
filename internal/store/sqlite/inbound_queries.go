package sqlite

// The statements of the inbound store (migration 0004), in one place for
// review. Every statement on tenant data filters by tenant_id, except the
// routing lookup qFindSender and the worker's qDueForwards, which find the
// tenant.

const (
	senderCols    = `id, tenant_id, channel, kind, address, purposes, created_at`
	qCreateSender = `INSERT INTO senders (` + senderCols + `) VALUES (?, ?, ?, ?, ?, ?, ?)`
	qGetSender    = `SELECT ` + senderCols + ` FROM senders WHERE tenant_id = ? AND id = ?`
	qListSenders  = `SELECT ` + senderCols + ` FROM senders WHERE tenant_id = ? ORDER BY channel, address`
	qFindSender   = `SELECT ` + senderCols + ` FROM senders WHERE channel = ? AND address = ?`

	ruleCols           = `id, tenant_id, phrase, intent, action, scope, language, created_at`
	qCreateKeywordRule = `INSERT INTO keyword_rules (` + ruleCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	qListKeywordRules  = `SELECT ` + ruleCols + ` FROM keyword_rules WHERE tenant_id = ? ORDER BY created_at, id`
	qDeleteKeywordRule = `DELETE FROM keyword_rules WHERE tenant_id = ? AND id = ?`

	secretCols        = `tenant_id, provider, sealed, previous_sealed, hint, rotated_at, created_at`
	qPutWebhookSecret = `INSERT INTO webhook_secrets (` + secretCols + `) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, provider) DO UPDATE SET sealed = excluded.sealed,
		previous_sealed = excluded.previous_sealed, hint = excluded.hint, rotated_at = excluded.rotated_at`
	qGetWebhookSecret   = `SELECT ` + secretCols + ` FROM webhook_secrets WHERE tenant_id = ? AND provider = ?`
	qListWebhookSecrets = `SELECT ` + secretCols + ` FROM webhook_secrets WHERE tenant_id = ? ORDER BY provider`

	inboundCols = `tenant_id, channel, provider_id, id, sender_id, contact_id, from_index, text_hash, text_len,
		keyword, action, scope, language, outcome, received_at, recorded_at`
	qCreateInbound = `INSERT INTO {inbound_messages} (` + inboundCols + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	// By provider id: within uniqueWindow, one arm per partition (recent).
	qInboundUsed   = `SELECT 1 FROM {inbound_messages} WHERE tenant_id = ?1 AND channel = ?2 AND provider_id = ?3`
	qInboundIDUsed = `SELECT 1 FROM inbound_messages WHERE id = ? LIMIT 1`
	qGetInbound    = `SELECT ` + inboundCols + ` FROM {inbound_messages} WHERE tenant_id = ?1 AND channel = ?2 AND provider_id = ?3`

	stopCols     = `tenant_id, contact_id, channel, inbound_id, items, created_at`
	qPutStop     = `INSERT OR REPLACE INTO keyword_stops (` + stopCols + `) VALUES (?, ?, ?, ?, ?, ?)`
	qGetStop     = `SELECT ` + stopCols + ` FROM keyword_stops WHERE tenant_id = ? AND contact_id = ? AND channel = ?`
	qDeleteStop  = `DELETE FROM keyword_stops WHERE tenant_id = ? AND contact_id = ? AND channel = ?`
	profileCols  = `tenant_id, controller_name, privacy_notice_url, dpo_name, dpo_email, updated_at`
	qPutProfile  = `INSERT OR REPLACE INTO tenant_profiles (` + profileCols + `) VALUES (?, ?, ?, ?, ?, ?)`
	qGetProfile  = `SELECT ` + profileCols + ` FROM tenant_profiles WHERE tenant_id = ?`
	templateCols = `tenant_id, kind, language, body, updated_at`
	qPutTemplate = `INSERT OR REPLACE INTO reply_templates (` + templateCols + `) VALUES (?, ?, ?, ?, ?)`
	qListTempls  = `SELECT ` + templateCols + ` FROM reply_templates WHERE tenant_id = ? ORDER BY kind, language`
	qDelTemplate = `DELETE FROM reply_templates WHERE tenant_id = ? AND kind = ? AND language = ?`

	qPutForwardTarget = `INSERT OR REPLACE INTO forward_targets (tenant_id, url, secret_sealed, updated_at) VALUES (?, ?, ?, ?)`
	qGetForwardTarget = `SELECT tenant_id, url, secret_sealed, updated_at FROM forward_targets WHERE tenant_id = ?`
	forwardCols       = `id, tenant_id, inbound_id, body_sealed, attempts, next_attempt, last_error, created_at`
	qCreateForward    = `INSERT INTO inbound_forwards (` + forwardCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	qDueForwards      = `SELECT ` + forwardCols + ` FROM inbound_forwards WHERE next_attempt <= ? ORDER BY next_attempt, id LIMIT ?`
	qRetryForward     = `UPDATE inbound_forwards SET attempts = ?, next_attempt = ?, last_error = ? WHERE tenant_id = ? AND id = ?`
	qDeleteForward    = `DELETE FROM inbound_forwards WHERE tenant_id = ? AND id = ?`
)
