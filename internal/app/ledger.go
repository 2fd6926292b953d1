package app

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/consentgate/consentgate/internal/service"
)

// sequencer appends committed consent events to the ledger a moment after
// they commit (so consent writes never wait for the Merkle tree) and signs a
// checkpoint on a schedule when the tree has grown. Receipts asked for
// before it gets there are sequenced and checkpointed on demand.
type sequencer struct {
	svc        *service.Service
	every      time.Duration
	checkpoint time.Duration
	log        *slog.Logger
	cancel     context.CancelFunc
	wg         sync.WaitGroup
}

func newSequencer(svc *service.Service, checkpoint time.Duration, log *slog.Logger) *sequencer {
	return &sequencer{svc: svc, every: 200 * time.Millisecond, checkpoint: checkpoint, log: log}
}

func (q *sequencer) start() {
	ctx, cancel := context.WithCancel(context.Background())
	q.cancel = cancel
	q.wg.Add(1)
	go func() {
		defer q.wg.Done()
		seq := time.NewTicker(q.every)
		defer seq.Stop()
		cp := time.NewTicker(q.checkpoint)
		defer cp.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-seq.C:
				if _, err := q.svc.SequenceLedger(ctx); err != nil && ctx.Err() == nil {
					q.log.Warn("ledger sequencing", "err", err)
				}
			case <-cp.C:
				if _, err := q.svc.CheckpointLedger(ctx); err != nil && ctx.Err() == nil {
					q.log.Warn("ledger checkpoint", "err", err)
				}
			}
		}
	}()
}

// stop ends the loop, then sequences and checkpoints once more so that
// every consent event committed before shutdown is in a signed tree.
func (q *sequencer) stop() {
	if q.cancel == nil {
		return
	}
	q.cancel()
	q.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := q.svc.SequenceLedger(ctx); err != nil {
		q.log.Warn("ledger sequencing at shutdown", "err", err)
	}
	if _, err := q.svc.CheckpointLedger(ctx); err != nil {
		q.log.Warn("ledger checkpoint at shutdown", "err", err)
	}
}
