package outbox_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/channel"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/outbox"
	"github.com/consentgate/consentgate/internal/service"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/postgres/pgtest"
)

func TestDispatchSends(t *testing.T) {
	f := newFixture(t)
	var got []*channel.Message
	var mu sync.Mutex
	sink := channel.NewSink(func(m *channel.Message) {
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
	})
	d := f.dispatcher(sink, nil)
	d.Start()
	defer d.Stop(bg)
	ids := f.queue(3)
	c := f.waitIdle(5 * time.Second)
	if c[store.MessageSent] != 3 {
		t.Fatalf("counts = %v", c)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, m := range got {
		// The adapter gets the address and text, with the Danish opt-out
		// line for this Danish contact's marketing message.
		if m.To != "+4520123456" || m.From != "ACME" || !strings.HasSuffix(m.Body, "\nSvar STOP for at afmelde") {
			t.Errorf("handed over %+v", m)
		}
	}
	m := f.message(ids[0])
	if m.Sealed != nil || m.ProviderRef != "sink-"+ids[0] || m.Attempts != 1 {
		t.Errorf("sent message keeps %+v", m)
	}
	v, err := f.svc.GetMessage(bg, f.pr, ids[0])
	if err != nil || len(v.Timeline) != 2 || v.Timeline[1].Status != store.MessageSent {
		t.Errorf("timeline = %+v, %v", v.Timeline, err)
	}
}

// flaky fails its first fails sends per message with err.
type flaky struct {
	*channel.Sink
	err   error
	fails int
	mu    sync.Mutex
	tries map[string]int
}

func (p *flaky) Send(ctx context.Context, m *channel.Message) (channel.Result, error) {
	p.mu.Lock()
	p.tries[m.ID]++
	n := p.tries[m.ID]
	p.mu.Unlock()
	if n <= p.fails {
		return channel.Result{}, p.err
	}
	return p.Sink.Send(ctx, m)
}

func TestRetriesThenDeadLetter(t *testing.T) {
	for _, tc := range []struct {
		name     string
		err      error
		fails    int
		want     store.MessageStatus
		attempts int
		lastErr  string
	}{
		{"recovers after two failures", channel.Temporary("http_503", errors.New("down")), 2, store.MessageSent, 3, "http_503"},
		{"provider down: dead letter after the limit", channel.Temporary("connect", errors.New("refused")), 100, store.MessageDead, 4, "connect"},
		{"permanent failure: dead letter at once", channel.Permanent("http_400", errors.New("bad")), 100, store.MessageDead, 1, "http_400"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			p := &flaky{Sink: channel.NewSink(nil), err: tc.err, fails: tc.fails, tries: map[string]int{}}
			d := f.dispatcher(p, func(c *outbox.Config) { c.MaxAttempts = 4 })
			d.Start()
			defer d.Stop(bg)
			id := f.queue(1)[0]
			f.waitIdle(5 * time.Second)
			m := f.message(id)
			if m.Status != tc.want || m.Attempts != tc.attempts {
				t.Fatalf("status %s after %d attempts, want %s after %d", m.Status, m.Attempts, tc.want, tc.attempts)
			}
			if tc.want == store.MessageDead && (m.LastError != tc.lastErr || m.Sealed != nil) {
				t.Errorf("dead letter: last_error %q, sealed kept: %v", m.LastError, m.Sealed != nil)
			}
			v, _ := f.svc.GetMessage(bg, f.pr, id)
			if v.Status != tc.want || len(v.Timeline) != tc.attempts+1 {
				t.Errorf("API view: %s, timeline %+v", v.Status, v.Timeline)
			}
		})
	}
}

// slowSink takes a while per message, so that a stop lands mid-batch.
type slowSink struct {
	*channel.Sink
	delay time.Duration
}

func (s *slowSink) Send(ctx context.Context, m *channel.Message) (channel.Result, error) {
	time.Sleep(s.delay)
	return s.Sink.Send(ctx, m)
}

// TestRestartSendsNothingTwice stops a dispatcher in the middle of a batch
// and starts another: every message reaches the provider exactly once.
func TestRestartSendsNothingTwice(t *testing.T) {
	f := newFixture(t)
	ids := f.queue(600)
	sink := &slowSink{Sink: channel.NewSink(nil), delay: time.Millisecond}
	d1 := f.dispatcher(sink, func(c *outbox.Config) { c.Batch = 64 })
	d1.Start()
	for u, _ := sink.Count(); u < 100; u, _ = sink.Count() {
		time.Sleep(time.Millisecond)
	}
	if err := d1.Stop(bg); err != nil {
		t.Fatal(err)
	}
	first, _ := sink.Count()
	c := f.counts()
	if c[store.MessageSending] != 0 || c[store.MessageSent] != int(first) {
		t.Fatalf("after stop: %v, provider saw %d", c, first)
	}
	d2 := f.dispatcher(sink, nil)
	d2.Start()
	defer d2.Stop(bg)
	c = f.waitIdle(10 * time.Second)
	unique, total := sink.Count()
	if c[store.MessageSent] != len(ids) || unique != int64(len(ids)) || total != unique {
		t.Fatalf("sent %v; provider saw %d messages in %d hand-overs", c, unique, total)
	}
}

// crashSink forgets to come back: the dispatcher "dies" after the hand-over
// and before recording it.
type crashSink struct {
	*channel.Sink
	crash atomic.Bool
	hang  chan struct{}
}

func (s *crashSink) Send(ctx context.Context, m *channel.Message) (channel.Result, error) {
	s.Sink.Send(ctx, m)
	if s.crash.Load() {
		<-s.hang
		return channel.Result{}, errors.New("crashed")
	}
	return channel.Result{ProviderRef: "p-" + m.ID}, nil
}

// TestCrashAfterHandOver: a dispatcher dies after handing a message over and
// before recording it. When its lease runs out, another dispatcher sends the
// message again under the same id, which is the provider's idempotency key:
// the provider sees one message, and the outbox records it once.
func TestCrashAfterHandOver(t *testing.T) {
	f := newFixture(t)
	id := f.queue(1)[0]
	sink := &crashSink{Sink: channel.NewSink(nil), hang: make(chan struct{})}
	sink.crash.Store(true)
	now := time.Now()
	d1 := f.dispatcher(sink, func(c *outbox.Config) { c.Lease = time.Minute; c.SendTimeout = time.Second })
	d1.Start()
	for sink.Times(id) == 0 {
		time.Sleep(time.Millisecond)
	}
	// d1 hangs mid-send, holding the lease. A second node an hour later
	// finds the lease run out and takes the message over.
	sink.crash.Store(false)
	d2 := f.dispatcher(sink, func(c *outbox.Config) { c.Now = func() time.Time { return now.Add(time.Hour) } })
	d2.Start()
	deadline := time.Now().Add(5 * time.Second)
	for f.message(id).Status != store.MessageSent {
		if time.Now().After(deadline) {
			t.Fatalf("not taken over: %+v", f.message(id))
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(sink.hang) // d1 wakes up; its late outcome must not overwrite d2's
	d1.Stop(bg)
	d2.Stop(bg)
	m := f.message(id)
	unique, total := sink.Count()
	if unique != 1 || total != 2 || m.Status != store.MessageSent || m.Attempts != 2 {
		t.Fatalf("provider saw %d unique in %d hand-overs; message %s after %d attempts", unique, total, m.Status, m.Attempts)
	}
}

// TestStoreUnavailable: with the store gone, a send is refused with 503
// (unavailable) and nothing reaches the provider.
func TestStoreUnavailable(t *testing.T) {
	f := newFixture(t)
	sink := channel.NewSink(nil)
	d := f.dispatcher(sink, nil)
	d.Start()
	f.db.down.Store(true)
	_, _, err := f.svc.SendMessage(bg, f.pr, service.SendInput{To: service.Recipient{Phone: "+4520123456"}, Channel: "sms",
		Purpose: "offers", Sender: "ACME", Body: "hi"}, "")
	if code := apperr.CodeOf(err); code != apperr.Unavailable {
		t.Fatalf("send with the store closed: %v", err)
	}
	time.Sleep(50 * time.Millisecond) // the dispatcher polls a store that is not there
	if u, _ := sink.Count(); u != 0 {
		t.Fatalf("provider saw %d messages", u)
	}
	// Back again: a message accepted now is sent.
	f.db.down.Store(false)
	f.queue(1)
	f.waitIdle(5 * time.Second)
	d.Stop(bg)
	if u, _ := sink.Count(); u != 1 {
		t.Fatalf("provider saw %d messages after recovery", u)
	}
}

// TestOptOutWhileQueued is the race the issue names: 100,000 messages to one
// person's purpose are queued; an opt-out recorded while they are queued
// stops every one not yet handed to the provider. The only ones that may
// still go are those already past their dispatch-time decision when the
// opt-out returned: at most one per worker.
func TestOptOutWhileQueued(t *testing.T) {
	n := 100_000
	if testing.Short() || raceEnabled {
		n = 5_000
	}
	f := newFixture(t)
	start := time.Now()
	f.queue(n)
	t.Logf("queued %d in %v", n, time.Since(start))
	sink := channel.NewSink(nil)
	const workers = 8
	d := f.dispatcher(sink, func(c *outbox.Config) { c.Workers = workers })
	d.Start()
	defer d.Stop(bg)
	for u, _ := sink.Count(); u < 500; u, _ = sink.Count() {
		time.Sleep(time.Millisecond)
	}
	if _, err := f.svc.SetConsent(bg, f.pr, f.contact, "offers", "sms", service.ConsentInput{Status: consent.StatusWithdrawn}); err != nil {
		t.Fatal(err)
	}
	atOptOut, _ := sink.Count()
	c := f.waitIdle(120 * time.Second)
	sent, total := sink.Count()
	t.Logf("handed over before the opt-out returned: %d; after: %d; blocked: %d; took %v",
		atOptOut, sent-atOptOut, c[store.MessageBlocked], time.Since(start))
	if sent > atOptOut+workers || total != sent {
		t.Fatalf("%d messages handed over after the opt-out (at most %d were past their decision)", sent-atOptOut, workers)
	}
	if c[store.MessageSent] != int(sent) || c[store.MessageBlocked] != n-int(sent) {
		t.Fatalf("outbox = %v, provider saw %d", c, sent)
	}
}

// TestConcurrentDispatchersPostgres runs three dispatchers (three nodes) on
// one PostgreSQL outbox: SKIP LOCKED keeps their claims apart, and every
// message reaches the provider exactly once.
func TestConcurrentDispatchersPostgres(t *testing.T) {
	pgtest.DSN(t)
	f := newFixtureOn(t, pgtest.Open(t))
	ids := f.queue(1500)
	sink := &slowSink{Sink: channel.NewSink(nil), delay: 100 * time.Microsecond}
	var ds []*outbox.Dispatcher
	for range 3 {
		d := f.dispatcher(sink, func(c *outbox.Config) { c.Batch = 50 })
		d.Start()
		ds = append(ds, d)
	}
	f.waitIdle(30 * time.Second)
	for _, d := range ds {
		d.Stop(bg)
	}
	unique, total := sink.Count()
	if unique != int64(len(ids)) || total != unique {
		t.Fatalf("provider saw %d messages in %d hand-overs, want %d once each", unique, total, len(ids))
	}
}
