-- The same tables and meaning as the SQLite schema (sqlite/migrations/0008).
-- Privacy at rest and the data subject's rights (issue 6): declared
-- attributes, data-subject requests, legal holds, erasure certificates,
-- retention policies and the signed purge log. None of these tables holds an
-- identifier or other personal data in clear; contacts appear only by their
-- pseudonymous ids.

CREATE TABLE attribute_defs (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    name        TEXT NOT NULL,
    type        TEXT NOT NULL,
    category    TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    retention_s BIGINT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

CREATE TABLE dsr_requests (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants(id),
    type             TEXT NOT NULL,
    contact_id       TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL,
    received_at      BIGINT NOT NULL,
    due_at           BIGINT NOT NULL,
    extended         BOOLEAN NOT NULL DEFAULT false,
    extension_reason TEXT NOT NULL DEFAULT '',
    result           BYTEA,
    actor            TEXT NOT NULL DEFAULT '',
    completed_at     BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX dsr_requests_due ON dsr_requests(tenant_id, status, due_at);
CREATE INDEX dsr_requests_contact ON dsr_requests(tenant_id, contact_id);
CREATE INDEX dsr_requests_completed ON dsr_requests(tenant_id, completed_at) WHERE status NOT IN ('open', 'blocked');

CREATE TABLE legal_holds (
    tenant_id  TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    reason     TEXT NOT NULL,
    actor      TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, contact_id)
);

CREATE TABLE erasure_certificates (
    id         TEXT NOT NULL UNIQUE,
    tenant_id  TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    dsr_id     TEXT NOT NULL DEFAULT '',
    body       BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, contact_id)
);

CREATE TABLE retention_policies (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id),
    category   TEXT NOT NULL,
    period_s   BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, category)
);

CREATE TABLE purge_log (
    id        TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    category  TEXT NOT NULL,
    count     BIGINT NOT NULL,
    cutoff    BIGINT NOT NULL,
    at        BIGINT NOT NULL,
    signature BYTEA NOT NULL
);
CREATE INDEX purge_log_tenant ON purge_log(tenant_id, at);

-- The purges find expired rows through these; without them each batch
-- would scan the whole table.
CREATE INDEX messages_purge ON messages(tenant_id, updated_at) WHERE status NOT IN ('queued', 'sending');
CREATE INDEX inbound_messages_contact ON inbound_messages(tenant_id, contact_id) WHERE contact_id <> '';
CREATE INDEX inbound_messages_from ON inbound_messages(tenant_id, from_index);
CREATE INDEX messages_recipient ON messages(tenant_id, recipient_index);
CREATE INDEX consent_current_status ON consent_current(tenant_id, status) WHERE status IN ('withdrawn', 'objected');
-- Deleting a contact makes the database look up the rows that reference it
-- (the foreign keys' ON DELETE CASCADE) by contact_id alone; the existing
-- indexes start with tenant_id, so without these each erasure scanned every
-- identifier of every tenant.
CREATE INDEX contact_identifiers_fk ON contact_identifiers(contact_id);
CREATE INDEX keyword_stops_fk ON keyword_stops(contact_id);
