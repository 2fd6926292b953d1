-- Time partitions for the tables the retention purge empties in bulk:
-- messages (with their status events) and inbound records. Deleting rows
-- one by one costs a random page write per index entry; dropping a
-- partition whose rows have all expired costs in proportion to its pages
-- (docs/benchmarks.md). The catalog names each partition and the window of
-- id times it holds; the store keeps one view per table that reads every
-- live partition, so queries that read keep their text.
--
-- The tables as they are become partition p0, whose window ends at the
-- newest row (empty on a new database): existing rows are not moved, and
-- the purge deletes them row by row as before.
CREATE TABLE partitions (
    kind  TEXT NOT NULL CHECK (kind IN ('messages', 'inbound')),
    name  TEXT NOT NULL, -- the tables' suffix
    lo    INTEGER NOT NULL, -- microseconds since the epoch, inclusive
    hi    INTEGER NOT NULL, -- exclusive
    state TEXT NOT NULL CHECK (state IN ('live', 'detached')),
    PRIMARY KEY (kind, name)
) STRICT;

INSERT INTO partitions (kind, name, lo, hi, state)
    SELECT 'messages', 'p0', 0, coalesce(max(created_at) + 1, 0), 'live' FROM messages;
INSERT INTO partitions (kind, name, lo, hi, state)
    SELECT 'inbound', 'p0', 0, coalesce(max(recorded_at) + 1, 0), 'live' FROM inbound_messages;

ALTER TABLE messages RENAME TO messages_p0;
ALTER TABLE message_events RENAME TO message_events_p0;
ALTER TABLE inbound_messages RENAME TO inbound_messages_p0;

CREATE VIEW messages AS SELECT 'p0' AS part, id, tenant_id, contact_id, kind, inbound_id, purpose, channel, sender,
    recipient_kind, recipient_index, status, reason, basis, consent_event_id, body_hash, body_len, sealed, wrapped_key,
    idempotency_key, request_hash, attempts, due_at, lease_owner, provider_ref, last_error, created_at, updated_at
    FROM messages_p0;
CREATE VIEW message_events AS SELECT 'p0' AS part, seq, tenant_id, message_id, status, detail, at FROM message_events_p0;
CREATE VIEW inbound_messages AS SELECT 'p0' AS part, tenant_id, channel, provider_id, id, sender_id, contact_id,
    from_index, text_hash, text_len, keyword, action, scope, language, outcome, received_at, recorded_at
    FROM inbound_messages_p0;
