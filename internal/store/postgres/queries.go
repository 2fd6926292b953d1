package postgres

// Every statement the PostgreSQL store runs, in one place for review. Each
// statement that touches tenant data filters by tenant_id. Table names are
// unqualified: they resolve through the connection's search_path, which is
// how one database holds several schemas (see Options.Schema).

const (
	qCreateTenant    = `INSERT INTO tenants (id, name, wrapped_key, created_at) VALUES ($1, $2, $3, $4)`
	qGetTenant       = `SELECT id, name, wrapped_key, created_at FROM tenants WHERE id = $1`
	qGetTenantByName = `SELECT id, name, wrapped_key, created_at FROM tenants WHERE name = $1`
	qListTenants     = `SELECT id, name, wrapped_key, created_at FROM tenants ORDER BY name`

	apiKeyCols       = `id, tenant_id, role, label, hash, hint, created_at, expires_at, revoked_at`
	qCreateAPIKey    = `INSERT INTO api_keys (` + apiKeyCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`
	qGetAPIKeyByHash = `SELECT ` + apiKeyCols + ` FROM api_keys WHERE hash = $1`
	qListAPIKeys     = `SELECT ` + apiKeyCols + ` FROM api_keys WHERE tenant_id = $1 ORDER BY created_at, id`
	qRevokeAPIKey    = `UPDATE api_keys SET revoked_at = $1 WHERE tenant_id = $2 AND id = $3 AND revoked_at = 0`

	purposeCols    = `key, name, description, notice_version, category, basis, channels, double_opt_in, lifetime_s, keep_bodies`
	qCreatePurpose = `INSERT INTO purposes (tenant_id, ` + purposeCols + `, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`
	qUpdatePurpose = `UPDATE purposes SET name = $1, description = $2, notice_version = $3, category = $4, basis = $5,
		channels = $6, double_opt_in = $7, lifetime_s = $8, keep_bodies = $9, updated_at = $10 WHERE tenant_id = $11 AND key = $12`
	qGetPurpose   = `SELECT ` + purposeCols + ` FROM purposes WHERE tenant_id = $1 AND key = $2`
	qListPurposes = `SELECT ` + purposeCols + ` FROM purposes WHERE tenant_id = $1 ORDER BY key`

	contactCols         = `id, tenant_id, locale, wrapped_key, attributes_sealed, restricted, created_at, updated_at`
	qCreateContact      = `INSERT INTO contacts (` + contactCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
	qGetContact         = `SELECT ` + contactCols + ` FROM contacts WHERE tenant_id = $1 AND id = $2`
	qScanContacts       = `SELECT ` + contactCols + ` FROM contacts`
	qContactKeys        = `SELECT id, wrapped_key FROM contacts WHERE tenant_id = $1 AND id = ANY($2)`
	identifierCols      = `tenant_id, kind, blind_index, contact_id, sealed`
	qCreateIdentifier   = `INSERT INTO contact_identifiers (` + identifierCols + `) VALUES ($1, $2, $3, $4, $5)`
	qContactIdentifiers = `SELECT ` + identifierCols + ` FROM contact_identifiers WHERE tenant_id = $1 AND contact_id = $2 ORDER BY kind`
	qFindContactID      = `SELECT contact_id FROM contact_identifiers WHERE tenant_id = $1 AND kind = $2 AND blind_index = $3`
	qScanIdentifiers    = `SELECT ` + identifierCols + ` FROM contact_identifiers`

	eventCols = `seq, id, tenant_id, contact_id, purpose, channel, status, confirmed, source, notice_version,
		evidence_sealed, evidence_digest, actor, occurred_at, recorded_at, expires_at`
	// qAppendConsentEvent inserts the event and moves the projection in one
	// round trip. The projection only moves forward: under READ COMMITTED a
	// concurrent upsert of the same key waits and then re-checks the WHERE
	// against the newest row, so a late writer cannot roll it back.
	qAppendConsentEvent = `WITH e AS (
			INSERT INTO consent_events (id, tenant_id, contact_id, purpose, channel, status, confirmed,
				source, notice_version, evidence_sealed, evidence_digest, actor, occurred_at, recorded_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
			RETURNING seq, id, tenant_id, contact_id, purpose, channel, status, confirmed, expires_at
		), c AS (
			INSERT INTO consent_current (tenant_id, contact_id, purpose, channel, event_seq, event_id, status, confirmed, expires_at)
			SELECT tenant_id, contact_id, purpose, channel, seq, id, status, confirmed, expires_at FROM e
			ON CONFLICT (tenant_id, contact_id, purpose, channel) DO UPDATE SET event_seq = excluded.event_seq,
				event_id = excluded.event_id, status = excluded.status, confirmed = excluded.confirmed,
				expires_at = excluded.expires_at
			WHERE excluded.event_seq > consent_current.event_seq
		)
		SELECT seq FROM e`
	qListConsentEvents = `SELECT ` + eventCols + ` FROM consent_events WHERE tenant_id = $1 AND contact_id = $2 ORDER BY seq`
	qCurrentConsents   = `SELECT e.seq, e.id, e.tenant_id, e.contact_id, e.purpose, e.channel, e.status, e.confirmed,
		e.source, e.notice_version, e.evidence_sealed, e.evidence_digest, e.actor, e.occurred_at, e.recorded_at, e.expires_at
		FROM consent_current c JOIN consent_events e ON e.seq = c.event_seq
		WHERE c.tenant_id = $1 AND c.contact_id = $2 AND e.tenant_id = $1 ORDER BY c.purpose, c.channel`
	qGetConsentEvent = `SELECT ` + eventCols + ` FROM consent_events WHERE tenant_id = $1 AND id = $2`
	// The start-up scan reads the projection alone (no join, no sort): only
	// the fields a decision needs, in whatever order the table is stored;
	// the index does not care about order because states carry their seq.
	qScanCurrentConsents = `SELECT event_seq, event_id, tenant_id, contact_id, purpose, channel, status, confirmed, expires_at
		FROM consent_current`
	qConsentEventsAfter = `SELECT ` + eventCols + ` FROM consent_events WHERE seq > $1 ORDER BY seq LIMIT $2`

	qAddSuppression = `INSERT INTO suppressions (tenant_id, kind, blind_index, scope, reason, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`
	qScanSuppressions = `SELECT tenant_id, kind, blind_index, scope, reason, created_at FROM suppressions`

	// The consent ledger (ledger.go).
	qLedgerSize         = `SELECT COALESCE(MAX(idx) + 1, 0) FROM ledger_leaves`
	qLedgerInsertLeaf   = `INSERT INTO ledger_leaves (idx, event_id, data) VALUES ($1, $2, $3)`
	qLedgerInsertHash   = `INSERT INTO ledger_hashes (idx, hash) VALUES ($1, $2)`
	qLedgerReadHashes   = `SELECT idx, hash FROM ledger_hashes WHERE idx = ANY($1)`
	qLedgerReadLeaves   = `SELECT data FROM ledger_leaves WHERE idx >= $1 ORDER BY idx LIMIT $2`
	qLedgerCountCps     = `SELECT count(*) FROM ledger_checkpoints`
	qLedgerInsertCp     = `INSERT INTO ledger_checkpoints (seq, size, note) VALUES ($1, $2, $3)`
	qLedgerReadCps      = `SELECT seq, size, note FROM ledger_checkpoints WHERE seq >= $1 ORDER BY seq LIMIT $2`
	qLedgerLatestCp     = `SELECT seq, size, note FROM ledger_checkpoints ORDER BY seq DESC LIMIT 1`
	qLedgerIndexOfEvent = `SELECT idx FROM ledger_leaves WHERE event_id = $1`
	qLedgerGetKey       = `SELECT vkey, skey_sealed FROM ledger_keys WHERE name = $1`
	qLedgerCreateKey    = `INSERT INTO ledger_keys (name, vkey, skey_sealed, created_at) VALUES ($1, $2, $3, $4)`
	qLedgerUnsequenced  = `SELECT ` + eventCols + ` FROM consent_events e WHERE e.seq > $1
		AND NOT EXISTS (SELECT 1 FROM ledger_leaves l WHERE l.event_id = e.id) ORDER BY e.seq LIMIT $2`

	// Migrations. The advisory lock is taken per schema, inside each
	// migration's transaction, so that nodes starting at once apply every
	// migration exactly once and wait for each other instead of racing.
	qMigrateLock  = `SELECT pg_advisory_xact_lock(hashtext('consentgate.migrate'), hashtext($1))`
	qCreateSchema = `CREATE SCHEMA IF NOT EXISTS %s` // %s: a quoted identifier (pgx.Identifier.Sanitize)
	qSchemaTable  = `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`
	qMigrationApplied = `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`
	qRecordMigration  = `INSERT INTO schema_migrations (version, name, applied_at)
		VALUES ($1, $2, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint)`

	// The change feed's wake-up (see notify.go). The payload is
	// "<schema> <lowest seq> <highest seq>" of the transaction's events.
	notifyChannel  = `consentgate_consent`
	qNotify        = `SELECT pg_notify('` + notifyChannel + `', $1)`
	qListen        = `LISTEN ` + notifyChannel
	qCurrentSchema = `SELECT current_schema()`
)
