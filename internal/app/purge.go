package app

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/consentgate/consentgate/internal/service"
)

// purgeEvery is how often the retention purge runs in a server. Retention
// periods are counted in days, so an hour is precise enough, and a pass
// over nothing due costs a few count queries.
const purgeEvery = time.Hour

// purger runs the retention purge on a schedule. Each pass works in small
// batches with pauses (service.Purge), so the send path never waits long
// for the writer; on several nodes every node runs it, which is harmless:
// a batch purges what is due, and a second node finds less to do.
type purger struct {
	svc    *service.Service
	every  time.Duration
	log    *slog.Logger
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newPurger(svc *service.Service, every time.Duration, log *slog.Logger) *purger {
	if every <= 0 {
		every = purgeEvery
	}
	return &purger{svc: svc, every: every, log: log}
}

func (p *purger) start() {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		// The first pass waits a little, so that start-up is not slowed.
		t := time.NewTimer(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if _, err := p.svc.Purge(ctx, service.PurgeOptions{}); err != nil && ctx.Err() == nil {
				p.log.Error("retention purge", "err", err)
			}
			t.Reset(p.every)
		}
	}()
}

// stop ends the schedule; a pass in progress stops after its current batch.
func (p *purger) stop() {
	if p.cancel != nil {
		p.cancel()
	}
	p.wg.Wait()
}
