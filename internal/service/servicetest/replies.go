// Package servicetest holds the fakes that tests of the service's callers
// share, each with a compile-time check that it still fits the interface it
// stands in for.
package servicetest

import (
	"context"
	"sync"

	"github.com/consentgate/consentgate/internal/service"
	"github.com/consentgate/consentgate/internal/store"
)

// Replies is a service.ReplyQueue that records what it is given.
type Replies struct {
	mu   sync.Mutex
	got  []service.Reply
	fail error
}

// FailWith makes QueueReply return err (nil: succeed again), to show that
// a reply that cannot be queued never undoes the consent change it confirms.
func (q *Replies) FailWith(err error) {
	q.mu.Lock()
	q.fail = err
	q.mu.Unlock()
}

var _ service.ReplyQueue = (*Replies)(nil)

// QueueReply implements service.ReplyQueue.
func (q *Replies) QueueReply(_ context.Context, _ store.Tx, r service.Reply) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail != nil {
		return q.fail
	}
	q.got = append(q.got, r)
	return nil
}

// All returns a copy of the replies queued so far, oldest first.
func (q *Replies) All() []service.Reply {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]service.Reply(nil), q.got...)
}

// Last returns the newest reply, or the zero Reply.
func (q *Replies) Last() service.Reply {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.got) == 0 {
		return service.Reply{}
	}
	return q.got[len(q.got)-1]
}
