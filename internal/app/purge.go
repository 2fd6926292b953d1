package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/consentgate/consentgate/internal/periodic"
	"github.com/consentgate/consentgate/internal/service"
)

// purgeEvery is how often the retention purge runs in a server. Retention
// periods are counted in days, so an hour is precise enough, and a pass
// over nothing due costs a few count queries.
const purgeEvery = time.Hour

// newPurger runs the retention purge on a schedule, the first pass a minute
// after start so that start-up is not slowed. Each pass works in short
// batches sized by time (service.Purge), so the send path never waits long
// for the writer; on several nodes every node runs it, which is harmless:
// a batch purges what is due, and a second node finds less to do.
func newPurger(svc *service.Service, log *slog.Logger) *periodic.Runner {
	return &periodic.Runner{First: time.Minute, Every: purgeEvery, Job: func(ctx context.Context) {
		if _, err := svc.Purge(ctx, service.PurgeOptions{}); err != nil && ctx.Err() == nil {
			log.Error("retention purge", "err", err)
		}
	}}
}
