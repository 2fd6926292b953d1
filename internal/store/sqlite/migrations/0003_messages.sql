-- Outbound messages (the durable outbox), their status timelines and the
-- tenants' channel providers. A message row keeps metadata only; the
-- recipient's address and the text travel in `sealed`, encrypted, and are
-- set to NULL once the message reaches a terminal status.

CREATE TABLE messages (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants(id),
    contact_id       TEXT NOT NULL DEFAULT '',
    kind             TEXT NOT NULL,
    inbound_id       TEXT NOT NULL DEFAULT '',
    purpose          TEXT NOT NULL DEFAULT '',
    channel          TEXT NOT NULL,
    sender           TEXT NOT NULL,
    recipient_kind   TEXT NOT NULL,
    recipient_index  BLOB NOT NULL,
    status           TEXT NOT NULL,
    reason           TEXT NOT NULL,
    basis            TEXT NOT NULL DEFAULT '',
    consent_event_id TEXT NOT NULL DEFAULT '',
    body_hash        BLOB NOT NULL,
    body_len         INTEGER NOT NULL,
    sealed           BLOB,
    wrapped_key      BLOB,
    idempotency_key  TEXT NOT NULL DEFAULT '',
    request_hash     BLOB,
    attempts         INTEGER NOT NULL DEFAULT 0,
    due_at           INTEGER NOT NULL,
    lease_owner      TEXT NOT NULL DEFAULT '',
    provider_ref     TEXT NOT NULL DEFAULT '',
    last_error       TEXT NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
) STRICT;
-- The claim scans only what the outbox still has to do; finished messages
-- drop out of this index.
CREATE INDEX messages_due ON messages(due_at) WHERE status IN ('queued', 'sending');
CREATE INDEX messages_tenant_created ON messages(tenant_id, created_at);
CREATE UNIQUE INDEX messages_idempotency ON messages(tenant_id, idempotency_key) WHERE idempotency_key <> '';
CREATE UNIQUE INDEX messages_reply ON messages(tenant_id, inbound_id, kind) WHERE inbound_id <> '';
CREATE INDEX messages_provider_ref ON messages(tenant_id, channel, provider_ref) WHERE provider_ref <> '';
CREATE INDEX messages_contact ON messages(tenant_id, contact_id) WHERE contact_id <> '';

CREATE TABLE message_events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id  TEXT NOT NULL,
    message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    status     TEXT NOT NULL,
    detail     TEXT NOT NULL DEFAULT '',
    at         INTEGER NOT NULL
) STRICT;
CREATE INDEX message_events_message ON message_events(message_id, seq);

CREATE TABLE channel_providers (
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    channel       TEXT NOT NULL,
    kind          TEXT NOT NULL,
    settings      BLOB NOT NULL,
    secret_sealed BLOB,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, channel)
) STRICT;
