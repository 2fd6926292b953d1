package postgres

// The statements of the privacy store (privacy.go), in one place for review;
// the same as the SQLite store's. Every statement that touches tenant data
// filters by tenant_id. Purges select their batch by key with a LIMIT, so
// that each transaction stays short.

const (
	attributeCols  = `tenant_id, name, type, category, purpose, retention_s, description, created_at`
	qCreateAttrDef = `INSERT INTO attribute_defs (` + attributeCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
	qListAttrDefs  = `SELECT ` + attributeCols + ` FROM attribute_defs WHERE tenant_id = $1 ORDER BY name`
	dsrCols        = `id, tenant_id, type, contact_id, status, received_at, due_at, extended, extension_reason, result, actor, completed_at`
	qCreateDSR     = `INSERT INTO dsr_requests (` + dsrCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`
	qUpdateDSR     = `UPDATE dsr_requests SET contact_id = $1, status = $2, due_at = $3, extended = $4, extension_reason = $5, result = $6, completed_at = $7 WHERE tenant_id = $8 AND id = $9`
	qGetDSR        = `SELECT ` + dsrCols + ` FROM dsr_requests WHERE tenant_id = $1 AND id = $2`
	qListDSRs      = `SELECT ` + dsrCols + ` FROM dsr_requests WHERE tenant_id = $1 ORDER BY due_at, id LIMIT $2`
	qListOpenDSRs  = `SELECT ` + dsrCols + ` FROM dsr_requests WHERE tenant_id = $1 AND status IN ('open', 'blocked') ORDER BY due_at, id LIMIT $2`
	qContactDSRs   = `SELECT ` + dsrCols + ` FROM dsr_requests WHERE tenant_id = $1 AND contact_id = $2 ORDER BY received_at, id`
	qPutLegalHold  = `INSERT INTO legal_holds (tenant_id, contact_id, reason, actor, created_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (tenant_id, contact_id) DO UPDATE SET reason = excluded.reason, actor = excluded.actor, created_at = excluded.created_at`
	qGetLegalHold   = `SELECT tenant_id, contact_id, reason, actor, created_at FROM legal_holds WHERE tenant_id = $1 AND contact_id = $2`
	qDelLegalHold   = `DELETE FROM legal_holds WHERE tenant_id = $1 AND contact_id = $2`
	qUpdateContact  = `UPDATE contacts SET locale = $1, attributes_sealed = $2, updated_at = $3 WHERE tenant_id = $4 AND id = $5`
	qDelIdentifiers = `DELETE FROM contact_identifiers WHERE tenant_id = $1 AND contact_id = $2`
	qSetRestricted  = `UPDATE contacts SET restricted = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4`
	qCreateCert     = `INSERT INTO erasure_certificates (id, tenant_id, contact_id, dsr_id, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)`
	qGetCert        = `SELECT id, tenant_id, contact_id, dsr_id, body, created_at FROM erasure_certificates WHERE tenant_id = $1 AND contact_id = $2`
	qSuppReason     = `SELECT reason FROM suppressions WHERE tenant_id = $1 AND kind = $2 AND blind_index = $3 AND scope = 'all'`
	qContactMsgs    = `SELECT ` + messageCols + ` FROM messages WHERE tenant_id = $1 AND contact_id = $2 ORDER BY created_at DESC LIMIT $3`
	qContactInbound = `SELECT ` + inboundCols + ` FROM inbound_messages WHERE tenant_id = $1 AND contact_id = $2 ORDER BY recorded_at DESC LIMIT $3`

	// Erasure, in dependency order. "contact_id <> ''" lets the planner
	// use the partial indexes on contact_id. The contact's blind indexes are read
	// before its identifiers go, so that rows addressed to the person
	// without naming the contact (a message to the number, an inbound
	// message from it) go too, and so do rows holding one of the further
	// forms the caller passes (an array): while the index key rotates, a
	// row can hold another form than the identifier's.
	qEraseForwards = `DELETE FROM inbound_forwards WHERE tenant_id = $1 AND inbound_id IN (
		SELECT id FROM inbound_messages WHERE tenant_id = $2 AND ((contact_id = $3 AND contact_id <> '') OR from_index IN (
			SELECT blind_index FROM contact_identifiers WHERE tenant_id = $4 AND contact_id = $5
			UNION ALL SELECT unnest($6::bytea[]))))`
	qEraseInbound = `DELETE FROM inbound_messages WHERE tenant_id = $1 AND ((contact_id = $2 AND contact_id <> '') OR from_index IN (
		SELECT blind_index FROM contact_identifiers WHERE tenant_id = $3 AND contact_id = $4
		UNION ALL SELECT unnest($5::bytea[])))`
	qEraseMsgEvents = `DELETE FROM message_events WHERE message_id IN (SELECT id FROM messages WHERE tenant_id = $1 AND ((contact_id = $2 AND contact_id <> '') OR recipient_index IN (
		SELECT blind_index FROM contact_identifiers WHERE tenant_id = $3 AND contact_id = $4
		UNION ALL SELECT unnest($5::bytea[]))))`
	qEraseMessages = `DELETE FROM messages WHERE tenant_id = $1 AND ((contact_id = $2 AND contact_id <> '') OR recipient_index IN (
		SELECT blind_index FROM contact_identifiers WHERE tenant_id = $3 AND contact_id = $4
		UNION ALL SELECT unnest($5::bytea[])))`
	qEraseStops    = `DELETE FROM keyword_stops WHERE tenant_id = $1 AND contact_id = $2`
	qEraseCurrent  = `DELETE FROM consent_current WHERE tenant_id = $1 AND contact_id = $2`
	qEraseEvidence = `UPDATE consent_events SET evidence_sealed = NULL WHERE tenant_id = $1 AND contact_id = $2 AND evidence_sealed IS NOT NULL`
	qEraseHold     = `DELETE FROM legal_holds WHERE tenant_id = $1 AND contact_id = $2`
	// The wrapped data key is overwritten before the row goes: with
	// secure_delete the freed page is zeroed as well, but clearing the key
	// first makes the shredding independent of page reuse.
	qShredKey     = `UPDATE contacts SET wrapped_key = NULL, attributes_sealed = NULL WHERE tenant_id = $1 AND id = $2`
	qEraseContact = `DELETE FROM contacts WHERE tenant_id = $1 AND id = $2`
	qPutRetention = `INSERT INTO retention_policies (tenant_id, category, period_s, updated_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (tenant_id, category) DO UPDATE SET period_s = excluded.period_s, updated_at = excluded.updated_at`
	qListRetention = `SELECT tenant_id, category, period_s, updated_at FROM retention_policies WHERE tenant_id = $1 ORDER BY category`

	purgeCols     = `id, tenant_id, category, count, cutoff, at, signature`
	qAppendPurge  = `INSERT INTO purge_log (` + purgeCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7)`
	qListPurge    = `SELECT ` + purgeCols + ` FROM purge_log WHERE tenant_id = $1 ORDER BY at DESC, id DESC LIMIT $2`
	qListPurgeAll = `SELECT ` + purgeCols + ` FROM purge_log ORDER BY at DESC, id DESC LIMIT $1`
	qSetPurgeSig  = `UPDATE purge_log SET signature = $1 WHERE id = $2`

	qUpdateTenantKey  = `UPDATE tenants SET wrapped_key = $1 WHERE id = $2`
	qContactKeysAfter = `SELECT id, wrapped_key FROM contacts WHERE tenant_id = $1 AND id > $2 AND wrapped_key IS NOT NULL ORDER BY id LIMIT $3`
	qSetContactKey    = `UPDATE contacts SET wrapped_key = $1 WHERE tenant_id = $2 AND id = $3`
	qMessageKeysAfter = `SELECT id, wrapped_key FROM messages WHERE tenant_id = $1 AND id > $2 AND wrapped_key IS NOT NULL ORDER BY id LIMIT $3`
	qSetMessageKey    = `UPDATE messages SET wrapped_key = $1 WHERE tenant_id = $2 AND id = $3`
	qForwardsAfter    = `SELECT id, body_sealed FROM inbound_forwards WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3`
	qSetForwardBody   = `UPDATE inbound_forwards SET body_sealed = $1 WHERE tenant_id = $2 AND id = $3`
	qUpdateLedgerKey  = `UPDATE ledger_keys SET skey_sealed = $1 WHERE name = $2`
)

// purgeQueries holds, per category, the statement that purges one batch
// (arguments: tenant, cut-off, limit) and the one that counts what is due
// (tenant, cut-off). Finished messages are those not queued or sending.
var purgeQueries = map[string][2]string{
	"message_bodies": {
		`UPDATE messages SET sealed = NULL, wrapped_key = NULL WHERE id IN (
			SELECT id FROM messages WHERE tenant_id = $1 AND status NOT IN ('queued', 'sending')
			AND updated_at < $2 AND sealed IS NOT NULL LIMIT $3)`,
		`SELECT count(*) FROM messages WHERE tenant_id = $1 AND status NOT IN ('queued', 'sending')
			AND updated_at < $2 AND sealed IS NOT NULL`,
	},
	"message_metadata": {
		`DELETE FROM messages WHERE id IN (
			SELECT id FROM messages WHERE tenant_id = $1 AND status NOT IN ('queued', 'sending')
			AND updated_at < $2 LIMIT $3)`,
		`SELECT count(*) FROM messages WHERE tenant_id = $1 AND status NOT IN ('queued', 'sending') AND updated_at < $2`,
	},
	"inbound_messages": {
		`DELETE FROM inbound_messages WHERE id IN (
			SELECT id FROM inbound_messages WHERE tenant_id = $1 AND recorded_at < $2 LIMIT $3)`,
		`SELECT count(*) FROM inbound_messages WHERE tenant_id = $1 AND recorded_at < $2`,
	},
	// Evidence of every event of a (contact, purpose, channel) whose consent
	// was withdrawn or objected to before the cut-off. The digest stays, so
	// the ledger still verifies.
	"consent_evidence": {
		`UPDATE consent_events SET evidence_sealed = NULL WHERE seq IN (
			SELECT e.seq FROM consent_current c
			JOIN consent_events w ON w.seq = c.event_seq
			JOIN consent_events e ON e.tenant_id = c.tenant_id AND e.contact_id = c.contact_id
				AND e.purpose = c.purpose AND e.channel = c.channel
			WHERE c.tenant_id = $1 AND c.status IN ('withdrawn', 'objected') AND w.recorded_at < $2
				AND e.evidence_sealed IS NOT NULL LIMIT $3)`,
		`SELECT count(*) FROM consent_current c
			JOIN consent_events w ON w.seq = c.event_seq
			JOIN consent_events e ON e.tenant_id = c.tenant_id AND e.contact_id = c.contact_id
				AND e.purpose = c.purpose AND e.channel = c.channel
			WHERE c.tenant_id = $1 AND c.status IN ('withdrawn', 'objected') AND w.recorded_at < $2
				AND e.evidence_sealed IS NOT NULL`,
	},
	"dsr_records": {
		`DELETE FROM dsr_requests WHERE id IN (
			SELECT id FROM dsr_requests WHERE tenant_id = $1 AND status NOT IN ('open', 'blocked')
			AND completed_at > 0 AND completed_at < $2 LIMIT $3)`,
		`SELECT count(*) FROM dsr_requests WHERE tenant_id = $1 AND status NOT IN ('open', 'blocked')
			AND completed_at > 0 AND completed_at < $2`,
	},
}
