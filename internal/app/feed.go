package app

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/consentgate/consentgate/internal/index"
	"github.com/consentgate/consentgate/internal/store"
)

// feed keeps the decision index current with consent events written by
// other processes on the same database (operator commands today, other
// nodes later). Events written by this process are applied at commit
// already; applying them again here is harmless because the index only moves
// a state forward.
type feed struct {
	st     store.Store
	ix     *index.Index
	cursor int64
	log    *slog.Logger
	every  time.Duration
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newFeed(st store.Store, ix *index.Index, cursor int64, log *slog.Logger) *feed {
	return &feed{st: st, ix: ix, cursor: cursor, log: log, every: 500 * time.Millisecond}
}

func (f *feed) start() {
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		t := time.NewTicker(f.every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := f.poll(ctx); err != nil && ctx.Err() == nil {
					f.log.Warn("consent change feed", "err", err)
				}
			}
		}
	}()
}

func (f *feed) poll(ctx context.Context) error {
	for {
		var evs []*store.ConsentEvent
		if err := f.st.Read(ctx, func(tx store.Tx) (err error) {
			evs, err = tx.ConsentEventsAfter(ctx, f.cursor, 1000)
			return err
		}); err != nil {
			return err
		}
		for _, e := range evs {
			if err := f.ix.ApplyEvent(e); err != nil {
				f.log.Warn("consent change feed: event skipped", "event", e.ID, "err", err)
			}
			f.cursor = e.Seq
		}
		if len(evs) < 1000 {
			return nil
		}
	}
}

func (f *feed) stop() {
	if f.cancel != nil {
		f.cancel()
		f.wg.Wait()
	}
}
