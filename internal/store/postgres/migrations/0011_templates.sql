-- Message templates (issue 4): the tenant's own copy with {{placeholder}}
-- parameters, one per (name, channel, language). Kept in clear: it is
-- marketing copy, not personal data; the parameters of a send are never
-- stored.
CREATE TABLE message_templates (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id),
    name       TEXT NOT NULL,
    channel    TEXT NOT NULL,
    language   TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, name, channel, language)
);
