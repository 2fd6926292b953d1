package service

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/store"
)

// SendConfig configures sending on this node.
type SendConfig struct {
	// PublicURL is where recipients reach this gateway (one-click
	// unsubscribe links); without it marketing e-mail carries no link and
	// is refused.
	PublicURL string
	// TenantRate and SenderRate cap accepted messages per second, per
	// tenant and per (tenant, sender), with bursts of one second's worth
	// (at least Burst). Zero means no limit.
	TenantRate float64
	SenderRate float64
	Burst      int
	// DailyCap caps a tenant's accepted messages per UTC day (the volume
	// cap); zero means none.
	DailyCap int
	// DefaultProvider is the provider kind used for a channel a tenant has
	// not configured ("sink" under --demo); empty means such a channel is
	// refused.
	DefaultProvider string
	// Kick wakes the dispatcher when a message was queued.
	Kick func()
	// ReceiptLinks adds a link to the consent receipt (GET /r/{token}) to
	// opt-in and opt-out confirmations. Off by default: it makes an SMS
	// confirmation about 80 characters longer.
	ReceiptLinks bool
}

// sending is the service's sending state: limits and configuration.
type sending struct {
	cfg SendConfig
	now func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	volume  map[string]*dayCount
}

type bucket struct {
	tokens float64
	last   time.Time
}

type dayCount struct {
	day      string
	n        int // committed today, as counted from the store then kept up
	reserved int // admitted, not yet committed
}

// ConfigureSending enables sending. It is called once at start-up, before
// the service handles requests.
func (s *Service) ConfigureSending(cfg SendConfig) {
	if cfg.Burst <= 0 {
		cfg.Burst = 1
	}
	s.sending = &sending{cfg: cfg, now: s.now, buckets: map[string]*bucket{}, volume: map[string]*dayCount{}}
}

func (sd *sending) kick() {
	if sd.cfg.Kick != nil {
		sd.cfg.Kick()
	}
}

// admit takes n messages from the tenant's and the sender's rate buckets and
// reserves them against the daily cap. The returned release settles the
// reservation: committed messages count, others are given back.
func (sd *sending) admit(ctx context.Context, s *Service, tenantID, sender string, n int) (func(bool), error) {
	now := sd.now()
	day := now.Format(time.DateOnly)
	var dc *dayCount
	if sd.cfg.DailyCap > 0 {
		sd.mu.Lock()
		dc = sd.volume[tenantID]
		fresh := dc == nil || dc.day != day
		sd.mu.Unlock()
		if fresh {
			// Count from the store once a day, so a restart does not hand
			// out a fresh cap. The read happens outside the lock.
			midnight, _ := time.Parse(time.DateOnly, day)
			var count int
			if err := s.store.Read(ctx, func(tx store.Tx) (err error) {
				count, err = tx.CountMessagesSince(ctx, tenantID, midnight)
				return err
			}); err != nil {
				return nil, storeErr(err, "message")
			}
			sd.mu.Lock()
			if dc = sd.volume[tenantID]; dc == nil || dc.day != day {
				dc = &dayCount{day: day, n: count}
				sd.volume[tenantID] = dc
			}
			sd.mu.Unlock()
		}
	}
	sd.mu.Lock()
	defer sd.mu.Unlock()
	if dc != nil && dc.n+dc.reserved+n > sd.cfg.DailyCap {
		e := apperr.New(apperr.VolumeCapExceeded, "the tenant's daily cap of %d messages is reached", sd.cfg.DailyCap)
		midnight, _ := time.Parse(time.DateOnly, day)
		e.Details = map[string]any{"retry_after": int(math.Ceil(midnight.Add(24 * time.Hour).Sub(now).Seconds()))}
		return nil, e
	}
	tb := sd.bucket("t|"+tenantID, sd.cfg.TenantRate, now)
	sb := sd.bucket("s|"+tenantID+"|"+sender, sd.cfg.SenderRate, now)
	for _, b := range []struct {
		b    *bucket
		rate float64
		what string
	}{{tb, sd.cfg.TenantRate, "tenant"}, {sb, sd.cfg.SenderRate, "sender"}} {
		if b.b != nil && b.b.tokens < float64(n) {
			wait := (float64(n) - b.b.tokens) / b.rate
			e := apperr.New(apperr.RateLimited, "the %s's rate of %g messages/s is exceeded", b.what, b.rate)
			e.Details = map[string]any{"retry_after": int(math.Ceil(wait)), "limit": b.what}
			return nil, e
		}
	}
	for _, b := range []*bucket{tb, sb} {
		if b != nil {
			b.tokens -= float64(n)
		}
	}
	if dc == nil {
		return func(bool) {}, nil
	}
	dc.reserved += n
	var once sync.Once
	return func(committed bool) {
		once.Do(func() {
			sd.mu.Lock()
			dc.reserved -= n
			if committed {
				dc.n += n
			}
			sd.mu.Unlock()
		})
	}, nil
}

// bucket returns the key's token bucket refilled to now; nil when the rate
// is unlimited. Callers hold sd.mu.
func (sd *sending) bucket(key string, rate float64, now time.Time) *bucket {
	if rate <= 0 {
		return nil
	}
	size := math.Max(rate, float64(sd.cfg.Burst))
	b := sd.buckets[key]
	if b == nil {
		if len(sd.buckets) >= maxBuckets {
			sd.sweep(now)
		}
		b = &bucket{tokens: size, last: now}
		sd.buckets[key] = b
	}
	b.tokens = math.Min(size, b.tokens+now.Sub(b.last).Seconds()*rate)
	b.last = now
	return b
}

// maxBuckets bounds the rate buckets kept: sender names arrive before they
// are checked, so a caller could otherwise grow the map at will.
const maxBuckets = 50_000

// sweep forgets buckets idle long enough to be full again: forgetting them
// changes no answer. Callers hold sd.mu.
func (sd *sending) sweep(now time.Time) {
	for k, b := range sd.buckets {
		if now.Sub(b.last) > 10*time.Second {
			delete(sd.buckets, k)
		}
	}
}

// String describes the limits for the start-up log.
func (c SendConfig) String() string {
	return fmt.Sprintf("tenant_rate=%g/s sender_rate=%g/s daily_cap=%d default_provider=%q public_url=%q",
		c.TenantRate, c.SenderRate, c.DailyCap, c.DefaultProvider, c.PublicURL)
}
