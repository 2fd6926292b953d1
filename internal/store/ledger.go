package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/consentgate/consentgate/internal/ledger"
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

// LedgerErr maps the store's sentinels onto the ledger's, which the
// ledger's Log reacts to (it retries on ErrConflict); both backends'
// ledger.Storage implementations return their errors through it.
func LedgerErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound):
		return fmt.Errorf("%w: %v", ledger.ErrNotFound, err)
	case errors.Is(err, ErrConflict):
		return fmt.Errorf("%w: %v", ledger.ErrConflict, err)
	}
	return err
}
