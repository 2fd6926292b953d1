package sqlite

// The outbox's statements. Every statement that reads or writes one
// tenant's messages filters by tenant_id; the claim, release and status
// counts are the dispatcher's, which works for every tenant. Reads name the
// views over all partitions; writes name {messages} or {message_events},
// which in(q, p) turns into partition p's table (partitions.go).

const (
	messageCols = `id, tenant_id, contact_id, kind, inbound_id, purpose, channel, sender, recipient_kind,
		recipient_index, status, reason, basis, consent_event_id, body_hash, body_len, sealed, wrapped_key,
		idempotency_key, request_hash, attempts, due_at, lease_owner, provider_ref, last_error, created_at, updated_at`
	qCreateMessage = `INSERT INTO {messages} (` + messageCols + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qGetMessage    = `SELECT ` + messageCols + ` FROM messages WHERE tenant_id = ? AND id = ?`
	qGetMessageIn  = `SELECT ` + messageCols + ` FROM {messages} WHERE tenant_id = ? AND id = ?`
	qMessageIDUsed = `SELECT 1 FROM messages WHERE id = ? LIMIT 1`
	// Lookups by a key that is unique within uniqueWindow visit only the
	// partitions of that window (recent, in partitions.go): one arm each,
	// with numbered parameters that every arm shares.
	qReplyExists        = `SELECT 1 FROM {messages} WHERE tenant_id = ?1 AND inbound_id = ?2 AND kind = ?3 AND inbound_id <> ''`
	qIdempotencyKeyUsed = `SELECT 1 FROM {messages} WHERE tenant_id = ?1 AND idempotency_key = ?2 AND idempotency_key <> ''`

	qGetMessageByIdempotencyKey = `SELECT ` + messageCols + ` FROM {messages}
		WHERE tenant_id = ?1 AND idempotency_key = ?2 AND idempotency_key <> ''`
	qFindMessageByProviderRef = `SELECT ` + messageCols + ` FROM {messages}
		WHERE tenant_id = ?1 AND channel = ?2 AND provider_ref = ?3 AND provider_ref <> ''`
	qCountMessagesSince   = `SELECT count(*) FROM messages WHERE tenant_id = ? AND created_at >= ?`
	qCountMessagesByState = `SELECT status, count(*) FROM messages GROUP BY status`

	qAppendMessageEvent = `INSERT INTO {message_events} (tenant_id, message_id, status, detail, at)
		VALUES (?, ?, ?, ?, ?) RETURNING seq`
	qListMessageEvents = `SELECT seq, tenant_id, message_id, status, detail, at FROM message_events
		WHERE tenant_id = ? AND message_id = ? ORDER BY seq`

	// The claim runs in the single write transaction SQLite allows, so two
	// claimers can never take the same row: it picks the due messages
	// through the view, then takes each in its partition.
	qDueMessages  = `SELECT part, id, due_at FROM messages WHERE status IN ('queued', 'sending') AND due_at <= ? ORDER BY due_at LIMIT ?`
	qClaimMessage = `UPDATE {messages} SET status = 'sending', lease_owner = ?, due_at = ?, attempts = attempts + 1,
		updated_at = ?
		WHERE id IN (SELECT value FROM json_each(?)) AND status IN ('queued', 'sending') AND due_at <= ?
		RETURNING ` + messageCols
	qUpdateMessage = `UPDATE {messages} SET status = ?, due_at = ?, lease_owner = '',
		provider_ref = CASE WHEN ? <> '' THEN ? ELSE provider_ref END, last_error = ?,
		sealed = CASE WHEN ? THEN NULL ELSE sealed END, wrapped_key = CASE WHEN ? THEN NULL ELSE wrapped_key END,
		updated_at = ?
		WHERE tenant_id = ? AND id = ? AND status = 'sending' AND lease_owner = ?`
	qReleaseMessage = `UPDATE {messages} SET status = 'queued', due_at = ?, lease_owner = '',
		attempts = max(attempts - 1, 0), updated_at = ?
		WHERE id = ? AND status = 'sending' AND lease_owner = ?`
	qSetDeliveryStatus = `UPDATE {messages} SET status = ?, updated_at = ?
		WHERE tenant_id = ? AND id = ? AND status IN ('sent', 'delivered', 'failed')`

	providerCols        = `tenant_id, channel, kind, settings, secret_sealed, created_at, updated_at`
	qPutChannelProvider = `INSERT INTO channel_providers (` + providerCols + `) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, channel) DO UPDATE SET kind = excluded.kind, settings = excluded.settings,
		secret_sealed = excluded.secret_sealed, updated_at = excluded.updated_at`
	qGetChannelProvider    = `SELECT ` + providerCols + ` FROM channel_providers WHERE tenant_id = ? AND channel = ?`
	qListChannelProviders  = `SELECT ` + providerCols + ` FROM channel_providers WHERE tenant_id = ? ORDER BY channel`
	qDeleteChannelProvider = `DELETE FROM channel_providers WHERE tenant_id = ? AND channel = ?`
)
