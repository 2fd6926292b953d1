package outbox

import (
	"context"
	"time"

	"github.com/consentgate/consentgate/internal/store"
)

// markLoop records outcomes in batches: one transaction (one fsync) for as
// many outcomes as have arrived, which is what lets the dispatcher keep up
// with thousands of messages a second on SQLite.
func (d *Dispatcher) markLoop() {
	defer d.markWG.Done()
	batch := make([]outcome, 0, d.cfg.Batch)
	for o := range d.outcomes {
		batch = append(batch[:0], o)
	fill:
		for len(batch) < cap(batch) {
			select {
			case o, ok := <-d.outcomes:
				if !ok {
					break fill
				}
				batch = append(batch, o)
			default:
				break fill
			}
		}
		d.mark(batch)
	}
}

// mark writes one batch of outcomes. The sends it records have happened, so
// it insists: it retries a failing store for up to a lease. If the store
// stays away, the leases run out, the messages are claimed again and sent
// again under the same idempotency key.
func (d *Dispatcher) mark(batch []outcome) {
	delay := 50 * time.Millisecond
	deadline := time.Now().Add(d.cfg.Lease)
	for {
		err := d.cfg.Store.Write(context.Background(), func(tx store.Tx) error {
			return d.write(tx, batch)
		})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			d.log.Error("outbox: outcomes not recorded; the messages will be retried when their leases end",
				"messages", len(batch), "err", err)
			break
		}
		d.log.Warn("outbox: recording outcomes failed; retrying", "messages", len(batch), "err", err)
		time.Sleep(delay)
		delay = min(2*delay, 2*time.Second)
	}
	for _, o := range batch {
		if !o.release {
			d.metrics.outcome(o.upd.Status, o.m.Channel)
		}
	}
	d.inflight.Add(-int64(len(batch)))
	if len(batch) > 0 {
		d.Kick() // room for more
	}
}

// write records a batch of outcomes in tx: all updates and their events at
// once (MarkMessages: one statement on PostgreSQL), then the status
// forwards of those that applied, then the releases.
func (d *Dispatcher) write(tx store.Tx, batch []outcome) error {
	ctx := context.Background()
	var outs []store.MessageOutcome
	var marked []int // positions in batch of outs
	var release []string
	for i := range batch {
		o := &batch[i]
		if o.release {
			release = append(release, o.m.ID)
			continue
		}
		outs = append(outs, store.MessageOutcome{Update: &o.upd, Detail: o.detail})
		marked = append(marked, i)
	}
	if len(outs) > 0 {
		seqs, err := tx.MarkMessages(ctx, outs)
		if err != nil {
			return err
		}
		for j, i := range marked {
			o := &batch[i]
			if seqs[j] == 0 {
				// Another dispatcher holds the message now (this lease ran
				// out); its outcome wins.
				d.log.Warn("outbox: lease lost before the outcome was recorded", "tenant", o.m.TenantID, "message", o.m.ID)
				continue
			}
			ev := &store.MessageEvent{Seq: seqs[j], TenantID: o.m.TenantID, MessageID: o.m.ID, Status: o.upd.Status,
				Detail: o.detail, At: o.upd.At}
			if err := d.cfg.Service.ForwardStatus(ctx, tx, o.m, ev, o.upd.ProviderRef); err != nil {
				return err
			}
		}
	}
	if len(release) > 0 {
		return tx.ReleaseMessages(ctx, d.cfg.Owner, release, d.cfg.Now())
	}
	return nil
}
