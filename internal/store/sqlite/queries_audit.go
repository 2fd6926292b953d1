package sqlite

// The statements of the access-control and audit store (audit.go), in one
// place for review. Every statement on tenant data filters by tenant_id;
// the chain statements are installation-wide on purpose (one chain).

const (
	qSetAPIKeyScopes   = `UPDATE api_keys SET scopes = ? WHERE tenant_id = ? AND id = ?`
	qAPIKeyScopes      = `SELECT scopes FROM api_keys WHERE tenant_id = ? AND id = ?`
	qListAPIKeyScopes  = `SELECT id, scopes FROM api_keys WHERE tenant_id = ? AND scopes != ''`
	qGetAPIKeyInTenant = `SELECT ` + apiKeyCols + ` FROM api_keys WHERE tenant_id = ? AND id = ?`

	userCols    = `id, tenant_id, role, email_sealed, email_index, password_hash, created_at`
	qCreateUser = `INSERT INTO users (` + userCols + `) VALUES (?, ?, ?, ?, ?, ?, ?)`
	qGetUser    = `SELECT ` + userCols + ` FROM users WHERE tenant_id = ? AND id = ?`
	qListUsers  = `SELECT ` + userCols + ` FROM users WHERE tenant_id = ? ORDER BY created_at, id`
	qDeleteUser = `DELETE FROM users WHERE tenant_id = ? AND id = ?`

	auditCols = `seq, id, tenant_id, at, actor_type, actor_id, role, action, object_type, object_id,
		contact_id, fields, reason, request_id, result, chain_pos, chain_hash, redacted, content_digest`
	qAppendAudit = `INSERT INTO audit_events (id, tenant_id, at, actor_type, actor_id, role, action, object_type,
		object_id, contact_id, fields, reason, request_id, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`
	qAuditEventsAfter = `SELECT ` + auditCols + ` FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?`
	qUnchainedAudit   = `SELECT ` + auditCols + ` FROM audit_events WHERE chain_pos IS NULL ORDER BY seq LIMIT ?`
	qCountUnchained   = `SELECT count(*) FROM audit_events WHERE chain_pos IS NULL`
	qChainAudit       = `UPDATE audit_events SET chain_pos = ?, chain_hash = ? WHERE seq = ? AND chain_pos IS NULL`
	qAuditHead        = `SELECT pos, hash FROM audit_chain WHERE id = 1`
	qAuditToRedact    = `SELECT ` + auditCols + ` FROM audit_events
		WHERE tenant_id = ? AND at < ? AND redacted = 0 AND chain_pos IS NOT NULL ORDER BY seq LIMIT ?`
	qRedactAudit = `UPDATE audit_events SET actor_id = '', object_id = '', contact_id = '', fields = '[]', reason = NULL,
		request_id = '', redacted = 1, content_digest = ? WHERE seq = ? AND redacted = 0`
	qAdvanceAuditHead = `UPDATE audit_chain SET pos = ?, hash = ? WHERE id = 1 AND pos = ?`
	qChainedAudit     = `SELECT ` + auditCols + ` FROM audit_events WHERE chain_pos > ? ORDER BY chain_pos LIMIT ?`

	// ListAudit is assembled from these parts: the base, then one condition
	// per filter that is set, then the order. Each filter that has an index
	// (actor, contact, object) leads SQLite to that index's seq range.
	qListAuditBase     = `SELECT ` + auditCols + ` FROM audit_events WHERE tenant_id = ?`
	qListAuditActor    = ` AND actor_id = ?`
	qListAuditContact  = ` AND contact_id = ? AND contact_id != ''` // the second term lets SQLite use the partial index
	qListAuditObjType  = ` AND object_type = ?`
	qListAuditObjID    = ` AND object_id = ?`
	qListAuditAction   = ` AND action = ?`
	qListAuditFrom     = ` AND at >= ?`
	qListAuditTo       = ` AND at < ?`
	qListAuditBefore   = ` AND seq < ?`
	qListAuditOrdering = ` ORDER BY seq DESC LIMIT ?`
)
