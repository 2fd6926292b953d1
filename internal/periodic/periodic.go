// Package periodic runs a background job on a schedule: the retention
// purge, the session sweep, audit chaining and inbound forwarding.
package periodic

import (
	"context"
	"sync"
	"time"
)

// Runner runs Job in a goroutine of its own: first after First, then Every
// after each pass ends (so passes never pile up), until stopped. The job
// gets a context that Stop cancels, so a pass in progress ends early.
type Runner struct {
	First, Every time.Duration
	Job          func(ctx context.Context)
	cancel       context.CancelFunc
	wg           sync.WaitGroup
}

// Start starts the schedule.
func (p *Runner) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTimer(p.First)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			p.Job(ctx)
			t.Reset(p.Every)
		}
	}()
}

// Stop ends the schedule and waits for a pass in progress. It may be
// called on a nil Runner, and more than once.
func (p *Runner) Stop() {
	if p == nil {
		return
	}
	if p.cancel != nil {
		p.cancel()
	}
	p.wg.Wait()
}
