package postgres

// The statements of the access-control and audit store (audit.go), in one
// place for review. Every statement on tenant data filters by tenant_id;
// the chain statements are installation-wide on purpose (one chain).

const (
	qSetAPIKeyScopes   = `UPDATE api_keys SET scopes = $1 WHERE tenant_id = $2 AND id = $3`
	qAPIKeyScopes      = `SELECT scopes FROM api_keys WHERE tenant_id = $1 AND id = $2`
	qListAPIKeyScopes  = `SELECT id, scopes FROM api_keys WHERE tenant_id = $1 AND scopes <> ''`
	qGetAPIKeyInTenant = `SELECT ` + apiKeyCols + ` FROM api_keys WHERE tenant_id = $1 AND id = $2`

	userCols    = `id, tenant_id, role, email_sealed, email_index, password_hash, created_at`
	qCreateUser = `INSERT INTO users (` + userCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7)`
	qGetUser    = `SELECT ` + userCols + ` FROM users WHERE tenant_id = $1 AND id = $2`
	qListUsers  = `SELECT ` + userCols + ` FROM users WHERE tenant_id = $1 ORDER BY created_at, id`
	qDeleteUser = `DELETE FROM users WHERE tenant_id = $1 AND id = $2`

	auditCols = `seq, id, tenant_id, at, actor_type, actor_id, role, action, object_type, object_id,
		contact_id, fields, reason, request_id, result, chain_pos, chain_hash, redacted, content_digest`
	qAppendAudit = `INSERT INTO audit_events (id, tenant_id, at, actor_type, actor_id, role, action, object_type,
		object_id, contact_id, fields, reason, request_id, result) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING seq`
	qAuditEventsAfter = `SELECT ` + auditCols + ` FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2`
	qUnchainedAudit   = `SELECT ` + auditCols + ` FROM audit_events WHERE chain_pos IS NULL ORDER BY seq LIMIT $1`
	qCountUnchained   = `SELECT count(*) FROM audit_events WHERE chain_pos IS NULL`
	qChainAudit       = `UPDATE audit_events SET chain_pos = $1, chain_hash = $2 WHERE seq = $3 AND chain_pos IS NULL`
	qAuditHead        = `SELECT pos, hash FROM audit_chain WHERE id = 1`
	qAuditToRedact    = `SELECT ` + auditCols + ` FROM audit_events
		WHERE tenant_id = $1 AND at < $2 AND NOT redacted AND chain_pos IS NOT NULL ORDER BY seq LIMIT $3`
	qRedactAudit = `UPDATE audit_events SET actor_id = '', object_id = '', contact_id = '', fields = '[]', reason = NULL,
		request_id = '', redacted = true, content_digest = $1 WHERE seq = $2 AND NOT redacted`
	qAdvanceAuditHead = `UPDATE audit_chain SET pos = $1, hash = $2 WHERE id = 1 AND pos = $3`
	qChainedAudit     = `SELECT ` + auditCols + ` FROM audit_events WHERE chain_pos > $1 ORDER BY chain_pos LIMIT $2`

	// ListAudit is assembled from these parts: the base, one condition per
	// filter that is set (each takes the next placeholder, written %d), then
	// the order.
	qListAuditBase     = `SELECT ` + auditCols + ` FROM audit_events WHERE tenant_id = $1`
	qListAuditActor    = ` AND actor_id = $%d`
	qListAuditContact  = ` AND contact_id = $%d AND contact_id <> ''` // the second term matches the partial index
	qListAuditObjType  = ` AND object_type = $%d`
	qListAuditObjID    = ` AND object_id = $%d`
	qListAuditAction   = ` AND action = $%d`
	qListAuditFrom     = ` AND at >= $%d`
	qListAuditTo       = ` AND at < $%d`
	qListAuditBefore   = ` AND seq < $%d`
	qListAuditOrdering = ` ORDER BY seq DESC LIMIT $%d`
)
