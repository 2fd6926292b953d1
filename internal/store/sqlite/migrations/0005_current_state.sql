-- The decision index is rebuilt from consent_current at every start. Keeping
-- the state itself in the projection (not only a pointer to the event) lets
-- that rebuild read one table without a join: 2,000,000 states load in a
-- fraction of the time.
ALTER TABLE consent_current ADD COLUMN event_id TEXT NOT NULL DEFAULT '';
ALTER TABLE consent_current ADD COLUMN status TEXT NOT NULL DEFAULT '';
ALTER TABLE consent_current ADD COLUMN confirmed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE consent_current ADD COLUMN expires_at INTEGER NOT NULL DEFAULT 0;

UPDATE consent_current SET
    event_id   = (SELECT e.id FROM consent_events e WHERE e.seq = consent_current.event_seq),
    status     = (SELECT e.status FROM consent_events e WHERE e.seq = consent_current.event_seq),
    confirmed  = (SELECT e.confirmed FROM consent_events e WHERE e.seq = consent_current.event_seq),
    expires_at = (SELECT e.expires_at FROM consent_events e WHERE e.seq = consent_current.event_seq);
