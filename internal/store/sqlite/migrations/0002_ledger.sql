-- The consent ledger (internal/ledger): leaves, the Merkle tree's stored
-- hashes addressed by tlog's stored-hash index, signed checkpoints, and the
-- log's signing key (sealed by the master key). Leaves hold no plaintext
-- personal data; they are never updated or deleted.

CREATE TABLE ledger_leaves (
    idx      INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    data     BLOB NOT NULL
) STRICT;

CREATE TABLE ledger_hashes (
    idx  INTEGER PRIMARY KEY,
    hash BLOB NOT NULL
) STRICT;

CREATE TABLE ledger_checkpoints (
    seq  INTEGER PRIMARY KEY,
    size INTEGER NOT NULL,
    note BLOB NOT NULL
) STRICT;

CREATE TABLE ledger_keys (
    name        TEXT PRIMARY KEY,
    vkey        TEXT NOT NULL,
    skey_sealed BLOB NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;
