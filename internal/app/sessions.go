package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

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

// sessionSweeper deletes ended web UI sessions on a schedule. Every node
// runs it; a second node finds nothing left to delete.
type sessionSweeper struct {
	svc    *service.Service
	log    *slog.Logger
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func (s *sessionSweeper) start() {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(sessionSweepEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			n, err := s.svc.PurgeSessions(ctx)
			switch {
			case err != nil && ctx.Err() == nil:
				s.log.Error("session sweep", "err", err)
			case n > 0:
				s.log.Debug("ended sessions deleted", "count", n)
			}
		}
	}()
}

// stop ends the schedule and waits for a pass in progress.
func (s *sessionSweeper) stop() {
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
}
