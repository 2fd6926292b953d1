-- The consent core, the same tables and meaning as the SQLite schema. Times
-- are BIGINT microseconds since the Unix epoch (UTC): exact, sortable, and the
-- same in both backends. Personal data is only ever stored sealed (BYTEA
-- ciphertexts) or as keyed hashes (blind indexes).

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    wrapped_key BYTEA NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id),
    role       TEXT NOT NULL,
    label      TEXT NOT NULL DEFAULT '',
    hash       BYTEA NOT NULL UNIQUE,
    hint       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL DEFAULT 0,
    revoked_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX api_keys_tenant ON api_keys(tenant_id);

CREATE TABLE purposes (
    tenant_id      TEXT NOT NULL REFERENCES tenants(id),
    key            TEXT NOT NULL,
    name           TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    notice_version INTEGER NOT NULL,
    category       TEXT NOT NULL,
    basis          TEXT NOT NULL,
    channels       TEXT NOT NULL, -- JSON array of channel names
    double_opt_in  BOOLEAN NOT NULL,
    lifetime_s     BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, key)
);

CREATE TABLE contacts (
    id                TEXT PRIMARY KEY,
    tenant_id         TEXT NOT NULL REFERENCES tenants(id),
    locale            TEXT NOT NULL DEFAULT '',
    wrapped_key       BYTEA,
    attributes_sealed BYTEA,
    restricted        BOOLEAN NOT NULL DEFAULT false,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX contacts_tenant ON contacts(tenant_id);

CREATE TABLE contact_identifiers (
    tenant_id   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    blind_index BYTEA NOT NULL,
    contact_id  TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    sealed      BYTEA NOT NULL,
    PRIMARY KEY (tenant_id, kind, blind_index)
);
CREATE INDEX contact_identifiers_contact ON contact_identifiers(contact_id);

-- Append-only: the service never updates or deletes these rows. seq orders
-- them for the change feed and the ledger. Unlike SQLite, PostgreSQL hands
-- out sequence values outside the transaction: concurrent writers may commit
-- them out of order, and a rolled-back insert leaves a gap for good. The
-- change feed copes with both (internal/app/feed.go).
CREATE TABLE consent_events (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    tenant_id       TEXT NOT NULL,
    contact_id      TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    channel         TEXT NOT NULL,
    status          TEXT NOT NULL,
    confirmed       BOOLEAN NOT NULL,
    source          TEXT NOT NULL,
    notice_version  INTEGER NOT NULL,
    evidence_sealed BYTEA,
    evidence_digest BYTEA,
    actor           TEXT NOT NULL DEFAULT '',
    occurred_at     BIGINT NOT NULL,
    recorded_at     BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX consent_events_contact ON consent_events(tenant_id, contact_id, seq);

-- Projection: the event each (contact, purpose, channel) currently rests on.
-- Derived from consent_events in the same transaction; rebuildable from it.
CREATE TABLE consent_current (
    tenant_id  TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    channel    TEXT NOT NULL,
    event_seq  BIGINT NOT NULL REFERENCES consent_events(seq),
    PRIMARY KEY (tenant_id, contact_id, purpose, channel)
);

CREATE TABLE suppressions (
    tenant_id   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    blind_index BYTEA NOT NULL,
    scope       TEXT NOT NULL,
    reason      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, kind, blind_index, scope)
);
