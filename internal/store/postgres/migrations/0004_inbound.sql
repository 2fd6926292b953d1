-- Inbound messaging: senders (routing), keyword rules, webhook secrets,
-- the record of every inbound message (idempotency), what the last STOP
-- withdrew, the tenant profile, reply templates and pending forwards.
-- Nothing here holds a person's identifier or message text in clear:
-- identifiers appear only as blind indexes, texts as keyed hashes, forward
-- bodies sealed and deleted once delivered.

CREATE TABLE senders (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id),
    channel    TEXT NOT NULL,
    kind       TEXT NOT NULL,
    address    TEXT NOT NULL,
    purposes   TEXT NOT NULL, -- JSON array of purpose keys
    created_at BIGINT NOT NULL,
    UNIQUE (channel, address)
);
CREATE INDEX senders_tenant ON senders(tenant_id);

CREATE TABLE keyword_rules (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id),
    phrase     TEXT NOT NULL,
    intent     TEXT NOT NULL,
    action     TEXT NOT NULL,
    scope      TEXT NOT NULL,
    language   TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (tenant_id, phrase, language)
);

CREATE TABLE webhook_secrets (
    tenant_id       TEXT NOT NULL REFERENCES tenants(id),
    provider        TEXT NOT NULL,
    sealed          BYTEA NOT NULL,
    previous_sealed BYTEA,
    hint            TEXT NOT NULL DEFAULT '',
    rotated_at      BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, provider)
);

CREATE TABLE inbound_messages (
    tenant_id   TEXT NOT NULL,
    channel     TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    id          TEXT NOT NULL UNIQUE,
    sender_id   TEXT NOT NULL,
    contact_id  TEXT NOT NULL DEFAULT '',
    from_index  BYTEA NOT NULL,
    text_hash   BYTEA NOT NULL,
    text_len    BIGINT NOT NULL,
    keyword     TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL DEFAULT '',
    scope       TEXT NOT NULL DEFAULT '',
    language    TEXT NOT NULL DEFAULT '',
    outcome     TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, channel, provider_id)
);
CREATE INDEX inbound_messages_recorded ON inbound_messages(tenant_id, recorded_at);

CREATE TABLE keyword_stops (
    tenant_id  TEXT NOT NULL,
    contact_id TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    channel    TEXT NOT NULL,
    inbound_id TEXT NOT NULL,
    items      TEXT NOT NULL, -- JSON array of {purpose, status, confirmed, expires_at}
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, contact_id, channel)
);

CREATE TABLE tenant_profiles (
    tenant_id          TEXT PRIMARY KEY REFERENCES tenants(id),
    controller_name    TEXT NOT NULL,
    privacy_notice_url TEXT NOT NULL,
    dpo_name           TEXT NOT NULL,
    dpo_email          TEXT NOT NULL,
    updated_at         BIGINT NOT NULL
);

CREATE TABLE reply_templates (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id),
    kind       TEXT NOT NULL,
    language   TEXT NOT NULL,
    body       TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, kind, language)
);

CREATE TABLE forward_targets (
    tenant_id     TEXT PRIMARY KEY REFERENCES tenants(id),
    url           TEXT NOT NULL,
    secret_sealed BYTEA NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE inbound_forwards (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    inbound_id   TEXT NOT NULL,
    body_sealed  BYTEA NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0,
    next_attempt BIGINT NOT NULL,
    last_error   TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL
);
CREATE INDEX inbound_forwards_due ON inbound_forwards(next_attempt);
