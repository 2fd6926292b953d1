-- The change feed reads purposes and contacts by when they changed. That
-- time used to be updated_at, from the writing node's clock, so a node
-- whose clock lagged the others could write a change behind every other
-- node's cursor, and they would never read it (a restriction not honoured).
-- changed_at is stamped here, by the database server's one clock, whenever
-- a statement inserts a row or sets its updated_at (every change the feed
-- carries does; a key rotation, which rewrites wrapped_key only, does not).
ALTER TABLE purposes ADD COLUMN changed_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE contacts ADD COLUMN changed_at BIGINT NOT NULL DEFAULT 0;
UPDATE purposes SET changed_at = updated_at;
UPDATE contacts SET changed_at = updated_at;

CREATE FUNCTION consentgate_stamp_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.changed_at := (extract(epoch FROM clock_timestamp()) * 1000000)::bigint;
    RETURN NEW;
END
$$;

CREATE TRIGGER purposes_stamp_change BEFORE INSERT OR UPDATE OF updated_at ON purposes
    FOR EACH ROW EXECUTE FUNCTION consentgate_stamp_change();
CREATE TRIGGER contacts_stamp_change BEFORE INSERT OR UPDATE OF updated_at ON contacts
    FOR EACH ROW EXECUTE FUNCTION consentgate_stamp_change();

DROP INDEX purposes_updated;
DROP INDEX contacts_updated;
CREATE INDEX purposes_changed ON purposes(changed_at);
CREATE INDEX contacts_changed ON contacts(changed_at);
