-- The change feed reads purposes and contacts changed since a time (other
-- nodes' edits, restrictions, rectifications): index the times it reads by.
CREATE INDEX purposes_updated ON purposes(updated_at);
CREATE INDEX contacts_updated ON contacts(updated_at);
