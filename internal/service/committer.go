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
	ctx     context.Context
	fn      func(store.Tx) error
	after   func()
	relaxed bool // records a read: see store.Store's WriteRelaxed
	// msg, when set, is the one row fn creates (writeMessage): the batch's
	// messages are created together (store.Tx CreateMessages).
	msg  *store.Message
	done chan error
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
	return c.enqueue(&pending{ctx: ctx, fn: fn, after: after, done: make(chan error, 1)})
}

// doRead is do for a unit that records a read and changes nothing else (an
// audit event of a masked read, a listing, a refusal). It is committed
// before the caller is answered, but without waiting for the disk
// (store.Store's WriteRelaxed), so that auditing a read costs it a commit,
// not an fsync.
func (c *committer) doRead(ctx context.Context, fn func(store.Tx) error) error {
	return c.enqueue(&pending{ctx: ctx, fn: fn, relaxed: true, done: make(chan error, 1)})
}

// doMessage creates a message row as do(writeMessage) would, together with
// the other messages of the batch (one statement on PostgreSQL, where a
// unit of its own costs a round trip and the committer runs its units one
// after the other).
func (c *committer) doMessage(ctx context.Context, m *store.Message) error {
	fn := func(tx store.Tx) error { return writeMessage(ctx, tx, m) }
	return c.enqueue(&pending{ctx: ctx, fn: fn, msg: m, done: make(chan error, 1)})
}

func (c *committer) enqueue(p *pending) error {
	ctx := p.ctx
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
		c.runBatch(batch)
	}
}

// runBatch commits the relaxed units of a batch apart from the durable ones,
// first, so that a read's audit event never waits for another request's
// fsync.
func (c *committer) runBatch(batch []*pending) {
	var relaxed, durable []*pending
	for _, p := range batch {
		if p.relaxed {
			relaxed = append(relaxed, p)
		} else {
			durable = append(durable, p)
		}
	}
	if len(relaxed) > 0 {
		c.run(relaxed, c.st.WriteRelaxed)
	}
	if len(durable) > 0 {
		c.run(durable, c.st.Write)
	}
}

func (c *committer) run(batch []*pending, write func(context.Context, func(store.Tx) error) error) {
	results := make([]error, len(batch))
	err := write(context.Background(), func(tx store.Tx) error {
		var msgs []int // positions of the messages created together
		for i, p := range batch {
			if err := p.ctx.Err(); err != nil {
				results[i] = err
				continue
			}
			if p.msg != nil {
				msgs = append(msgs, i)
				continue
			}
			results[i] = tx.Unit(p.ctx, p.fn)
		}
		if len(msgs) > 0 {
			ms := make([]*store.Message, len(msgs))
			for j, i := range msgs {
				ms[j] = batch[i].msg
			}
			for j, err := range writeMessages(context.Background(), tx, ms) {
				results[msgs[j]] = err
			}
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
