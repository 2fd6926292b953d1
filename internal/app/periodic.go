package app

import (
	"context"
	"sync"
	"time"
)

// periodic runs a job in a goroutine of its own: first after a delay, then
// at a fixed interval, until stopped. The job gets a context that stop
// cancels, so a pass in progress ends early.
type periodic struct {
	first, every time.Duration
	job          func(ctx context.Context)
	cancel       context.CancelFunc
	wg           sync.WaitGroup
}

func (p *periodic) start() {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTimer(p.first)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			p.job(ctx)
			t.Reset(p.every)
		}
	}()
}

// stop ends the schedule and waits for a pass in progress.
func (p *periodic) stop() {
	if p.cancel != nil {
		p.cancel()
	}
	p.wg.Wait()
}
