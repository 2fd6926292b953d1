package httpapi

import (
	"net/http"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/service"
)

// signIn opens a session for a web UI user. It is a public route (it takes
// no key), so it applies the failed-authentication backoff of the source
// address itself: a blocked address is refused before the password is
// checked, and every wrong tenant, address or password counts. A
// successful sign-in does not clear the address's failures, as a valid key
// does elsewhere: one account of the attacker's own must not reset the
// count of guesses against others. The service adds a backoff per account.
func (a *API) signIn(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	addr := sourceAddr(r, a.limits.cfg.TrustedProxies...)
	if wait, blocked := a.limits.blocked(addr); blocked {
		return tooMany(wait, "address")
	}
	var in service.SignInInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	ns, err := a.svc.SignIn(r.Context(), in)
	if apperr.CodeOf(err) == apperr.InvalidCredentials {
		a.limits.failed(addr)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/sessions/current")
	writeJSON(w, http.StatusCreated, ns)
	return nil
}

func (a *API) currentSession(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	who, err := a.svc.CurrentSession(r.Context(), pr)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, who)
	return nil
}

func (a *API) signOut(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	if err := a.svc.SignOut(r.Context(), pr); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) listSessions(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	ss, err := a.svc.ListSessions(r.Context(), pr)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": ss})
	return nil
}

func (a *API) revokeSession(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	if err := a.svc.RevokeSession(r.Context(), pr, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
