-- Sign-in sessions of web UI users (docs/access.md). Only the SHA-256 of
-- the token is kept. role is the user's role at sign-in: a session whose
-- user has another role now is void. A session ends at expires_at, or
-- earlier when it is not used for the idle timeout (counted from
-- last_seen_at); the sweep deletes both kinds.
CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role         TEXT NOT NULL,
    token_hash   BLOB NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_user ON sessions(tenant_id, user_id);
CREATE INDEX sessions_expires ON sessions(expires_at);
CREATE INDEX sessions_last_seen ON sessions(last_seen_at);
