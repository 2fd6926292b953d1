package sqlite

// The statements of the records store (migration 0009), in one place for
// review. Every statement filters by tenant_id.

const (
	controllerCols  = `tenant_id, address, representative, representative_contact, dpo_phone, supervisory_authority, supervisory_authority_url, updated_at`
	qPutController  = `INSERT OR REPLACE INTO controller_details (` + controllerCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	qGetController  = `SELECT ` + controllerCols + ` FROM controller_details WHERE tenant_id = ?`
	processorCols   = `tenant_id, channel, name, country, transfer, dpa_ref, updated_at`
	qPutProcessor   = `INSERT OR REPLACE INTO processor_details (` + processorCols + `) VALUES (?, ?, ?, ?, ?, ?, ?)`
	qListProcessors = `SELECT ` + processorCols + ` FROM processor_details WHERE tenant_id = ? ORDER BY channel`

	versionCols     = `tenant_id, kind, version, digest, body, changes, created_at`
	qCreateVersion  = `INSERT INTO record_versions (` + versionCols + `) VALUES (?, ?, ?, ?, ?, ?, ?)`
	qLatestVersion  = `SELECT ` + versionCols + ` FROM record_versions WHERE tenant_id = ? AND kind = ? ORDER BY version DESC LIMIT 1`
	qGetVersion     = `SELECT ` + versionCols + ` FROM record_versions WHERE tenant_id = ? AND kind = ? AND version = ?`
	qListVersions   = `SELECT tenant_id, kind, version, digest, x'', changes, created_at FROM record_versions WHERE tenant_id = ? AND kind = ? ORDER BY version DESC`
	dpiaCols        = `tenant_id, purpose, answers, risks, signed_by, signed_at, signed_digest, sign_note, updated_at`
	qPutDPIA        = `INSERT OR REPLACE INTO dpias (` + dpiaCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qGetDPIA        = `SELECT ` + dpiaCols + ` FROM dpias WHERE tenant_id = ? AND purpose = ?`
	qListDPIAs      = `SELECT ` + dpiaCols + ` FROM dpias WHERE tenant_id = ? ORDER BY purpose`
	breachCols      = `id, tenant_id, discovered_at, occurred_from, occurred_to, nature, categories, channel, approx_subjects, approx_records, consequences, measures, notified_at, late_reason, recorded_by, created_at, updated_at`
	qCreateBreach   = `INSERT INTO breaches (` + breachCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qUpdateBreach   = `UPDATE breaches SET discovered_at = ?, occurred_from = ?, occurred_to = ?, nature = ?, categories = ?, channel = ?, approx_subjects = ?, approx_records = ?, consequences = ?, measures = ?, notified_at = ?, late_reason = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`
	qGetBreach      = `SELECT ` + breachCols + ` FROM breaches WHERE tenant_id = ? AND id = ?`
	qListBreaches   = `SELECT ` + breachCols + ` FROM breaches WHERE tenant_id = ? ORDER BY discovered_at DESC, id DESC`
	qConsentStates  = `SELECT purpose, channel, status, count(*) FROM consent_current WHERE tenant_id = ? GROUP BY purpose, channel, status ORDER BY purpose, channel, status`
	qOptOutsByDay   = `SELECT occurred_at / 86400000000 AS day, purpose, channel, count(*) FROM consent_events WHERE tenant_id = ? AND status IN ('withdrawn', 'objected') AND occurred_at >= ? GROUP BY day, purpose, channel ORDER BY day, purpose, channel`
	qConsentingByPu = `SELECT purpose, count(DISTINCT contact_id) FROM consent_current WHERE tenant_id = ? AND status IN ('granted', 'pending') GROUP BY purpose`
	qMessagedByPu   = `SELECT purpose, count(DISTINCT contact_id) FROM messages WHERE tenant_id = ? AND purpose <> '' AND contact_id <> '' AND created_at >= ? GROUP BY purpose`
)

// The breach-scoping statements, one pair (counts, ids) per source. Each
// takes tenant, from, to, channel, channel (and the limit for ids); the
// channel is ” for every channel. Contacts take tenant and to only: every
// contact that existed before the window ended had its identifiers in the
// database, whatever the channel.
var affectedQueries = map[string][2]string{
	"messages": {
		`SELECT count(*), count(DISTINCT NULLIF(contact_id, '')) FROM messages WHERE tenant_id = ? AND created_at >= ? AND created_at < ? AND (? = '' OR channel = ?)`,
		`SELECT DISTINCT contact_id FROM messages WHERE tenant_id = ? AND created_at >= ? AND created_at < ? AND (? = '' OR channel = ?) AND contact_id <> '' ORDER BY contact_id LIMIT ?`},
	"inbound": {
		`SELECT count(*), count(DISTINCT NULLIF(contact_id, '')) FROM inbound_messages WHERE tenant_id = ? AND recorded_at >= ? AND recorded_at < ? AND (? = '' OR channel = ?)`,
		`SELECT DISTINCT contact_id FROM inbound_messages WHERE tenant_id = ? AND recorded_at >= ? AND recorded_at < ? AND (? = '' OR channel = ?) AND contact_id <> '' ORDER BY contact_id LIMIT ?`},
	"consent_events": {
		`SELECT count(*), count(DISTINCT contact_id) FROM consent_events WHERE tenant_id = ? AND recorded_at >= ? AND recorded_at < ? AND (? = '' OR channel = ?)`,
		`SELECT DISTINCT contact_id FROM consent_events WHERE tenant_id = ? AND recorded_at >= ? AND recorded_at < ? AND (? = '' OR channel = ?) ORDER BY contact_id LIMIT ?`},
	"contacts": {
		`SELECT count(*), count(*) FROM contacts WHERE tenant_id = ? AND created_at < ?`,
		`SELECT id FROM contacts WHERE tenant_id = ? AND created_at < ? ORDER BY id LIMIT ?`},
}
