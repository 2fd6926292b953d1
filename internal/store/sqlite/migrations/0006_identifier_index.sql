-- Reading a contact's identifiers filters by tenant and contact and sorts by
-- kind. Without an index that covers all three, SQLite's planner walked the
-- tenant's part of the primary key instead (every identifier of the tenant),
-- which made each consent write O(contacts).
DROP INDEX contact_identifiers_contact;
CREATE INDEX contact_identifiers_contact ON contact_identifiers(tenant_id, contact_id, kind);
