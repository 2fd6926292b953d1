package service

import (
	"context"
	"crypto/subtle"
	"errors"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/audit"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/store"
)

// Using and ending sessions: authentication by session token, who-am-I,
// sign-out, revocation, listing and the sweep of ended sessions. Signing
// in is in sessions.go.

// authenticateSession returns the principal a session token stands for.
// A session past its idle timeout or lifetime, or whose user is gone or has
// another role now, is deleted, and the attempt audited against it.
func (s *Service) authenticateSession(ctx context.Context, token string) (auth.Principal, error) {
	hash := auth.HashKey(token)
	var ss *store.Session
	var u *store.User
	err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		if ss, err = tx.GetSessionByHash(ctx, hash); err != nil {
			return err
		}
		u, err = tx.GetUser(ctx, ss.TenantID, ss.UserID)
		if errors.Is(err, store.ErrNotFound) {
			u, err = nil, nil
		}
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		s.recordAuthFailure(ctx, nil)
		return auth.Principal{}, errUnauthenticated
	}
	if err != nil {
		return auth.Principal{}, storeErr(err, "session")
	}
	// The lookup was by hash; compare again in constant time so that no
	// timing difference depends on the token.
	if subtle.ConstantTimeCompare(ss.TokenHash, hash) != 1 {
		s.recordAuthFailure(ctx, nil)
		return auth.Principal{}, errUnauthenticated
	}
	cfg, now := s.sessionConfig(), s.now()
	var why string
	switch {
	case u == nil:
		why = "user"
	case u.Role != ss.Role:
		why = "role"
	case !now.Before(ss.ExpiresAt):
		why = "expires_at"
	case !now.Before(ss.LastSeenAt.Add(cfg.IdleTimeout)):
		why = "last_seen_at"
	}
	if why != "" {
		s.endSession(ctx, ss, why)
		return auth.Principal{}, errUnauthenticated
	}
	if now.Sub(ss.LastSeenAt) >= cfg.touchEvery() {
		// Relaxed: a last-use time lost to a power cut only ends the session
		// up to a minute early.
		err := s.commit.doRead(ctx, func(tx store.Tx) error { return tx.TouchSession(ctx, ss.TenantID, ss.ID, now) })
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			s.log.WarnContext(ctx, "session last use not written", "tenant", ss.TenantID, "session", ss.ID, "err", err)
		}
	}
	return sessionPrincipal(ss), nil
}

// endSession deletes a session that may no longer be used and audits the
// attempt to use it; field names why (its user, role, lifetime or idle
// timeout). The refusal stands whether or not this can be written.
func (s *Service) endSession(ctx context.Context, ss *store.Session, field string) {
	ev, err := s.auditEvent(ctx, sessionPrincipal(ss), auditRec{action: audit.AuthFailed, objectType: "session", objectID: ss.ID,
		fields: []string{field}, result: audit.Denied})
	if err == nil {
		err = s.commit.do(ctx, func(tx store.Tx) error {
			if err := tx.DeleteSession(ctx, ss.TenantID, ss.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			return writeAudit(ctx, tx, ev)
		}, nil)
	}
	if err != nil {
		s.log.ErrorContext(ctx, "ended session not deleted or not audited", "tenant", ss.TenantID, "session", ss.ID,
			"request_id", requestIDOf(ctx), "err", err)
	}
}

// CurrentSession says who the request acts as: the signed-in user and its
// session, or the API key. It needs no permission and reads no personal
// data, so it is not audited.
func (s *Service) CurrentSession(ctx context.Context, pr auth.Principal) (Whoami, error) {
	if pr.TenantID == "" {
		return Whoami{}, apperr.New(apperr.Forbidden, "no tenant: not signed in")
	}
	w := Whoami{TenantID: pr.TenantID, ActorType: string(audit.ActorKey), ActorID: pr.KeyID, Role: string(pr.Role), Permissions: []string{}}
	for _, p := range auth.Permissions {
		if pr.Can(p) {
			w.Permissions = append(w.Permissions, string(p))
		}
	}
	for _, p := range pr.Scopes {
		w.Scopes = append(w.Scopes, string(p))
	}
	if pr.SessionID == "" {
		return w, nil
	}
	w.ActorType, w.ActorID = string(audit.ActorUser), pr.UserID
	var ss *store.Session
	if err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		ss, err = tx.GetSession(ctx, pr.TenantID, pr.SessionID)
		return err
	}); err != nil {
		return Whoami{}, storeErr(err, "session")
	}
	v := s.viewSession(ss)
	w.Session = &v
	return w, nil
}

// SignOut ends the session the request was made with.
func (s *Service) SignOut(ctx context.Context, pr auth.Principal) error {
	if pr.SessionID == "" {
		return apperr.New(apperr.NotFound, "no session: this request was made with an API key")
	}
	return s.RevokeSession(ctx, pr, pr.SessionID)
}

// RevokeSession ends a session of the caller's tenant. Anyone may end their
// own session; ending another's takes users:manage and a role that covers
// the session's.
func (s *Service) RevokeSession(ctx context.Context, pr auth.Principal, id string) error {
	own := pr.SessionID != "" && id == pr.SessionID
	if !own {
		if err := authorize(pr, auth.UsersManage); err != nil {
			return err
		}
	}
	ev, err := s.auditEvent(ctx, pr, auditRec{action: audit.SessionRevoke, objectType: "session", objectID: id})
	if err != nil {
		return err
	}
	err = s.commit.do(ctx, func(tx store.Tx) error {
		ss, err := tx.GetSession(ctx, pr.TenantID, id)
		if err != nil {
			return err
		}
		if !own && !pr.Covers(auth.Principal{Role: auth.Role(ss.Role)}) {
			return errTooPowerful("end a session")
		}
		if err := tx.DeleteSession(ctx, pr.TenantID, id); err != nil {
			return err
		}
		return writeAudit(ctx, tx, ev)
	}, nil)
	return storeErr(err, "session")
}

// ListSessions returns the tenant's sessions that have not ended.
func (s *Service) ListSessions(ctx context.Context, pr auth.Principal) ([]SessionView, error) {
	if err := authorize(pr, auth.UsersManage); err != nil {
		return nil, err
	}
	ev, err := s.auditEvent(ctx, pr, auditRec{action: audit.SessionList, objectType: "session", fields: []string{"user_id", "role"}})
	if err != nil {
		return nil, err
	}
	var list []*store.Session
	err = s.commit.doRead(ctx, func(tx store.Tx) (err error) {
		if list, err = tx.ListSessions(ctx, pr.TenantID); err != nil {
			return err
		}
		return writeAudit(ctx, tx, ev)
	})
	if err != nil {
		return nil, storeErr(err, "session")
	}
	now := s.now()
	out := []SessionView{}
	for _, ss := range list {
		if v := s.viewSession(ss); now.Before(v.IdleExpiresAt) {
			out = append(out, v)
		}
	}
	return out, nil
}

// PurgeSessions deletes the sessions of every tenant that have ended (idle
// or past their lifetime) and returns how many: the sweep behind the
// deletion on use, for sessions nobody uses again.
func (s *Service) PurgeSessions(ctx context.Context) (int, error) {
	cfg, now := s.sessionConfig(), s.now()
	var n int
	err := s.store.Write(ctx, func(tx store.Tx) (err error) {
		n, err = tx.PurgeSessions(ctx, now, now.Add(-cfg.IdleTimeout))
		return err
	})
	return n, storeErr(err, "session")
}
