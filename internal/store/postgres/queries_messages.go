package postgres

// The outbox's statements, the PostgreSQL twins of the SQLite ones. Every
// statement that reads or writes one tenant's messages filters by
// tenant_id; the claim, release and status counts are the dispatcher's,
// which works for every tenant.

const (
	messageCols = `id, tenant_id, contact_id, kind, inbound_id, purpose, channel, sender, recipient_kind,
		recipient_index, status, reason, basis, consent_event_id, body_hash, body_len, sealed, wrapped_key,
		idempotency_key, request_hash, attempts, due_at, lease_owner, provider_ref, last_error, created_at, updated_at`
	qCreateMessage = `INSERT INTO messages (` + messageCols + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22,
		$23, $24, $25, $26, $27)`
	// qCreateMessages is qCreateMessage for many rows, one array per
	// column. ON CONFLICT DO NOTHING skips a row whose id or idempotency
	// key is taken (also by an earlier row of the same statement), where
	// qCreateMessage fails; RETURNING says which rows were created.
	qCreateMessages = `INSERT INTO messages (` + messageCols + `)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
			$8::text[], $9::text[], $10::bytea[], $11::text[], $12::text[], $13::text[], $14::text[], $15::bytea[],
			$16::integer[], $17::bytea[], $18::bytea[], $19::text[], $20::bytea[], $21::integer[], $22::bigint[],
			$23::text[], $24::text[], $25::text[], $26::bigint[], $27::bigint[])
		ON CONFLICT DO NOTHING RETURNING id`
	qCreateReply = qCreateMessage + ` ON CONFLICT (tenant_id, inbound_id, kind) WHERE inbound_id <> '' DO NOTHING`
	qGetMessage  = `SELECT ` + messageCols + ` FROM messages WHERE tenant_id = $1 AND id = $2`

	qGetMessageByIdempotencyKey = `SELECT ` + messageCols + ` FROM messages
		WHERE tenant_id = $1 AND idempotency_key = $2 AND idempotency_key <> ''`
	qFindMessageByProviderRef = `SELECT ` + messageCols + ` FROM messages
		WHERE tenant_id = $1 AND channel = $2 AND provider_ref = $3 AND provider_ref <> ''`
	qCountMessagesSince   = `SELECT count(*) FROM messages WHERE tenant_id = $1 AND created_at >= $2`
	qCountMessagesByState = `SELECT status, count(*) FROM messages GROUP BY status`

	qAppendMessageEvent = `INSERT INTO message_events (tenant_id, message_id, status, detail, at)
		VALUES ($1, $2, $3, $4, $5) RETURNING seq`
	qListMessageEvents = `SELECT seq, tenant_id, message_id, status, detail, at FROM message_events
		WHERE tenant_id = $1 AND message_id = $2 ORDER BY seq`

	// SKIP LOCKED lets several nodes claim at once without waiting on, or
	// taking, each other's rows.
	qClaimMessages = `UPDATE messages SET status = 'sending', lease_owner = $1, due_at = $2, attempts = attempts + 1,
		updated_at = $3
		WHERE id IN (SELECT id FROM messages WHERE status IN ('queued', 'sending') AND due_at <= $3
			ORDER BY due_at LIMIT $4 FOR UPDATE SKIP LOCKED)
		RETURNING ` + messageCols
	qUpdateMessage = `UPDATE messages SET status = $1, due_at = $2, lease_owner = '',
		provider_ref = CASE WHEN $3 <> '' THEN $3 ELSE provider_ref END, last_error = $4,
		sealed = CASE WHEN $5 THEN NULL ELSE sealed END, wrapped_key = CASE WHEN $5 THEN NULL ELSE wrapped_key END,
		updated_at = $6
		WHERE tenant_id = $7 AND id = $8 AND status = 'sending' AND lease_owner = $9`
	qReleaseMessages = `UPDATE messages SET status = 'queued', due_at = $1, lease_owner = '',
		attempts = greatest(attempts - 1, 0), updated_at = $1
		WHERE id = ANY($2) AND status = 'sending' AND lease_owner = $3`
	qSetDeliveryStatus = `UPDATE messages SET status = $1, updated_at = $2
		WHERE tenant_id = $3 AND id = $4 AND status IN ('sent', 'delivered', 'failed')`

	providerCols        = `tenant_id, channel, kind, settings, secret_sealed, created_at, updated_at`
	qPutChannelProvider = `INSERT INTO channel_providers (` + providerCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (tenant_id, channel) DO UPDATE SET kind = excluded.kind, settings = excluded.settings,
		secret_sealed = excluded.secret_sealed, updated_at = excluded.updated_at`
	qGetChannelProvider    = `SELECT ` + providerCols + ` FROM channel_providers WHERE tenant_id = $1 AND channel = $2`
	qListChannelProviders  = `SELECT ` + providerCols + ` FROM channel_providers WHERE tenant_id = $1 ORDER BY channel`
	qDeleteChannelProvider = `DELETE FROM channel_providers WHERE tenant_id = $1 AND channel = $2`
)

// qMarkMessages is qUpdateMessage and qAppendMessageEvent for many outcomes
// in one statement: the update applies where the lease is still held, and
// only the rows it changed get their event.
const qMarkMessages = `WITH o AS (
	SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[],
		$8::boolean[], $9::bigint[], $10::text[])
		AS o(tenant_id, id, owner, status, due_at, provider_ref, last_error, drop_sealed, at, detail)
), done AS (
	UPDATE messages m SET status = o.status, due_at = o.due_at, lease_owner = '',
		provider_ref = CASE WHEN o.provider_ref <> '' THEN o.provider_ref ELSE m.provider_ref END,
		last_error = o.last_error,
		sealed = CASE WHEN o.drop_sealed THEN NULL ELSE m.sealed END,
		wrapped_key = CASE WHEN o.drop_sealed THEN NULL ELSE m.wrapped_key END, updated_at = o.at
	FROM o WHERE m.tenant_id = o.tenant_id AND m.id = o.id AND m.status = 'sending' AND m.lease_owner = o.owner
	RETURNING m.tenant_id, m.id
)
INSERT INTO message_events (tenant_id, message_id, status, detail, at)
SELECT o.tenant_id, o.id, o.status, o.detail, o.at FROM o JOIN done ON done.tenant_id = o.tenant_id AND done.id = o.id
RETURNING tenant_id, message_id, seq`
