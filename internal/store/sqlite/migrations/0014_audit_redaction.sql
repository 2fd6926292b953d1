-- Audit retention: an event past the tenant's period keeps its id, tenant,
-- time and chain position, loses its content, and keeps the digest of that
-- content so the hash chain still verifies.
ALTER TABLE audit_events ADD COLUMN redacted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE audit_events ADD COLUMN content_digest BLOB;
CREATE INDEX audit_events_redaction ON audit_events(tenant_id, at) WHERE redacted = 0;
