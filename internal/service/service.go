// Package service is the one place where the use cases live: authorize,
// validate, decide, write, (later) audit. HTTP handlers and CLI commands call
// it; it calls the domain packages and the store. Because every rule lives
// here or in the domain, both store backends share all of them.
package service

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/index"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/vault"
)

// Config holds what the service needs besides its store.
type Config struct {
	Store         store.Store
	Index         *index.Index
	MasterKey     vault.Key
	DefaultRegion string // ISO 3166 region for phone numbers without a country code
	Logger        *slog.Logger
	Now           func() time.Time // injected clock; time.Now when nil
	// MaxBatch caps how many writes share one transaction (group commit).
	MaxBatch int
	// AuditChainEvery is how often the audit chainer links new audit
	// events; 0 means every 500ms, negative turns the chainer off (tests
	// that chain by hand).
	AuditChainEvery time.Duration
}

// Service implements the gateway's use cases.
type Service struct {
	store  store.Store
	index  *index.Index
	master vault.Key
	norm   consent.Normalizer
	log    *slog.Logger
	now    func() time.Time
	commit *committer

	tenantsMu sync.RWMutex
	tenants   map[string]*tenantKeys

	keysMu sync.RWMutex
	keys   map[[32]byte]cachedKey

	replies ReplyQueue
	sending *sending // messages.go: limits, links and the dispatcher kick; set by ConfigureSending
	ledger  *ledgerState
	chainer *chainer     // audit_chain.go: links audit events into the hash chain
	inbound inboundState // inbound*.go: routing, classifier and secret caches; settings
	privacy privacyState // keyring.go, attributes.go, dsr*.go, retention.go: key cache policy, declarations, purges
	records recordsState // records*.go: storage location and id source of the DPO's records (issue 8)
	signin  sessionState // sessions*.go: session lifetimes, the per-account sign-in backoff, password-hashing slots
}

// New returns a service. Call Start before use and Close after.
func New(cfg Config) *Service {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Service{
		store:   cfg.Store,
		index:   cfg.Index,
		master:  cfg.MasterKey,
		norm:    consent.Normalizer{DefaultRegion: cfg.DefaultRegion},
		log:     log,
		now:     func() time.Time { return now().UTC() },
		tenants: make(map[string]*tenantKeys),
		keys:    make(map[[32]byte]cachedKey),
	}
	s.signin.backoff = newAccountBackoff()
	s.commit = newCommitter(cfg.Store, cfg.MaxBatch, log)
	startChainer(s, cfg.AuditChainEvery) // sets s.chainer
	return s
}

// Close stops the committer after it has finished the writes it holds, then
// chains the audit events they wrote.
func (s *Service) Close() {
	s.commit.close()
	s.chainer.stop()
}

// Index returns the decision index the service keeps current.
func (s *Service) Index() *index.Index { return s.index }

// authorize is the single permission check of the gateway: the
// principal's role must carry perm and its scopes, if any, include it. The
// refusal names the permission (problem member "permission"), which the
// HTTP layer records in the audit trail.
func authorize(p auth.Principal, perm auth.Permission) error {
	if p.TenantID == "" || !p.Can(perm) {
		e := apperr.New(apperr.Forbidden, "this key's role (%s) or scopes do not allow %s", p.Role, perm)
		e.Details = map[string]any{"permission": string(perm)}
		return e
	}
	return nil
}

// storeErr turns store sentinels into application errors with safe
// messages; anything else is internal.
func storeErr(err error, what string) error {
	var ae *apperr.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ae):
		return err
	case errors.Is(err, store.ErrNotFound):
		return apperr.Wrap(err, apperr.NotFound, "%s not found", what)
	case errors.Is(err, store.ErrConflict):
		return apperr.Wrap(err, apperr.Conflict, "%s already exists", what)
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return apperr.Wrap(err, apperr.Unavailable, "the store is unavailable; nothing was written")
	}
	return apperr.Wrap(err, apperr.Internal, "internal error")
}
