// Package outbox is the durable queue between an accepted message and its
// provider. Messages are rows written in the same transaction as their
// decision record; a dispatcher leases due rows (claim), decides each one
// again from the in-memory index, hands it to the channel adapter (send),
// and records the outcome (mark). A lease that runs out — the dispatcher
// died — makes the row due again, and the message id travels as the
// provider's idempotency key, so a restart never sends a message twice where
// the provider honours the key. Temporary failures are retried with
// exponential backoff; permanent ones, and the last retry, dead-letter.
package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/consentgate/consentgate/internal/channel"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/service"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/oklog/ulid/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// Service is what the dispatcher needs from the service layer; the keys
// and the decision rule stay there. *service.Service implements it.
type Service interface {
	Recheck(m *store.Message) consent.Decision
	OpenMessages(ctx context.Context, ms []*store.Message) ([]*channel.Message, []error, error)
	ProviderConfig(ctx context.Context, tenantID string, ch consent.Channel) (channel.Config, time.Time, error)
	ReplyMessage(ctx context.Context, tx store.Tx, r service.Reply) (*store.Message, error)
	ForwardStatus(ctx context.Context, tx store.Tx, m *store.Message, ev *store.MessageEvent, providerRef string) error
	KeepsBody(m *store.Message) bool
}

var _ Service = (*service.Service)(nil)

// Config configures a dispatcher. Zero values take the defaults.
type Config struct {
	Store   store.Store
	Service Service
	Logger  *slog.Logger
	// Registry receives the outbox metrics; nil registers nothing.
	Registry prometheus.Registerer
	// Adapters builds the adapter for a provider configuration; channel.New
	// when nil. Tests and --demo substitute a shared sink.
	Adapters func(channel.Config) (channel.Sender, error)
	Now      func() time.Time
	// Owner names this dispatcher's leases; a fresh id when empty.
	Owner       string
	Workers     int           // concurrent sends (default 16)
	Batch       int           // messages leased per claim (default 256)
	Lease       time.Duration // how long a claim holds a message (default 60s)
	SendTimeout time.Duration // per send (default 20s, or a third of a shorter Lease)
	Poll        time.Duration // how often an idle dispatcher looks for due messages (default 200ms)
	MaxAttempts int           // attempts before a message is dead-lettered (default 10)
	BackoffBase time.Duration // first retry delay (default 5s), doubled per attempt
	BackoffMax  time.Duration // cap on the retry delay (default 15m)
}

func (c *Config) defaults() {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Adapters == nil {
		c.Adapters = channel.New
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Owner == "" {
		c.Owner = "dispatcher-" + ulid.Make().String()
	}
	setDefault(&c.Workers, 16)
	setDefault(&c.Batch, 256)
	setDefault(&c.MaxAttempts, 10)
	setDefault(&c.Lease, 60*time.Second)
	// A worker starts no send its lease would not cover, so a send must
	// fit well inside the lease, or nothing would ever be sent.
	setDefault(&c.SendTimeout, min(20*time.Second, c.Lease/3))
	setDefault(&c.Poll, 200*time.Millisecond)
	setDefault(&c.BackoffBase, 5*time.Second)
	setDefault(&c.BackoffMax, 15*time.Minute)
}

func setDefault[T int | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

// Dispatcher moves due messages from the outbox to their providers.
type Dispatcher struct {
	cfg      Config
	log      *slog.Logger
	router   *router
	metrics  *metrics
	kick     chan struct{}
	jobs     chan *job
	outcomes chan outcome
	inflight atomic.Int64 // leased and not yet marked
	stopping atomic.Bool
	cancel   context.CancelFunc
	claimWG  sync.WaitGroup
	workWG   sync.WaitGroup
	markWG   sync.WaitGroup
	started  bool
}

type job struct {
	m       *store.Message
	msg     *channel.Message
	openErr error
	until   time.Time // the lease's end
}

// outcome is what a worker learned about one leased message.
type outcome struct {
	m       *store.Message
	release bool // not attempted: back to the queue
	upd     store.MessageUpdate
	detail  string
}

// New returns a dispatcher; Start runs it.
func New(cfg Config) *Dispatcher {
	cfg.defaults()
	d := &Dispatcher{cfg: cfg, log: cfg.Logger, kick: make(chan struct{}, 1),
		jobs: make(chan *job, cfg.Batch), outcomes: make(chan outcome, cfg.Batch+cfg.Workers)}
	d.router = newRouter(cfg.Service, cfg.Adapters, cfg.Now)
	d.metrics = newMetrics(cfg.Registry, cfg.Store)
	return d
}

// Kick wakes the dispatcher: a message was queued. It never blocks.
func (d *Dispatcher) Kick() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// Start runs the claimer, the workers and the marker in the background.
func (d *Dispatcher) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel, d.started = cancel, true
	d.markWG.Add(1)
	go d.markLoop()
	for range d.cfg.Workers {
		d.workWG.Add(1)
		go d.work()
	}
	d.claimWG.Add(1)
	go d.claimLoop(ctx)
}

// Stop drains the dispatcher: it claims nothing more, gives leased messages
// it has not started back to the queue, lets the sends under way finish
// (each within SendTimeout) and records every outcome before it returns.
func (d *Dispatcher) Stop(ctx context.Context) error {
	if !d.started {
		return nil
	}
	d.started = false
	d.stopping.Store(true)
	d.cancel()
	d.claimWG.Wait()
	close(d.jobs)
	done := make(chan struct{})
	go func() {
		d.workWG.Wait()
		close(d.outcomes)
		d.markWG.Wait()
		d.router.close()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("outbox: stop: %w (leases run out and the messages are retried)", ctx.Err())
	}
}

// claimLoop leases due messages while there is room for them.
func (d *Dispatcher) claimLoop(ctx context.Context) {
	defer d.claimWG.Done()
	tick := time.NewTicker(d.cfg.Poll)
	defer tick.Stop()
	room := int64(d.cfg.Batch + d.cfg.Workers)
	for {
		n := 0
		if free := room - d.inflight.Load(); free > 0 {
			var err error
			if n, err = d.claim(ctx, int(min(free, int64(d.cfg.Batch)))); err != nil && ctx.Err() == nil {
				d.log.Warn("outbox: claim failed; nothing was sent", "err", err)
			}
		}
		if n > 0 && ctx.Err() == nil {
			continue // there may be more due right away
		}
		select {
		case <-ctx.Done():
			return
		case <-d.kick:
		case <-tick.C:
		}
	}
}

func (d *Dispatcher) claim(ctx context.Context, limit int) (int, error) {
	now := d.cfg.Now()
	until := now.Add(d.cfg.Lease)
	var ms []*store.Message
	err := d.cfg.Store.Write(ctx, func(tx store.Tx) (err error) {
		ms, err = tx.ClaimMessages(ctx, d.cfg.Owner, now, until, limit)
		return err
	})
	if err != nil || len(ms) == 0 {
		return 0, err
	}
	d.inflight.Add(int64(len(ms)))
	msgs, errs, err := d.cfg.Service.OpenMessages(ctx, ms)
	if err != nil {
		// The contacts could not be read: give the leases back rather than
		// wait for them to run out.
		for _, m := range ms {
			d.outcomes <- outcome{m: m, release: true}
		}
		return 0, err
	}
	for i, m := range ms {
		d.jobs <- &job{m: m, msg: msgs[i], openErr: errs[i], until: until}
	}
	return len(ms), nil
}

// work sends jobs until the job channel closes.
func (d *Dispatcher) work() {
	defer d.workWG.Done()
	for j := range d.jobs {
		d.outcomes <- d.attempt(j)
	}
}

// attempt decides, sends and classifies one message. The decision is
// taken again here, immediately before the hand-over, so that an opt-out
// recorded while the message waited stops it.
func (d *Dispatcher) attempt(j *job) outcome {
	m := j.m
	now := d.cfg.Now()
	if d.stopping.Load() || now.Add(d.cfg.SendTimeout).After(j.until) {
		// Stopping, or the lease would run out mid-send and let another
		// dispatcher take the message: do not start.
		return outcome{m: m, release: true}
	}
	o := outcome{m: m, upd: store.MessageUpdate{TenantID: m.TenantID, ID: m.ID, LeaseOwner: d.cfg.Owner, At: now}}
	if errors.Is(j.openErr, service.ErrErased) {
		return d.finish(o, store.MessageBlocked, "erased", "")
	}
	if j.openErr != nil {
		d.log.Error("outbox: message unreadable", "tenant", m.TenantID, "message", m.ID, "err", j.openErr)
		return d.finish(o, store.MessageDead, "unreadable", "unreadable")
	}
	if dec := d.cfg.Service.Recheck(m); !dec.Allowed {
		if dec.Reason == consent.ReasonUnavailable {
			// The index cannot answer: fail closed, but this is no
			// verdict on the message; try again shortly.
			return d.retry(o, "unavailable", time.Second)
		}
		return d.finish(o, store.MessageBlocked, string(dec.Reason), "")
	}
	sender, err := d.router.get(context.Background(), m.TenantID, m.Channel)
	if err != nil {
		return d.failed(o, channel.Temporary("provider_config", err))
	}
	ctx, cancel := context.WithTimeout(context.Background(), d.cfg.SendTimeout)
	res, err := sender.Send(ctx, j.msg)
	cancel()
	if err != nil {
		return d.failed(o, err)
	}
	o.upd.ProviderRef = res.ProviderRef
	o = d.finish(o, store.MessageSent, "", "")
	// A purpose that keeps its texts keeps this one, sealed, for the
	// retention purge to delete when its period ends.
	o.upd.DropSealed = !d.cfg.Service.KeepsBody(m)
	return o
}

func (d *Dispatcher) finish(o outcome, st store.MessageStatus, detail, lastErr string) outcome {
	o.upd.Status, o.upd.DropSealed, o.upd.LastError, o.detail = st, true, lastErr, detail
	return o
}

func (d *Dispatcher) retry(o outcome, class string, after time.Duration) outcome {
	o.upd.Status, o.upd.DueAt, o.upd.LastError, o.detail = store.MessageQueued, o.upd.At.Add(after), class, class
	return o
}

// failed turns a send error into a retry or a dead letter.
func (d *Dispatcher) failed(o outcome, err error) outcome {
	permanent, class := channel.Classify(err)
	d.log.Debug("outbox: send failed", "tenant", o.m.TenantID, "message", o.m.ID, "class", class,
		"permanent", permanent, "attempt", o.m.Attempts)
	if permanent || o.m.Attempts >= d.cfg.MaxAttempts {
		return d.finish(o, store.MessageDead, class, class)
	}
	return d.retry(o, class, d.backoff(o.m.Attempts))
}

// backoff is the delay after the given failed attempt: BackoffBase doubled
// per attempt, capped, with ±20% jitter so that a provider outage does not
// end in a stampede.
func (d *Dispatcher) backoff(attempt int) time.Duration {
	b := d.cfg.BackoffBase << min(attempt-1, 30)
	if b <= 0 || b > d.cfg.BackoffMax {
		b = d.cfg.BackoffMax
	}
	return time.Duration(float64(b) * (0.8 + 0.4*rand.Float64()))
}
