package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/vault"
)

// IndexRotateReport says what a rotation of the index key did.
type IndexRotateReport struct {
	TenantID    string         `json:"tenant_id"`
	FromVersion int            `json:"from_index_version"`
	ToVersion   int            `json:"to_index_version"`
	Resumed     bool           `json:"resumed"` // an interrupted rotation was finished
	Rewritten   map[string]int `json:"rows_rewritten"`
	Unreadable  int            `json:"unreadable"` // stored values that are no blind index (left as they are)
}

// RotateIndexKey replaces the key of the tenant's blind index while
// servers keep running. Every value keyed with it (identifiers'
// blind indexes, suppressions, users' addresses, messages' recipients and
// hashes, inbound senders and hashes) moves to the new version, computed
// from the stored value alone (vault/index_chain.go):
//
//  1. publish a keyring with the new key, looked up but not written;
//  2. wait until every server has it (Settle): all look values up in both
//     versions, and their decision indexes have moved to the new one;
//  3. publish the keyring writing the new version; wait again, so that no
//     server writes the old one any more;
//  4. rewrite every stored value of the old version, table by table, in
//     batches;
//  5. publish the keyring looking up the new version only.
//
// An interrupted rotation resumes where its keyring says it stood. Link
// MACs stay on the first key (docs/privacy.md says why).
func (s *Service) RotateIndexKey(ctx context.Context, tenantID string, opt RotateOptions) (IndexRotateReport, error) {
	if opt.Batch <= 0 {
		opt.Batch = 500
	}
	if opt.Settle == 0 {
		opt.Settle = 2*s.tenantKeyTTL() + time.Second
	}
	rep := IndexRotateReport{TenantID: tenantID, Rewritten: map[string]int{}}
	ring, wrapped, err := s.storedKeyring(ctx, tenantID)
	if err != nil {
		return rep, err
	}
	if len(ring.Retired) > 0 {
		return rep, apperr.New(apperr.Conflict, "a rotation of the data key is running: finish it first (keys rotate)")
	}
	rep.FromVersion = ring.IndexLow
	rep.Resumed = ring.IndexPhase() != vault.IndexSteady
	settle := func() error {
		select {
		case <-time.After(opt.Settle):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	publish := func(next vault.TenantKeys, step string) error {
		ring = next
		if wrapped, err = s.publishKeyring(ctx, tenantID, wrapped, ring, step); err != nil {
			return err
		}
		return settle()
	}
	switch ring.IndexPhase() {
	case vault.IndexSteady:
		next, err := ring.AnnounceIndex()
		if err != nil {
			return rep, err
		}
		if err := publish(next, "index_key.announce"); err != nil {
			return rep, err
		}
		fallthrough
	case vault.IndexAnnounced:
		if rep.Resumed {
			// The servers may not all have read the announced keyring
			// before the interruption.
			if err := settle(); err != nil {
				return rep, err
			}
		}
		if err := publish(ring.SwitchIndex(), "index_key.switch"); err != nil {
			return rep, err
		}
	case vault.IndexSwitched:
		if err := settle(); err != nil {
			return rep, err
		}
	}
	if err := s.rewriteIndexForms(ctx, tenantID, vault.NewIndexChain(ring), opt, &rep); err != nil {
		return rep, err
	}
	ring = ring.SettleIndex()
	if _, err := s.publishKeyring(ctx, tenantID, wrapped, ring, "index_key.settle"); err != nil {
		return rep, err
	}
	rep.ToVersion = ring.IndexLow
	s.log.InfoContext(ctx, "tenant index key rotated", "tenant", tenantID, "index_version", ring.IndexLow,
		"rewritten", rep.Rewritten, "unreadable", rep.Unreadable)
	return rep, nil
}

// rewriteIndexForms moves every stored value of the tenant to the version
// the chain writes, one write transaction per batch so that sends and
// decisions wait for one batch at most.
func (s *Service) rewriteIndexForms(ctx context.Context, tenantID string, chain *vault.IndexChain, opt RotateOptions, rep *IndexRotateReport) error {
	var unreadable int
	fwd := func(stored []byte) ([]byte, bool, error) {
		next, changed, err := chain.ForwardStored(stored)
		if errors.Is(err, vault.ErrUnreadable) {
			unreadable++
			return stored, false, nil
		}
		return next, changed, err
	}
	total := 0
	for _, table := range store.BlindTables {
		after := ""
		for {
			var n int
			var next string
			// The store may run the function again (a serialisation
			// failure on PostgreSQL): the cursor and the counts move on
			// only once a batch has committed.
			err := s.store.Write(ctx, func(tx store.Tx) (err error) {
				unreadable = 0
				next, n, err = tx.ForwardBlindForms(ctx, tenantID, table, after, opt.Batch, fwd)
				return err
			})
			if err != nil {
				return fmt.Errorf("rewriting %s: %w", table, err)
			}
			after = next
			rep.Unreadable += unreadable
			rep.Rewritten[string(table)] += n
			total += n
			if opt.Progress != nil {
				opt.Progress(total)
			}
			if after == "" {
				break
			}
		}
	}
	return nil
}
