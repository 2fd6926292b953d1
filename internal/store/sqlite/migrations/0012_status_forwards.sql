-- Status forwards: changes of a message's status waiting to be delivered to
-- the tenant's webhook. Ids, statuses and codes only (no recipient, no
-- text), so nothing is sealed; a row is deleted once delivered.
CREATE TABLE status_forwards (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    status       TEXT NOT NULL,
    channel      TEXT NOT NULL,
    purpose      TEXT NOT NULL DEFAULT '',
    provider_ref TEXT NOT NULL DEFAULT '',
    error_code   TEXT NOT NULL DEFAULT '',
    at           INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt INTEGER NOT NULL,
    last_error   TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX status_forwards_due ON status_forwards(next_attempt);
