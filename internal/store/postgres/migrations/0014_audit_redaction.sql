-- Audit retention: an event past the tenant's period keeps its id, tenant,
-- time and chain position, loses its content, and keeps the digest of that
-- content so the hash chain still verifies.
ALTER TABLE audit_events ADD COLUMN redacted BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE audit_events ADD COLUMN content_digest BYTEA;
CREATE INDEX audit_events_redaction ON audit_events(tenant_id, at) WHERE NOT redacted;
