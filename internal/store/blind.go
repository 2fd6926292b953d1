package store

import "context"

// BlindTable names a table whose rows hold values keyed with a tenant's
// index key: blind indexes of identifiers and keyed hashes of texts and
// requests. Rotating the index key rewrites every such value, table by
// table (see the service's RotateIndexKey).
type BlindTable string

// The tables with index-keyed columns, and the columns each rewrite covers.
const (
	BlindIdentifiers  BlindTable = "contact_identifiers" // blind_index
	BlindSuppressions BlindTable = "suppressions"        // blind_index
	BlindUsers        BlindTable = "users"               // email_index
	BlindMessages     BlindTable = "messages"            // recipient_index, body_hash, request_hash
	BlindInbound      BlindTable = "inbound_messages"    // from_index, text_hash
)

// BlindTables lists every table a rotation of the index key rewrites, in
// the order it does. Identifiers come first: an erasure copies a
// contact's stored forms to the suppression list, and a send to a contact
// copies one to its message, so once the identifiers are rewritten no
// later copy can bring back the old version into a table not yet done.
var BlindTables = []BlindTable{BlindIdentifiers, BlindSuppressions, BlindUsers, BlindMessages, BlindInbound}

// ForwardFunc maps a stored index-keyed value to its form under the newest
// index key. It reports whether the value changed; a value already in that
// form comes back unchanged. An empty or NULL value is never passed.
type ForwardFunc func(stored []byte) (next []byte, changed bool, err error)

// BlindStore is what a rotation of the index key needs from the store. It
// is embedded in Tx.
type BlindStore interface {
	// ForwardBlindForms visits up to limit rows of one table of one tenant
	// after the cursor after ("" starts at the beginning) in a fixed order,
	// passes each index-keyed column of each row to fwd and writes back the
	// values that changed. It returns the cursor to continue from ("" when
	// the table is done) and how many rows it rewrote. A row may be visited
	// twice (its new value can sort after the cursor); fwd then reports no
	// change. A suppression whose new form is already on the list is
	// deleted instead: it is the same suppression.
	ForwardBlindForms(ctx context.Context, tenantID string, table BlindTable, after string, limit int, fwd ForwardFunc) (next string, rewritten int, err error)
	// LockBlindIndex serialises, until the transaction ends, the
	// transactions that insert the same identifier of a tenant while an
	// index key rotation runs, when two stored forms of one identifier can
	// exist and the unique index no longer sees a duplicate. key is any
	// value every process derives alike from the identifier. SQLite's
	// writes are serial already, so there it does nothing.
	LockBlindIndex(ctx context.Context, tenantID string, key []byte) error
}
