package channel

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/consentgate/consentgate/internal/consent"
)

// Sink accepts every message and sends nothing. It keeps the ids it saw
// (never addresses or text) so that tests and the demo can show what would
// have gone out, and it is idempotent like a good provider: a message id it
// has seen is accepted again without counting twice.
type Sink struct {
	onSend func(*Message)
	mu     sync.Mutex
	seen   map[string]int // message id → times handed over
	unique atomic.Int64
	total  atomic.Int64
}

var _ Sender = (*Sink)(nil)

// NewSink returns a sink; onSend (may be nil) sees each message handed
// over, for tests and logging by id.
func NewSink(onSend func(*Message)) *Sink {
	return &Sink{onSend: onSend, seen: make(map[string]int)}
}

// Send implements Sender.
func (s *Sink) Send(ctx context.Context, m *Message) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, Temporary("canceled", err)
	}
	s.mu.Lock()
	s.seen[m.ID]++
	first := s.seen[m.ID] == 1
	s.mu.Unlock()
	s.total.Add(1)
	if first {
		s.unique.Add(1)
	}
	if s.onSend != nil {
		s.onSend(m)
	}
	return Result{ProviderRef: "sink-" + m.ID}, nil
}

// Capabilities implements Sender: the sink takes every channel.
func (s *Sink) Capabilities() Capabilities {
	return Capabilities{Channels: append([]consent.Channel(nil), consent.Channels...), Idempotent: true}
}

// Close implements Sender.
func (s *Sink) Close() error { return nil }

// Count returns how many distinct messages and how many hand-overs the sink
// has seen; they differ only when a message was handed over twice.
func (s *Sink) Count() (unique, total int64) { return s.unique.Load(), s.total.Load() }

// Times returns how often the message id was handed over.
func (s *Sink) Times(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[id]
}
