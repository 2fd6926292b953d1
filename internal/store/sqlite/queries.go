package sqlite

// Every statement the SQLite store runs, in one place for review. Each
// statement that touches tenant data filters by tenant_id.

const (
	qCreateTenant    = `INSERT INTO tenants (id, name, wrapped_key, created_at) VALUES (?, ?, ?, ?)`
	qGetTenant       = `SELECT id, name, wrapped_key, created_at FROM tenants WHERE id = ?`
	qGetTenantByName = `SELECT id, name, wrapped_key, created_at FROM tenants WHERE name = ?`
	qListTenants     = `SELECT id, name, wrapped_key, created_at FROM tenants ORDER BY name`

	apiKeyCols       = `id, tenant_id, role, label, hash, hint, created_at, expires_at, revoked_at`
	qCreateAPIKey    = `INSERT INTO api_keys (` + apiKeyCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qGetAPIKeyByHash = `SELECT ` + apiKeyCols + ` FROM api_keys WHERE hash = ?`
	qListAPIKeys     = `SELECT ` + apiKeyCols + ` FROM api_keys WHERE tenant_id = ? ORDER BY created_at, id`
	qRevokeAPIKey    = `UPDATE api_keys SET revoked_at = ? WHERE tenant_id = ? AND id = ? AND revoked_at = 0`

	purposeCols    = `key, name, description, notice_version, category, basis, channels, double_opt_in, lifetime_s, keep_bodies`
	qCreatePurpose = `INSERT INTO purposes (tenant_id, ` + purposeCols + `, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qUpdatePurpose = `UPDATE purposes SET name = ?, description = ?, notice_version = ?, category = ?, basis = ?,
		channels = ?, double_opt_in = ?, lifetime_s = ?, keep_bodies = ?, updated_at = ? WHERE tenant_id = ? AND key = ?`
	qGetPurpose   = `SELECT ` + purposeCols + ` FROM purposes WHERE tenant_id = ? AND key = ?`
	qListPurposes = `SELECT ` + purposeCols + ` FROM purposes WHERE tenant_id = ? ORDER BY key`

	contactCols         = `id, tenant_id, locale, wrapped_key, attributes_sealed, restricted, created_at, updated_at`
	qCreateContact      = `INSERT INTO contacts (` + contactCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	qGetContact         = `SELECT ` + contactCols + ` FROM contacts WHERE tenant_id = ? AND id = ?`
	qGetContactKey      = `SELECT wrapped_key FROM contacts WHERE tenant_id = ? AND id = ?`
	qScanContacts       = `SELECT ` + contactCols + ` FROM contacts`
	identifierCols      = `tenant_id, kind, blind_index, contact_id, sealed`
	qCreateIdentifier   = `INSERT INTO contact_identifiers (` + identifierCols + `) VALUES (?, ?, ?, ?, ?)`
	qContactIdentifiers = `SELECT ` + identifierCols + ` FROM contact_identifiers WHERE tenant_id = ? AND contact_id = ? ORDER BY kind`
	qFindContactID      = `SELECT contact_id FROM contact_identifiers WHERE tenant_id = ? AND kind = ? AND blind_index = ?`
	qScanIdentifiers    = `SELECT ` + identifierCols + ` FROM contact_identifiers`

	eventCols = `seq, id, tenant_id, contact_id, purpose, channel, status, confirmed, source, notice_version,
		evidence_sealed, evidence_digest, actor, occurred_at, recorded_at, expires_at`
	qAppendConsentEvent = `INSERT INTO consent_events (id, tenant_id, contact_id, purpose, channel, status, confirmed,
		source, notice_version, evidence_sealed, evidence_digest, actor, occurred_at, recorded_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`
	qUpsertConsentCurrent = `INSERT INTO consent_current (tenant_id, contact_id, purpose, channel, event_seq, event_id, status, confirmed, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, contact_id, purpose, channel) DO UPDATE SET event_seq = excluded.event_seq,
			event_id = excluded.event_id, status = excluded.status, confirmed = excluded.confirmed, expires_at = excluded.expires_at
		WHERE excluded.event_seq > consent_current.event_seq`
	qListConsentEvents = `SELECT ` + eventCols + ` FROM consent_events WHERE tenant_id = ? AND contact_id = ? ORDER BY seq`
	qCurrentConsents   = `SELECT e.seq, e.id, e.tenant_id, e.contact_id, e.purpose, e.channel, e.status, e.confirmed,
		e.source, e.notice_version, e.evidence_sealed, e.evidence_digest, e.actor, e.occurred_at, e.recorded_at, e.expires_at
		FROM consent_current c JOIN consent_events e ON e.seq = c.event_seq
		WHERE c.tenant_id = ? AND c.contact_id = ? ORDER BY c.purpose, c.channel`
	qGetConsentEvent = `SELECT ` + eventCols + ` FROM consent_events WHERE tenant_id = ? AND id = ?`
	// The start-up scan reads the projection alone (no join, no sort): only
	// the fields a decision needs, in whatever order the table is stored;
	// the index does not care about order because states carry their seq.
	qScanCurrentConsents = `SELECT event_seq, event_id, tenant_id, contact_id, purpose, channel, status, confirmed, expires_at
		FROM consent_current`
	qConsentEventsAfter = `SELECT ` + eventCols + ` FROM consent_events WHERE seq > ? ORDER BY seq LIMIT ?`

	qAddSuppression = `INSERT INTO suppressions (tenant_id, kind, blind_index, scope, reason, created_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
	qScanSuppressions = `SELECT tenant_id, kind, blind_index, scope, reason, created_at FROM suppressions`
)
