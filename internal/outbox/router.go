package outbox

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/consentgate/consentgate/internal/channel"
	"github.com/consentgate/consentgate/internal/consent"
)

// routerTTL is how long a built adapter is used before the provider
// configuration is read again: a tenant's new credentials take effect
// within it.
const routerTTL = 30 * time.Second

// router keeps one adapter per (tenant, channel), built from the tenant's
// provider configuration.
type router struct {
	svc   Service
	build func(channel.Config) (channel.Sender, error)
	now   func() time.Time
	mu    sync.Mutex
	byKey map[routeKey]*route
}

type routeKey struct {
	tenant string
	ch     consent.Channel
}

type route struct {
	sender  channel.Sender
	version time.Time
	checked time.Time
}

func newRouter(svc Service, build func(channel.Config) (channel.Sender, error), now func() time.Time) *router {
	return &router{svc: svc, build: build, now: now, byKey: map[routeKey]*route{}}
}

func (r *router) get(ctx context.Context, tenantID string, ch consent.Channel) (channel.Sender, error) {
	k := routeKey{tenantID, ch}
	now := r.now()
	r.mu.Lock()
	rt := r.byKey[k]
	// checked is written under the lock below: read it under the lock too.
	if rt != nil && now.Sub(rt.checked) < routerTTL {
		s := rt.sender
		r.mu.Unlock()
		return s, nil
	}
	r.mu.Unlock()
	cfg, version, err := r.svc.ProviderConfig(ctx, tenantID, ch)
	if err != nil {
		return nil, fmt.Errorf("outbox: provider for %s: %w", ch, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if rt = r.byKey[k]; rt != nil && rt.version.Equal(version) && !version.IsZero() {
		rt.checked = now
		return rt.sender, nil
	}
	s, err := r.build(cfg)
	if err != nil {
		return nil, fmt.Errorf("outbox: provider for %s: %w", ch, err)
	}
	if !slices.Contains(s.Capabilities().Channels, ch) {
		s.Close()
		return nil, fmt.Errorf("outbox: a %s provider does not carry %s", cfg.Kind, ch)
	}
	if rt != nil {
		// Sends under way keep their reference; the old adapter only
		// drops idle connections.
		rt.sender.Close()
	}
	r.byKey[k] = &route{sender: s, version: version, checked: now}
	return s, nil
}

func (r *router) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, rt := range r.byKey {
		rt.sender.Close()
		delete(r.byKey, k)
	}
}
