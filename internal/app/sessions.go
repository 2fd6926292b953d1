package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/consentgate/consentgate/internal/periodic"
	"github.com/consentgate/consentgate/internal/service"
)

// sessionConfig reads the web UI session settings (docs/access.md).
func (c *Config) sessionConfig() (service.SessionConfig, error) {
	sc := service.DefaultSessionConfig()
	var errs []error
	if c.SessionIdleTimeout != 0 {
		sc.IdleTimeout = c.SessionIdleTimeout
	}
	if c.SessionLifetime != 0 {
		sc.Lifetime = c.SessionLifetime
	}
	if sc.IdleTimeout < time.Minute || sc.IdleTimeout > 24*time.Hour {
		errs = append(errs, errors.New("session-idle-timeout must be between 1m and 24h"))
	}
	if sc.Lifetime < sc.IdleTimeout || sc.Lifetime > 30*24*time.Hour {
		errs = append(errs, errors.New("session-lifetime must be at least session-idle-timeout and at most 720h"))
	}
	if v := c.SigninFailuresAllowed; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("signin-failures-allowed: %q is not a whole number of at least 1", v))
		} else {
			sc.FailuresAllowed = n
		}
	}
	return sc, errors.Join(errs...)
}

// sessionSweepEvery is how often ended sessions are deleted. A session is
// also deleted when it is used after its end, so the sweep only keeps the
// table from filling with sessions nobody came back to; its pass is one
// indexed DELETE.
const sessionSweepEvery = 5 * time.Minute

// newSessionSweeper deletes ended web UI sessions on a schedule. Every
// node runs it; a second node finds nothing left to delete.
func newSessionSweeper(svc *service.Service, log *slog.Logger) *periodic.Runner {
	return &periodic.Runner{First: sessionSweepEvery, Every: sessionSweepEvery, Job: func(ctx context.Context) {
		n, err := svc.PurgeSessions(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("session sweep", "err", err)
		case n > 0:
			log.Debug("ended sessions deleted", "count", n)
		}
	}}
}
