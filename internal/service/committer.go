package service

import (
	"context"
	"log/slog"
	"sync"

	"github.com/consentgate/consentgate/internal/store"
)

// committer is group commit: concurrent writes are queued and run together
// in one transaction, each in its own savepoint, so that one fsync serves
// many requests. A write that fails is undone alone; the others commit. Each
// write's after-commit hook runs before its caller is answered, so the
// in-memory index is current when the response leaves.
type committer struct {
	st       store.Store
	maxBatch int
	log      *slog.Logger
	queue    chan *pending
	wg       sync.WaitGroup
	mu       sync.RWMutex
	closed   bool
}

type pending struct {
	ctx   context.Context
	fn    func(store.Tx) error
	after func()
	done  chan error
}

func newCommitter(st store.Store, maxBatch int, log *slog.Logger) *committer {
	if maxBatch <= 0 {
		maxBatch = 256
	}
	c := &committer{st: st, maxBatch: maxBatch, log: log, queue: make(chan *pending, 4*maxBatch)}
	c.wg.Add(1)
	go c.loop()
	return c
}

// do runs fn in a transaction shared with other writers and, once that
// transaction has committed, runs after (may be nil).
func (c *committer) do(ctx context.Context, fn func(store.Tx) error, after func()) error {
	p := &pending{ctx: ctx, fn: fn, after: after, done: make(chan error, 1)}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return store.ErrUnavailable
	}
	select {
	case c.queue <- p:
	case <-ctx.Done():
		c.mu.RUnlock()
		return ctx.Err()
	}
	c.mu.RUnlock()
	// Once queued, the caller waits for the outcome even when its context
	// ends, so that the answer it gives always matches what was stored.
	return <-p.done
}

func (c *committer) close() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.queue)
	}
	c.mu.Unlock()
	c.wg.Wait()
}

func (c *committer) loop() {
	defer c.wg.Done()
	batch := make([]*pending, 0, c.maxBatch)
	for p := range c.queue {
		batch = append(batch[:0], p)
	fill:
		for len(batch) < c.maxBatch {
			select {
			case q, ok := <-c.queue:
				if !ok {
					break fill
				}
				batch = append(batch, q)
			default:
				break fill
			}
		}
		c.run(batch)
	}
}

func (c *committer) run(batch []*pending) {
	results := make([]error, len(batch))
	err := c.st.Write(context.Background(), func(tx store.Tx) error {
		for i, p := range batch {
			if err := p.ctx.Err(); err != nil {
				results[i] = err
				continue
			}
			results[i] = tx.Unit(p.ctx, p.fn)
		}
		return nil
	})
	for i, p := range batch {
		r := results[i]
		if err != nil {
			r = err // the commit failed: nothing of this batch was stored
		}
		if r == nil && p.after != nil {
			p.after()
		}
		p.done <- r
	}
	if err != nil {
		c.log.Error("group commit failed", "writes", len(batch), "err", err)
	}
}
