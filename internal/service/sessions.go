package service

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/audit"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/backoff"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/oklog/ulid/v2"
)

// Web UI users sign in with tenant, e-mail address and password and get a
// session token (docs/access.md). The token authenticates like an API key
// and acts with the user's role at sign-in. Only its SHA-256 is stored, and
// nothing of it is cached: every request reads the session, so a sign-out
// or a revocation ends it on every node at once. A session ends after
// IdleTimeout without use, after Lifetime whatever the use, when its user is
// deleted, and when its user's role is no longer the one it was made with.

// SessionConfig sets session lifetimes and the per-account sign-in backoff.
type SessionConfig struct {
	IdleTimeout time.Duration // a session unused this long ends
	Lifetime    time.Duration // a session ends this long after sign-in, whatever its use
	// FailuresAllowed failed sign-ins to one account pass; each one after
	// blocks the account for Backoff, doubled per further failure, up to
	// BackoffMax. FailureWindow without a failure starts afresh.
	FailuresAllowed int
	Backoff         time.Duration
	BackoffMax      time.Duration
	FailureWindow   time.Duration
}

// DefaultSessionConfig: 30 minutes idle, 12 hours at most (OWASP's
// session guidance for an administrative interface); five failed sign-ins
// to an account, then a backoff from one second doubling up to 15 minutes.
func DefaultSessionConfig() SessionConfig {
	return SessionConfig{IdleTimeout: 30 * time.Minute, Lifetime: 12 * time.Hour,
		FailuresAllowed: 5, Backoff: time.Second, BackoffMax: 15 * time.Minute, FailureWindow: 15 * time.Minute}
}

// touchEvery is how stale a session's last use may get before a request
// writes it: writing on every request would put a write on every read. The
// idle timeout is therefore enforced to within this much.
func (c SessionConfig) touchEvery() time.Duration { return min(time.Minute, c.IdleTimeout/4) }

// sessionState is the service's sign-in bookkeeping: DefaultSessionConfig
// until ConfigureSessions, and the per-account backoff (sessions_lockout.go).
type sessionState struct {
	cfg     atomic.Pointer[SessionConfig]
	backoff *backoff.Failures[[32]byte] // set by New
	// slots bound how many argon2id verifications run at once: each takes
	// 64 MiB, and sign-in is open to anyone.
	slotsOnce sync.Once
	slots     chan struct{}
}

// ConfigureSessions sets session lifetimes and the sign-in backoff; zero
// fields keep their defaults (so at least one failed sign-in is always
// free: a typo must not lock anyone out).
func (s *Service) ConfigureSessions(cfg SessionConfig) {
	d := DefaultSessionConfig()
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = d.IdleTimeout
	}
	if cfg.Lifetime <= 0 {
		cfg.Lifetime = d.Lifetime
	}
	if cfg.FailuresAllowed <= 0 {
		cfg.FailuresAllowed = d.FailuresAllowed
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = d.Backoff
	}
	if cfg.BackoffMax <= 0 {
		cfg.BackoffMax = d.BackoffMax
	}
	if cfg.FailureWindow <= 0 {
		cfg.FailureWindow = d.FailureWindow
	}
	s.signin.cfg.Store(&cfg)
}

func (s *Service) sessionConfig() SessionConfig {
	if c := s.signin.cfg.Load(); c != nil {
		return *c
	}
	return DefaultSessionConfig()
}

// SignInInput is a sign-in: the tenant by name or id, the e-mail address
// and the password.
type SignInInput struct {
	Tenant   string `json:"tenant"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

// SessionView is a session as the API shows it: never its token or hash.
type SessionView struct {
	ID            string    `json:"id"`
	TenantID      string    `json:"tenant_id"`
	UserID        string    `json:"user_id"`
	Role          string    `json:"role"`
	CreatedAt     time.Time `json:"created_at"`
	LastSeenAt    time.Time `json:"last_seen_at"`
	IdleExpiresAt time.Time `json:"idle_expires_at"` // when it ends unless used before
	ExpiresAt     time.Time `json:"expires_at"`      // when it ends in any case
}

// NewSession is a session just signed in: its view and, this once, its
// token.
type NewSession struct {
	SessionView
	Token string `json:"token"`
}

// Whoami is who a request acts as: GET /v1/sessions/current.
type Whoami struct {
	TenantID    string       `json:"tenant_id"`
	ActorType   string       `json:"actor_type"` // "user" (a session) or "key"
	ActorID     string       `json:"actor_id"`
	Role        string       `json:"role"`
	Scopes      []string     `json:"scopes,omitempty"`
	Permissions []string     `json:"permissions"`
	Session     *SessionView `json:"session,omitempty"`
}

// errBadCredentials answers every failed sign-in alike, whichever of
// tenant, e-mail address or password was wrong.
var errBadCredentials = apperr.New(apperr.InvalidCredentials, "the tenant, e-mail address or password is wrong")

func (s *Service) viewSession(ss *store.Session) SessionView {
	idle := ss.LastSeenAt.Add(s.sessionConfig().IdleTimeout)
	if idle.After(ss.ExpiresAt) {
		idle = ss.ExpiresAt
	}
	return SessionView{ID: ss.ID, TenantID: ss.TenantID, UserID: ss.UserID, Role: ss.Role, CreatedAt: ss.CreatedAt,
		LastSeenAt: ss.LastSeenAt, IdleExpiresAt: idle, ExpiresAt: ss.ExpiresAt}
}

// sessionPrincipal is whom a session's requests act as: the user, with the
// role it signed in with. KeyID carries the user id too, so that per-key
// rate limits and the records that name an actor treat it like a key.
func sessionPrincipal(ss *store.Session) auth.Principal {
	return auth.Principal{TenantID: ss.TenantID, KeyID: ss.UserID, UserID: ss.UserID, SessionID: ss.ID, Role: auth.Role(ss.Role)}
}

// SignIn checks a user's password and opens a session. Every failure gives
// the same error, after about the same time: an unknown tenant or address
// is checked against a dummy argon2id hash. Failures are audited (never
// with the address or password) and count towards the account's backoff;
// an account in backoff is refused with 429 before its password is
// checked.
func (s *Service) SignIn(ctx context.Context, in SignInInput) (NewSession, error) {
	cfg := s.sessionConfig()
	in.Tenant = strings.TrimSpace(in.Tenant)
	tn, err := s.resolveTenant(ctx, in.Tenant)
	if err != nil {
		return NewSession{}, err
	}
	email, emailErr := s.norm.Normalize(consent.KindEmail, in.Email)
	if emailErr != nil {
		email = strings.ToLower(strings.TrimSpace(in.Email))
	}
	tenantKey := "name:" + in.Tenant
	if tn != nil {
		tenantKey = "id:" + tn.ID
	}
	acct := accountKey(tenantKey, email)
	if wait, blocked := s.signin.backoff.Blocked(acct, s.now()); blocked {
		return NewSession{}, signInBackoff(wait)
	}
	var u *store.User
	if tn != nil && emailErr == nil {
		if u, err = s.userByEmail(ctx, tn.ID, email); err != nil {
			return NewSession{}, err
		}
	}
	ok, err := s.checkPassword(ctx, u, in.Password)
	if err != nil {
		return NewSession{}, err
	}
	if !ok {
		if s.signin.backoff.Failed(acct, s.now(), cfg.backoffPolicy()) {
			s.log.WarnContext(ctx, "repeated failed sign-ins to one account: backing off", "tenant", tenantIDOf(tn),
				"user", userIDOf(u), "request_id", requestIDOf(ctx))
		}
		s.recordSignInFailure(ctx, tn, u)
		return NewSession{}, errBadCredentials
	}
	ns, err := s.openSession(ctx, u, cfg)
	if err != nil {
		return NewSession{}, err
	}
	s.signin.backoff.Succeeded(acct)
	return ns, nil
}

// resolveTenant finds the tenant named by name or id; nil when there is
// none.
func (s *Service) resolveTenant(ctx context.Context, nameOrID string) (*store.Tenant, error) {
	if nameOrID == "" {
		return nil, nil
	}
	var tn *store.Tenant
	err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		if _, perr := ulid.ParseStrict(nameOrID); perr == nil {
			if tn, err = tx.GetTenant(ctx, nameOrID); !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		tn, err = tx.GetTenantByName(ctx, nameOrID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, storeErr(err, "tenant")
	}
	return tn, nil
}

// userByEmail finds a tenant's user by the blind index of a normalised
// address; nil when there is none.
func (s *Service) userByEmail(ctx context.Context, tenantID, email string) (*store.User, error) {
	tk, err := s.tenantKeys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	var u *store.User
	err = s.store.Read(ctx, func(tx store.Tx) (err error) {
		u, err = firstFound(tk.forms(userEmailKind, email).Lookups(), func(form []byte) (*store.User, error) {
			return tx.GetUserByEmail(ctx, tenantID, form)
		})
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, storeErr(err, "user")
	}
	return u, nil
}

// checkPassword verifies pw against u's hash, or against a dummy hash when
// there is no user, so that both take the same time. At most a few
// verifications run at once; the others wait their turn.
func (s *Service) checkPassword(ctx context.Context, u *store.User, pw string) (bool, error) {
	hash, err := auth.DummyPasswordHash()
	if err != nil {
		return false, err
	}
	if u != nil {
		hash = u.PasswordHash
	}
	if len(pw) > 4*auth.MaxPasswordLen { // more bytes than the longest password can have
		return false, nil
	}
	s.signin.slotsOnce.Do(func() { s.signin.slots = make(chan struct{}, max(2, runtime.GOMAXPROCS(0))) })
	select {
	case s.signin.slots <- struct{}{}:
	case <-ctx.Done():
		return false, apperr.Wrap(ctx.Err(), apperr.Unavailable, "the server is busy; try again")
	}
	err = auth.VerifyPassword(hash, pw)
	<-s.signin.slots
	switch {
	case u == nil:
		return false, nil
	case err == nil:
		return true, nil
	case !errors.Is(err, auth.ErrPasswordMismatch):
		s.log.ErrorContext(ctx, "stored password hash unusable", "tenant", u.TenantID, "user", u.ID, "err", err)
	}
	return false, nil
}

// openSession stores a new session for u, with its audit event. The user is
// read again in the transaction: one deleted, or given another role or
// password, since its password was checked gets no session.
func (s *Service) openSession(ctx context.Context, u *store.User, cfg SessionConfig) (NewSession, error) {
	token, hash, err := auth.NewSessionToken()
	if err != nil {
		return NewSession{}, err
	}
	now := s.now()
	ss := &store.Session{ID: ulid.Make().String(), TenantID: u.TenantID, UserID: u.ID, Role: u.Role, TokenHash: hash,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(cfg.Lifetime)}
	ev, err := s.auditEvent(ctx, sessionPrincipal(ss), auditRec{action: audit.SessionCreate, objectType: "session", objectID: ss.ID})
	if err != nil {
		return NewSession{}, err
	}
	err = s.commit.do(ctx, func(tx store.Tx) error {
		cur, err := tx.GetUser(ctx, u.TenantID, u.ID)
		if err != nil {
			return err
		}
		if cur.Role != u.Role || cur.PasswordHash != u.PasswordHash {
			return errBadCredentials
		}
		if err := tx.CreateSession(ctx, ss); err != nil {
			return err
		}
		return writeAudit(ctx, tx, ev)
	}, nil)
	if errors.Is(err, store.ErrNotFound) {
		return NewSession{}, errBadCredentials
	}
	if err != nil {
		return NewSession{}, storeErr(err, "session")
	}
	return NewSession{SessionView: s.viewSession(ss), Token: token}, nil
}

// signInBackoff is the 429 for an account in backoff.
func signInBackoff(wait time.Duration) error {
	e := apperr.New(apperr.RateLimited, "too many failed sign-ins to this account; retry later")
	e.Details = map[string]any{"retry_after": int(max(1, (wait+time.Second-1)/time.Second)), "limit": "account"}
	return e
}

// recordSignInFailure audits a failed sign-in. A wrong password is recorded
// against the user (actor and object: its id); an address that is no user
// against the tenant, anonymously; an unknown tenant with no tenant, where
// only the operator sees it. The field says which part failed; the address
// and password themselves are never recorded.
func (s *Service) recordSignInFailure(ctx context.Context, tn *store.Tenant, u *store.User) {
	rec := auditRec{action: audit.AuthFailed, objectType: "session", result: audit.Denied}
	var pr auth.Principal
	switch {
	case tn == nil:
		rec.fields = []string{"tenant"}
	case u == nil:
		pr.TenantID, rec.fields = tn.ID, []string{"email"}
	default:
		pr = auth.Principal{TenantID: u.TenantID, KeyID: u.ID, UserID: u.ID, Role: auth.Role(u.Role)}
		rec.objectType, rec.objectID, rec.fields = "user", u.ID, []string{"password"}
	}
	s.recordAlone(ctx, pr, rec)
}

func tenantIDOf(tn *store.Tenant) string {
	if tn == nil {
		return ""
	}
	return tn.ID
}

func userIDOf(u *store.User) string {
	if u == nil {
		return ""
	}
	return u.ID
}
