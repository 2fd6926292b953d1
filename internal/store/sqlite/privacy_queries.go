package sqlite

// The statements of the privacy store (privacy.go), in one place for review.
// Every statement that touches tenant data filters by tenant_id. Purges
// select their batch by rowid with a LIMIT, so that each transaction stays
// short and the writer is free again between batches.

const (
	attributeCols  = `tenant_id, name, type, category, purpose, retention_s, description, created_at`
	qCreateAttrDef = `INSERT INTO attribute_defs (` + attributeCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	qListAttrDefs  = `SELECT ` + attributeCols + ` FROM attribute_defs WHERE tenant_id = ? ORDER BY name`
	dsrCols        = `id, tenant_id, type, contact_id, status, received_at, due_at, extended, extension_reason, result, actor, completed_at`
	qCreateDSR     = `INSERT INTO dsr_requests (` + dsrCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qUpdateDSR     = `UPDATE dsr_requests SET contact_id = ?, status = ?, due_at = ?, extended = ?, extension_reason = ?, result = ?, completed_at = ? WHERE tenant_id = ? AND id = ?`
	qGetDSR        = `SELECT ` + dsrCols + ` FROM dsr_requests WHERE tenant_id = ? AND id = ?`
	qListDSRs      = `SELECT ` + dsrCols + ` FROM dsr_requests WHERE tenant_id = ? ORDER BY due_at, id LIMIT ?`
	qListOpenDSRs  = `SELECT ` + dsrCols + ` FROM dsr_requests WHERE tenant_id = ? AND status IN ('open', 'blocked') ORDER BY due_at, id LIMIT ?`
	qContactDSRs   = `SELECT ` + dsrCols + ` FROM dsr_requests WHERE tenant_id = ? AND contact_id = ? ORDER BY received_at, id`
	qPutLegalHold  = `INSERT INTO legal_holds (tenant_id, contact_id, reason, actor, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, contact_id) DO UPDATE SET reason = excluded.reason, actor = excluded.actor, created_at = excluded.created_at`
	qGetLegalHold   = `SELECT tenant_id, contact_id, reason, actor, created_at FROM legal_holds WHERE tenant_id = ? AND contact_id = ?`
	qDelLegalHold   = `DELETE FROM legal_holds WHERE tenant_id = ? AND contact_id = ?`
	qUpdateContact  = `UPDATE contacts SET locale = ?, attributes_sealed = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`
	qDelIdentifiers = `DELETE FROM contact_identifiers WHERE tenant_id = ? AND contact_id = ?`
	qSetRestricted  = `UPDATE contacts SET restricted = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`
	qCreateCert     = `INSERT INTO erasure_certificates (id, tenant_id, contact_id, dsr_id, body, created_at) VALUES (?, ?, ?, ?, ?, ?)`
	qGetCert        = `SELECT id, tenant_id, contact_id, dsr_id, body, created_at FROM erasure_certificates WHERE tenant_id = ? AND contact_id = ?`
	qSuppReason     = `SELECT reason FROM suppressions WHERE tenant_id = ? AND kind = ? AND blind_index = ? AND scope = 'all'`
	qContactMsgs    = `SELECT ` + messageCols + ` FROM messages WHERE tenant_id = ? AND contact_id = ? ORDER BY created_at DESC LIMIT ?`
	qContactInbound = `SELECT ` + inboundCols + ` FROM inbound_messages WHERE tenant_id = ? AND contact_id = ? ORDER BY recorded_at DESC LIMIT ?`

	// Erasure, in dependency order. "contact_id <> ''" lets the planner
	// use the partial indexes on contact_id. The contact's blind indexes are read
	// before its identifiers go, so that rows addressed to the person
	// without naming the contact (a message to the number, an inbound
	// message from it) go too, and so do rows holding one of the further
	// forms the caller passes (a JSON array of hex strings): while the index
	// key rotates, a row can hold another form than the identifier's.
	qEraseForwards = `DELETE FROM inbound_forwards WHERE tenant_id = ? AND inbound_id IN (
		SELECT id FROM inbound_messages WHERE tenant_id = ? AND ((contact_id = ? AND contact_id <> '') OR from_index IN (
			SELECT blind_index FROM contact_identifiers WHERE tenant_id = ? AND contact_id = ?
			UNION ALL SELECT unhex(value) FROM json_each(?))))`
	qEraseInbound = `DELETE FROM {inbound_messages} WHERE tenant_id = ? AND ((contact_id = ? AND contact_id <> '') OR from_index IN (
		SELECT blind_index FROM contact_identifiers WHERE tenant_id = ? AND contact_id = ?
		UNION ALL SELECT unhex(value) FROM json_each(?)))`
	qEraseMsgEvents = `DELETE FROM {message_events} WHERE message_id IN (SELECT id FROM {messages} WHERE tenant_id = ? AND ((contact_id = ? AND contact_id <> '') OR recipient_index IN (
		SELECT blind_index FROM contact_identifiers WHERE tenant_id = ? AND contact_id = ?
		UNION ALL SELECT unhex(value) FROM json_each(?))))`
	qEraseMessages = `DELETE FROM {messages} WHERE tenant_id = ? AND ((contact_id = ? AND contact_id <> '') OR recipient_index IN (
		SELECT blind_index FROM contact_identifiers WHERE tenant_id = ? AND contact_id = ?
		UNION ALL SELECT unhex(value) FROM json_each(?)))`
	qEraseStops    = `DELETE FROM keyword_stops WHERE tenant_id = ? AND contact_id = ?`
	qEraseCurrent  = `DELETE FROM consent_current WHERE tenant_id = ? AND contact_id = ?`
	qEraseEvidence = `UPDATE consent_events SET evidence_sealed = NULL WHERE tenant_id = ? AND contact_id = ? AND evidence_sealed IS NOT NULL`
	qEraseHold     = `DELETE FROM legal_holds WHERE tenant_id = ? AND contact_id = ?`
	// The wrapped data key is overwritten before the row goes: with
	// secure_delete the freed page is zeroed as well, but clearing the key
	// first makes the shredding independent of page reuse.
	qShredKey     = `UPDATE contacts SET wrapped_key = NULL, attributes_sealed = NULL WHERE tenant_id = ? AND id = ?`
	qEraseContact = `DELETE FROM contacts WHERE tenant_id = ? AND id = ?`
	qPutRetention = `INSERT INTO retention_policies (tenant_id, category, period_s, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (tenant_id, category) DO UPDATE SET period_s = excluded.period_s, updated_at = excluded.updated_at`
	qListRetention = `SELECT tenant_id, category, period_s, updated_at FROM retention_policies WHERE tenant_id = ? ORDER BY category`

	purgeCols     = `id, tenant_id, category, count, cutoff, at, signature`
	qAppendPurge  = `INSERT INTO purge_log (` + purgeCols + `) VALUES (?, ?, ?, ?, ?, ?, ?)`
	qListPurge    = `SELECT ` + purgeCols + ` FROM purge_log WHERE tenant_id = ? ORDER BY at DESC, id DESC LIMIT ?`
	qListPurgeAll = `SELECT ` + purgeCols + ` FROM purge_log ORDER BY at DESC, id DESC LIMIT ?`
	qSetPurgeSig  = `UPDATE purge_log SET signature = ? WHERE id = ?`

	qUpdateTenantKey  = `UPDATE tenants SET wrapped_key = ? WHERE id = ?`
	qContactKeysAfter = `SELECT id, wrapped_key FROM contacts WHERE tenant_id = ? AND id > ? AND wrapped_key IS NOT NULL ORDER BY id LIMIT ?`
	qSetContactKey    = `UPDATE contacts SET wrapped_key = ? WHERE tenant_id = ? AND id = ?`
	qMessageKeysAfter = `SELECT id, wrapped_key FROM messages WHERE tenant_id = ? AND id > ? AND wrapped_key IS NOT NULL ORDER BY id LIMIT ?`
	qSetMessageKey    = `UPDATE {messages} SET wrapped_key = ? WHERE tenant_id = ? AND id = ?`
	qForwardsAfter    = `SELECT id, body_sealed FROM inbound_forwards WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?`
	qSetForwardBody   = `UPDATE inbound_forwards SET body_sealed = ? WHERE tenant_id = ? AND id = ?`
	qUpdateLedgerKey  = `UPDATE ledger_keys SET skey_sealed = ? WHERE name = ?`
)

// purgeQueries holds, per category, the statement that purges one batch
// (arguments: tenant, cut-off, limit) and the one that counts what is due
// (tenant, cut-off). Finished messages are those not queued or sending. The
// categories in purgeKinds keep their rows in partitions: both run in one
// partition after another (a count over the view would not use the partial
// indexes, see noneExist).
var purgeQueries = map[string][2]string{
	"message_bodies": {
		`UPDATE {messages} SET sealed = NULL, wrapped_key = NULL WHERE rowid IN (
			SELECT rowid FROM {messages} WHERE tenant_id = ?1 AND status NOT IN ('queued', 'sending')
			AND updated_at < ?2 AND sealed IS NOT NULL LIMIT ?3)`,
		`SELECT count(*) FROM {messages} WHERE tenant_id = ?1 AND status NOT IN ('queued', 'sending')
			AND updated_at < ?2 AND sealed IS NOT NULL`,
	},
	"message_metadata": {
		`DELETE FROM {messages} WHERE rowid IN (
			SELECT rowid FROM {messages} WHERE tenant_id = ?1 AND status NOT IN ('queued', 'sending')
			AND updated_at < ?2 LIMIT ?3)`,
		`SELECT count(*) FROM {messages} WHERE tenant_id = ?1 AND status NOT IN ('queued', 'sending') AND updated_at < ?2`,
	},
	"inbound_messages": {
		`DELETE FROM {inbound_messages} WHERE rowid IN (
			SELECT rowid FROM {inbound_messages} WHERE tenant_id = ?1 AND recorded_at < ?2 LIMIT ?3)`,
		`SELECT count(*) FROM {inbound_messages} WHERE tenant_id = ?1 AND recorded_at < ?2`,
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
			WHERE c.tenant_id = ?1 AND c.status IN ('withdrawn', 'objected') AND w.recorded_at < ?2
				AND e.evidence_sealed IS NOT NULL LIMIT ?3)`,
		`SELECT count(*) FROM consent_current c
			JOIN consent_events w ON w.seq = c.event_seq
			JOIN consent_events e ON e.tenant_id = c.tenant_id AND e.contact_id = c.contact_id
				AND e.purpose = c.purpose AND e.channel = c.channel
			WHERE c.tenant_id = ?1 AND c.status IN ('withdrawn', 'objected') AND w.recorded_at < ?2
				AND e.evidence_sealed IS NOT NULL`,
	},
	"dsr_records": {
		`DELETE FROM dsr_requests WHERE rowid IN (
			SELECT rowid FROM dsr_requests WHERE tenant_id = ?1 AND status NOT IN ('open', 'blocked')
			AND completed_at > 0 AND completed_at < ?2 LIMIT ?3)`,
		`SELECT count(*) FROM dsr_requests WHERE tenant_id = ?1 AND status NOT IN ('open', 'blocked')
			AND completed_at > 0 AND completed_at < ?2`,
	},
}

// purgeKinds names the partitioned categories' partition kinds.
var purgeKinds = map[string]*partKind{
	"message_bodies":   messagesKind,
	"message_metadata": messagesKind,
	"inbound_messages": inboundKind,
}
