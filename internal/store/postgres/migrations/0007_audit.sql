-- Access control and the audit trail (issue 7): the same tables and meaning
-- as the SQLite schema.

-- Scopes narrow a key's role: space-separated permissions, '' for the whole role.
ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT '';

-- Web UI users. The e-mail address is sealed; email_index is its blind index.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    role          TEXT NOT NULL,
    email_sealed  BYTEA NOT NULL,
    email_index   BYTEA NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    UNIQUE (tenant_id, email_index)
);

-- Audit events: ids and names only; the reason is sealed. Rows are inserted
-- by the request they record and updated once, by the chainer, which sets
-- chain_pos and chain_hash. Sequence numbers can commit out of order across
-- nodes; the chain follows chain_pos, which the chainer hands out in the
-- order it finds committed rows, so a late commit is linked later, never
-- skipped.
CREATE TABLE audit_events (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    tenant_id   TEXT NOT NULL,
    at          BIGINT NOT NULL,
    actor_type  TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    role        TEXT NOT NULL,
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    contact_id  TEXT NOT NULL,
    fields      TEXT NOT NULL, -- JSON array of field names
    reason      BYTEA,
    request_id  TEXT NOT NULL,
    result      TEXT NOT NULL,
    chain_pos   BIGINT UNIQUE,
    chain_hash  BYTEA
);
CREATE INDEX audit_events_tenant ON audit_events(tenant_id, seq);
CREATE INDEX audit_events_actor ON audit_events(tenant_id, actor_id, seq);
CREATE INDEX audit_events_contact ON audit_events(tenant_id, contact_id, seq) WHERE contact_id <> '';
CREATE INDEX audit_events_object ON audit_events(tenant_id, object_type, object_id, seq);
CREATE INDEX audit_events_unchained ON audit_events(seq) WHERE chain_pos IS NULL;

-- The chain head: one row, moved by compare-and-set.
CREATE TABLE audit_chain (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    pos  BIGINT NOT NULL,
    hash BYTEA
);
INSERT INTO audit_chain (id, pos, hash) VALUES (1, 0, NULL);
