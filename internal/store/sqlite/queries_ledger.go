package sqlite

// The ledger's statements, in one place for review.
const (
	qLedgerSize         = `SELECT COALESCE(MAX(idx) + 1, 0) FROM ledger_leaves`
	qLedgerInsertLeaf   = `INSERT INTO ledger_leaves (idx, event_id, data) VALUES (?, ?, ?)`
	qLedgerInsertHash   = `INSERT INTO ledger_hashes (idx, hash) VALUES (?, ?)`
	qLedgerReadLeaves   = `SELECT data FROM ledger_leaves WHERE idx >= ? ORDER BY idx LIMIT ?`
	qLedgerCountCps     = `SELECT count(*) FROM ledger_checkpoints`
	qLedgerInsertCp     = `INSERT INTO ledger_checkpoints (seq, size, note) VALUES (?, ?, ?)`
	qLedgerReadCps      = `SELECT seq, size, note FROM ledger_checkpoints WHERE seq >= ? ORDER BY seq LIMIT ?`
	qLedgerLatestCp     = `SELECT seq, size, note FROM ledger_checkpoints ORDER BY seq DESC LIMIT 1`
	qLedgerIndexOfEvent = `SELECT idx FROM ledger_leaves WHERE event_id = ?`
	qLedgerGetKey       = `SELECT vkey, skey_sealed FROM ledger_keys WHERE name = ?`
	qLedgerCreateKey    = `INSERT INTO ledger_keys (name, vkey, skey_sealed, created_at) VALUES (?, ?, ?, ?)`
	qLedgerUnsequenced  = `SELECT ` + eventCols + ` FROM consent_events e WHERE e.seq > ?
		AND NOT EXISTS (SELECT 1 FROM ledger_leaves l WHERE l.event_id = e.id) ORDER BY e.seq LIMIT ?`
	qLedgerFirstCovering = `SELECT seq, size, note FROM ledger_checkpoints WHERE size > ? ORDER BY seq LIMIT 1`
)
