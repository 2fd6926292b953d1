package postgres

// The statements of the records store (migration 0009), in one place for
// review. Every statement filters by tenant_id.

const (
	controllerCols = `tenant_id, address, representative, representative_contact, dpo_phone, supervisory_authority, supervisory_authority_url, updated_at`
	qPutController = `INSERT INTO controller_details (` + controllerCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (tenant_id) DO UPDATE SET address = excluded.address, representative = excluded.representative,
		representative_contact = excluded.representative_contact, dpo_phone = excluded.dpo_phone,
		supervisory_authority = excluded.supervisory_authority, supervisory_authority_url = excluded.supervisory_authority_url,
		updated_at = excluded.updated_at`
	qGetController = `SELECT ` + controllerCols + ` FROM controller_details WHERE tenant_id = $1`
	processorCols  = `tenant_id, channel, name, country, transfer, dpa_ref, updated_at`
	qPutProcessor  = `INSERT INTO processor_details (` + processorCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (tenant_id, channel) DO UPDATE SET name = excluded.name, country = excluded.country,
		transfer = excluded.transfer, dpa_ref = excluded.dpa_ref, updated_at = excluded.updated_at`
	qListProcessors = `SELECT ` + processorCols + ` FROM processor_details WHERE tenant_id = $1 ORDER BY channel`

	versionCols    = `tenant_id, kind, version, digest, body, changes, created_at`
	qCreateVersion = `INSERT INTO record_versions (` + versionCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7)`
	qLatestVersion = `SELECT ` + versionCols + ` FROM record_versions WHERE tenant_id = $1 AND kind = $2 ORDER BY version DESC LIMIT 1`
	qGetVersion    = `SELECT ` + versionCols + ` FROM record_versions WHERE tenant_id = $1 AND kind = $2 AND version = $3`
	qListVersions  = `SELECT tenant_id, kind, version, digest, ''::bytea, changes, created_at FROM record_versions WHERE tenant_id = $1 AND kind = $2 ORDER BY version DESC`

	dpiaCols = `tenant_id, purpose, answers, risks, signed_by, signed_at, signed_digest, sign_note, updated_at`
	qPutDPIA = `INSERT INTO dpias (` + dpiaCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (tenant_id, purpose) DO UPDATE SET answers = excluded.answers, risks = excluded.risks,
		signed_by = excluded.signed_by, signed_at = excluded.signed_at, signed_digest = excluded.signed_digest,
		sign_note = excluded.sign_note, updated_at = excluded.updated_at`
	qGetDPIA   = `SELECT ` + dpiaCols + ` FROM dpias WHERE tenant_id = $1 AND purpose = $2`
	qListDPIAs = `SELECT ` + dpiaCols + ` FROM dpias WHERE tenant_id = $1 ORDER BY purpose`

	breachCols    = `id, tenant_id, discovered_at, occurred_from, occurred_to, nature, categories, channel, approx_subjects, approx_records, consequences, measures, notified_at, late_reason, recorded_by, created_at, updated_at`
	qCreateBreach = `INSERT INTO breaches (` + breachCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`
	qUpdateBreach = `UPDATE breaches SET discovered_at = $1, occurred_from = $2, occurred_to = $3, nature = $4, categories = $5,
		channel = $6, approx_subjects = $7, approx_records = $8, consequences = $9, measures = $10, notified_at = $11,
		late_reason = $12, updated_at = $13 WHERE tenant_id = $14 AND id = $15`
	qGetBreach    = `SELECT ` + breachCols + ` FROM breaches WHERE tenant_id = $1 AND id = $2`
	qListBreaches = `SELECT ` + breachCols + ` FROM breaches WHERE tenant_id = $1 ORDER BY discovered_at DESC, id DESC`

	qConsentStates  = `SELECT purpose, channel, status, count(*) FROM consent_current WHERE tenant_id = $1 GROUP BY purpose, channel, status ORDER BY purpose, channel, status`
	qOptOutsByDay   = `SELECT occurred_at / 86400000000 AS day, purpose, channel, count(*) FROM consent_events WHERE tenant_id = $1 AND status IN ('withdrawn', 'objected') AND occurred_at >= $2 GROUP BY day, purpose, channel ORDER BY day, purpose, channel`
	qConsentingByPu = `SELECT purpose, count(DISTINCT contact_id) FROM consent_current WHERE tenant_id = $1 AND status IN ('granted', 'pending') GROUP BY purpose`
	qMessagedByPu   = `SELECT purpose, count(DISTINCT contact_id) FROM messages WHERE tenant_id = $1 AND purpose <> '' AND contact_id <> '' AND created_at >= $2 GROUP BY purpose`
)

// The breach-scoping statements, one pair (counts, ids) per source, as in
// the SQLite store: tenant, from, to, channel (” for every channel), and
// the limit for ids; contacts take tenant and to only.
var affectedQueries = map[string][2]string{
	"messages": {
		`SELECT count(*), count(DISTINCT NULLIF(contact_id, '')) FROM messages WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3 AND ($4 = '' OR channel = $4)`,
		`SELECT DISTINCT contact_id FROM messages WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3 AND ($4 = '' OR channel = $4) AND contact_id <> '' ORDER BY contact_id LIMIT $5`},
	"inbound": {
		`SELECT count(*), count(DISTINCT NULLIF(contact_id, '')) FROM inbound_messages WHERE tenant_id = $1 AND recorded_at >= $2 AND recorded_at < $3 AND ($4 = '' OR channel = $4)`,
		`SELECT DISTINCT contact_id FROM inbound_messages WHERE tenant_id = $1 AND recorded_at >= $2 AND recorded_at < $3 AND ($4 = '' OR channel = $4) AND contact_id <> '' ORDER BY contact_id LIMIT $5`},
	"consent_events": {
		`SELECT count(*), count(DISTINCT contact_id) FROM consent_events WHERE tenant_id = $1 AND recorded_at >= $2 AND recorded_at < $3 AND ($4 = '' OR channel = $4)`,
		`SELECT DISTINCT contact_id FROM consent_events WHERE tenant_id = $1 AND recorded_at >= $2 AND recorded_at < $3 AND ($4 = '' OR channel = $4) ORDER BY contact_id LIMIT $5`},
	"contacts": {
		`SELECT count(*), count(*) FROM contacts WHERE tenant_id = $1 AND created_at < $2`,
		`SELECT id FROM contacts WHERE tenant_id = $1 AND created_at < $2 ORDER BY id LIMIT $3`},
}
