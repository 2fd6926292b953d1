-- The consent core. Times are INTEGER microseconds since the Unix epoch (UTC):
-- exact, sortable, and the same in both backends. Personal data is only ever
-- stored sealed (BLOB ciphertexts) or as keyed hashes (blind indexes).

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    wrapped_key BLOB NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id),
    role       TEXT NOT NULL,
    label      TEXT NOT NULL DEFAULT '',
    hash       BLOB NOT NULL UNIQUE,
    hint       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL DEFAULT 0,
    revoked_at INTEGER NOT NULL DEFAULT 0
) STRICT;
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
    double_opt_in  INTEGER NOT NULL,
    lifetime_s     INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, key)
) STRICT;

CREATE TABLE contacts (
    id                TEXT PRIMARY KEY,
    tenant_id         TEXT NOT NULL REFERENCES tenants(id),
    locale            TEXT NOT NULL DEFAULT '',
    wrapped_key       BLOB,
    attributes_sealed BLOB,
    restricted        INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
) STRICT;
CREATE INDEX contacts_tenant ON contacts(tenant_id);

CREATE TABLE contact_identifiers (
    tenant_id   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    blind_index BLOB NOT NULL,
    contact_id  TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    sealed      BLOB NOT NULL,
    PRIMARY KEY (tenant_id, kind, blind_index)
) STRICT;
CREATE INDEX contact_identifiers_contact ON contact_identifiers(contact_id);

-- Append-only: the service never updates or deletes these rows. seq orders
-- them for the change feed and the ledger.
CREATE TABLE consent_events (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    tenant_id       TEXT NOT NULL,
    contact_id      TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    channel         TEXT NOT NULL,
    status          TEXT NOT NULL,
    confirmed       INTEGER NOT NULL,
    source          TEXT NOT NULL,
    notice_version  INTEGER NOT NULL,
    evidence_sealed BLOB,
    evidence_digest BLOB,
    actor           TEXT NOT NULL DEFAULT '',
    occurred_at     INTEGER NOT NULL,
    recorded_at     INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX consent_events_contact ON consent_events(tenant_id, contact_id, seq);

-- Projection: the event each (contact, purpose, channel) currently rests on.
-- Derived from consent_events in the same transaction; rebuildable from it.
CREATE TABLE consent_current (
    tenant_id  TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    channel    TEXT NOT NULL,
    event_seq  INTEGER NOT NULL REFERENCES consent_events(seq),
    PRIMARY KEY (tenant_id, contact_id, purpose, channel)
) STRICT;

CREATE TABLE suppressions (
    tenant_id   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    blind_index BLOB NOT NULL,
    scope       TEXT NOT NULL,
    reason      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, kind, blind_index, scope)
) STRICT;
