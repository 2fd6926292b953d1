-- The consent ledger (internal/ledger), as SQLite's 0002: leaves, the Merkle
-- tree's stored hashes addressed by tlog's stored-hash index, signed
-- checkpoints, and the log's signing key (sealed by the master key). Leaves
-- hold no plaintext personal data; they are never updated or deleted. The
-- primary keys are what make concurrent appends by several nodes safe: the
-- second writer of an index fails on the key, and the ledger retries.

CREATE TABLE ledger_leaves (
    idx      BIGINT PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    data     BYTEA NOT NULL
);

CREATE TABLE ledger_hashes (
    idx  BIGINT PRIMARY KEY,
    hash BYTEA NOT NULL
);

CREATE TABLE ledger_checkpoints (
    seq  BIGINT PRIMARY KEY,
    size BIGINT NOT NULL,
    note BYTEA NOT NULL
);

CREATE TABLE ledger_keys (
    name        TEXT PRIMARY KEY,
    vkey        TEXT NOT NULL,
    skey_sealed BYTEA NOT NULL,
    created_at  BIGINT NOT NULL
);
