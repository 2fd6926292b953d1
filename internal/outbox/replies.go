package outbox

import (
	"context"

	"github.com/consentgate/consentgate/internal/service"
	"github.com/consentgate/consentgate/internal/store"
)

var _ service.ReplyQueue = (*Dispatcher)(nil)

// QueueReply implements service.ReplyQueue: it writes the reply's outbox row
// in the caller's transaction, so the reply exists exactly when the consent
// change it confirms does. A second reply of the same kind to the same
// inbound message (a provider's webhook retry) is dropped, not an error.
// The reply still goes through the channel adapters, but not through the
// consent gate: it confirms the opt-out that would otherwise stop it.
func (d *Dispatcher) QueueReply(ctx context.Context, tx store.Tx, r service.Reply) error {
	m, err := d.cfg.Service.ReplyMessage(ctx, tx, r)
	if err != nil {
		return err
	}
	created, err := tx.CreateReply(ctx, m)
	if err != nil || !created {
		return err
	}
	// The caller commits after this returns; a claim that runs first finds
	// nothing and the next poll picks the reply up.
	d.Kick()
	return nil
}
