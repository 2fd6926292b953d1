package service

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/consentgate/consentgate/internal/audit"
	"github.com/consentgate/consentgate/internal/periodic"
	"github.com/consentgate/consentgate/internal/store"
)

// The audit chain is computed after commit, by a chainer, in store order:
// requests only insert their event (cheap, no shared "previous hash" to
// contend on), and the chainer links the events that committed since its
// last pass. Every node runs one; the chain head is moved by
// compare-and-set, so when two nodes race, one wins, the other's
// transaction rolls back, and the chain never forks.

// chainBatch bounds one chaining transaction, so that the single SQLite
// writer is never held for long.
const chainBatch = 500

type chainer struct {
	s      *Service
	mu     sync.Mutex // one pass at a time on this node
	runner *periodic.Runner
}

func startChainer(s *Service, every time.Duration) *chainer {
	c := &chainer{s: s}
	// Published before the goroutine starts: ChainAudit reads s.chainer.
	s.chainer = c
	if every < 0 {
		return c
	}
	if every == 0 {
		every = 500 * time.Millisecond
	}
	c.runner = &periodic.Runner{First: every, Every: every, Job: func(ctx context.Context) {
		if _, err := s.ChainAudit(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("audit chaining", "err", err)
		}
	}}
	c.runner.Start()
	return c
}

// stop ends the loop and chains once more, so that the events of the last
// writes are linked before the store closes.
func (c *chainer) stop() {
	if c.runner == nil {
		return
	}
	c.runner.Stop()
	c.runner = nil
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.s.ChainAudit(ctx); err != nil {
		c.s.log.Warn("audit chaining at shutdown", "err", err)
	}
}

// ChainAudit links every committed audit event that is not chained yet and
// returns how many it linked. A pass that loses the race to another node
// ends without error: the other node has linked those events.
func (s *Service) ChainAudit(ctx context.Context) (int, error) {
	s.chainer.mu.Lock()
	defer s.chainer.mu.Unlock()
	total := 0
	for {
		n := 0
		err := s.store.Write(ctx, func(tx store.Tx) error {
			head, err := tx.AuditHead(ctx)
			if err != nil {
				return err
			}
			evs, err := tx.UnchainedAudit(ctx, chainBatch)
			if err != nil || len(evs) == 0 {
				return err
			}
			from, prev, pos := head.Pos, head.Hash, head.Pos
			for _, e := range evs {
				pos++
				h := audit.Hash(prev, pos, e)
				if err := tx.ChainAudit(ctx, e.Seq, pos, h); err != nil {
					return err
				}
				prev = h
			}
			n = len(evs)
			return tx.AdvanceAuditHead(ctx, from, audit.Head{Pos: pos, Hash: prev})
		})
		if errors.Is(err, store.ErrConflict) {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		total += n
		if n < chainBatch {
			return total, nil
		}
	}
}

// AuditReport is the outcome of verifying the audit chain.
type AuditReport struct {
	Chained   int64  // events verified
	Unchained int64  // events committed but not linked yet
	Head      int64  // the stored head position
	Root      string // hash of the last event, hex: keep it outside the database
}

// VerifyAuditChain recomputes the whole audit chain of st from its first
// event and returns the first break as an *audit.Break. It reads the head
// first and the events up to it after, page by page, so that it can run
// beside a live server: events chained meanwhile lie beyond the head read.
func VerifyAuditChain(ctx context.Context, st store.Store) (AuditReport, error) {
	var rep AuditReport
	var head audit.Head
	if err := st.Read(ctx, func(tx store.Tx) (err error) {
		head, err = tx.AuditHead(ctx)
		return err
	}); err != nil {
		return rep, err
	}
	rep.Head = head.Pos
	v := audit.NewVerifier()
	after := int64(0)
	for after < head.Pos {
		var evs []*audit.Event
		if err := st.Read(ctx, func(tx store.Tx) (err error) {
			evs, err = tx.ChainedAudit(ctx, after, 5000)
			return err
		}); err != nil {
			return rep, err
		}
		if len(evs) == 0 {
			break
		}
		for _, e := range evs {
			if e.ChainPos > head.Pos {
				break
			}
			if err := v.Add(e); err != nil {
				return rep, err
			}
			after = e.ChainPos
		}
		if evs[len(evs)-1].ChainPos > head.Pos {
			break
		}
	}
	n, err := v.Finish(head)
	rep.Chained, rep.Root = n, v.Root()
	if err != nil {
		return rep, err
	}
	// Events chained beyond the head are fine only when a chainer linked
	// them after the head was read: then the head has moved past them.
	err = st.Read(ctx, func(tx store.Tx) error {
		beyond, err := tx.ChainedAudit(ctx, head.Pos, 1)
		if err != nil || len(beyond) == 0 {
			return err
		}
		now, err := tx.AuditHead(ctx)
		if err != nil {
			return err
		}
		if now.Pos < beyond[0].ChainPos {
			e := beyond[0]
			return &audit.Break{Pos: e.ChainPos, Seq: e.Seq, ID: e.ID,
				Reason: fmt.Sprintf("the event lies beyond the head (position %d): the head was rolled back", now.Pos)}
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	err = st.Read(ctx, func(tx store.Tx) (err error) {
		rep.Unchained, err = tx.CountUnchainedAudit(ctx)
		return err
	})
	return rep, err
}
