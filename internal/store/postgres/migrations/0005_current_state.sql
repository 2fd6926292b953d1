-- The decision index is rebuilt from consent_current at every start. Keeping
-- the state itself in the projection (not only a pointer to the event) lets
-- that rebuild read one table without a join (as SQLite's 0005).
ALTER TABLE consent_current
    ADD COLUMN event_id   TEXT NOT NULL DEFAULT '',
    ADD COLUMN status     TEXT NOT NULL DEFAULT '',
    ADD COLUMN confirmed  BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN expires_at BIGINT NOT NULL DEFAULT 0;

UPDATE consent_current c SET event_id = e.id, status = e.status, confirmed = e.confirmed, expires_at = e.expires_at
    FROM consent_events e WHERE e.seq = c.event_seq;
