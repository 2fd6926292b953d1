-- As SQLite's 0006: reading a contact's identifiers filters by tenant and
-- contact and sorts by kind, so one index covers all three.
DROP INDEX contact_identifiers_contact;
CREATE INDEX contact_identifiers_contact ON contact_identifiers(tenant_id, contact_id, kind);
