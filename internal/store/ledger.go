package store

import (
	"context"
	"time"
)

// LedgerTx is what the ledger's sequencer and receipts need from a
// transaction; the Merkle tree's own storage is ledger.Storage, which each
// backend provides beside its Store.
type LedgerTx interface {
	// UnsequencedEvents returns up to limit consent events with Seq >
	// afterSeq that have no ledger leaf yet, in Seq order.
	UnsequencedEvents(ctx context.Context, afterSeq int64, limit int) ([]*ConsentEvent, error)
	// LedgerIndexOf returns the leaf index of a consent event, or
	// ErrNotFound while it is not sequenced.
	LedgerIndexOf(ctx context.Context, eventID string) (int64, error)
	// GetLedgerKey returns the log's verifier key and its sealed signer key.
	GetLedgerKey(ctx context.Context, name string) (vkey string, skeySealed []byte, err error)
	// CreateLedgerKey stores the log's key pair; ErrConflict when another
	// node created it first.
	CreateLedgerKey(ctx context.Context, name, vkey string, skeySealed []byte, at time.Time) error
}
