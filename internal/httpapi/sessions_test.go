package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/audit"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/index"
	"github.com/consentgate/consentgate/internal/service"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/vault"
)

// sessionEnv is an API over a service whose clock the test moves, so that
// idle timeouts and lifetimes are tested without sleeping. Tenant acme has
// an owner key and the users anna (compliance), bo (support) and cy
// (admin); tenant globex has an owner key and its own anna (support), with
// another password.
type sessionEnv struct {
	*env
	clock *fakeClock
	users map[string]string // name -> user id (acme; "globex-anna" for globex)
}

const (
	annaEmail   = "anna@example.com"
	boEmail     = "bo@example.org"
	cyEmail     = "cy@example.org"
	otherPass   = "globex horse battery staple"
	sessionIdle = 30 * time.Minute
	sessionLife = 12 * time.Hour
)

func newSessionEnv(t *testing.T, limits *Limits, sc service.SessionConfig) *sessionEnv {
	t.Helper()
	ctx := context.Background()
	st := openSQLite(t)
	master, _ := vault.NewKey()
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	clock := &fakeClock{}
	clock.t.Store(time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC).UnixNano())
	ix := index.New()
	ix.MarkReady()
	svc := service.New(service.Config{Store: st, Index: ix, MasterKey: master, DefaultRegion: "DK", Logger: log, Now: clock.now})
	t.Cleanup(svc.Close)
	svc.ConfigureSessions(sc)
	e := &env{t: t, svc: svc, store: st, index: ix, logs: logs, keys: map[auth.Role]string{}, keyIDs: map[auth.Role]string{}, master: master}
	se := &sessionEnv{env: e, clock: clock, users: map[string]string{}}
	acme, err := svc.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	globex, err := svc.CreateTenant(ctx, "globex")
	if err != nil {
		t.Fatal(err)
	}
	e.tenant, e.other = acme.ID, globex.ID
	k, rec, err := svc.CreateAPIKey(ctx, acme.ID, auth.Owner, "owner", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	e.keys[auth.Owner], e.keyIDs[auth.Owner] = k, rec.ID
	if e.foreign, rec, err = svc.CreateAPIKey(ctx, globex.ID, auth.Owner, "owner", time.Time{}); err != nil {
		t.Fatal(err)
	}
	e.foreignKeyID = rec.ID
	for _, u := range []struct{ name, tenant, email, role, pw string }{
		{"anna", acme.ID, annaEmail, "compliance", testPassword},
		{"bo", acme.ID, boEmail, "support", testPassword},
		{"cy", acme.ID, cyEmail, "admin", testPassword},
		{"globex-anna", globex.ID, annaEmail, "support", otherPass},
	} {
		v, err := svc.CreateUser(ctx, service.Operator(u.tenant), service.UserInput{Email: u.email, Role: u.role, Password: u.pw})
		if err != nil {
			t.Fatal(err)
		}
		se.users[u.name] = v.ID
	}
	api := New(Config{Service: svc, Logger: log, Limits: limits})
	api.limits.now = clock.now
	e.srv = httptest.NewServer(api)
	t.Cleanup(e.srv.Close)
	return se
}

// signIn posts a sign-in and returns the status and answer.
func (se *sessionEnv) signIn(tenant, email, pw string) (int, map[string]any) {
	body, _ := json.Marshal(service.SignInInput{Tenant: tenant, Email: email, Password: pw})
	return se.do("POST", "/v1/sessions", "", string(body))
}

// token signs in and returns the session token and id, failing the test
// otherwise.
func (se *sessionEnv) token(email, pw string) (string, string) {
	se.t.Helper()
	st, ans := se.signIn("acme", email, pw)
	if st != 201 {
		se.t.Fatalf("sign-in as %s: %d %v", email, st, ans)
	}
	return ans["token"].(string), ans["id"].(string)
}

// actions returns the audit events written after seq as "action/actor
// type/actor id/tenant/fields".
func (se *sessionEnv) actions(since int64) []string {
	var out []string
	for _, ev := range se.auditAfter(since) {
		out = append(out, fmt.Sprintf("%s/%s/%s/%s/%s", ev.Action, ev.ActorType, ev.ActorID, ev.TenantID, strings.Join(ev.Fields, ",")))
	}
	return out
}

// secrets lists what must never be in a log line or an audit event.
func (se *sessionEnv) secrets(tokens []string) []string {
	out := append([]string{testPassword, otherPass, annaEmail, boEmail, cyEmail, "nobody@example.com", "wrong password 123"}, tokens...)
	return append(out, se.keys[auth.Owner], se.foreign)
}

func (se *sessionEnv) checkNoLeaks(t *testing.T, tokens []string) {
	t.Helper()
	logs := se.logs.String()
	evs := se.auditAfter(0)
	for _, x := range se.secrets(tokens) {
		if strings.Contains(logs, x) {
			t.Errorf("log output contains a secret or an address (%.8s…)", x)
		}
		for _, ev := range evs {
			text := strings.Join(append([]string{ev.ObjectID, ev.ObjectType, ev.ContactID, ev.ActorID, ev.RequestID, string(ev.Reason)}, ev.Fields...), "|")
			if strings.Contains(text, x) {
				t.Errorf("audit event %s holds %.8s… in clear", ev.Action, x)
			}
		}
	}
}

// TestSignIn: every way of getting the credentials wrong answers the same
// 401, and is audited without the address or password; the right ones
// open a session that acts as the user.
func TestSignIn(t *testing.T) {
	se := newSessionEnv(t, nil, service.SessionConfig{})
	// A deleted user cannot sign in.
	ctx := context.Background()
	gone, err := se.svc.CreateUser(ctx, service.Operator(se.tenant), service.UserInput{Email: "gone@example.org", Role: "support", Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	if err := se.svc.DeleteUser(ctx, service.Operator(se.tenant), gone.ID); err != nil {
		t.Fatal(err)
	}
	anna := se.users["anna"]
	var wrongBody string
	var tokens []string
	for _, c := range []struct {
		name, tenant, email, pw string
		status                  int
		audit                   string // the one event expected, as sessionEnv.actions writes it
	}{
		{"right password", "acme", annaEmail, testPassword, 201, "session.create/user/" + anna + "/" + se.tenant + "/"},
		{"address in another case", "acme", " Anna@Example.COM ", testPassword, 201, "session.create/user/" + anna + "/" + se.tenant + "/"},
		{"tenant by id", se.tenant, annaEmail, testPassword, 201, "session.create/user/" + anna + "/" + se.tenant + "/"},
		{"wrong password", "acme", annaEmail, "wrong password 123", 401, "auth.failed/user/" + anna + "/" + se.tenant + "/password"},
		{"unknown e-mail", "acme", "nobody@example.com", testPassword, 401, "auth.failed/anonymous//" + se.tenant + "/email"},
		{"malformed e-mail", "acme", "not an address", testPassword, 401, "auth.failed/anonymous//" + se.tenant + "/email"},
		{"unknown tenant", "initech", annaEmail, testPassword, 401, "auth.failed/anonymous///tenant"},
		{"empty", "", "", "", 401, "auth.failed/anonymous///tenant"},
		{"deleted user", "acme", "gone@example.org", testPassword, 401, "auth.failed/anonymous//" + se.tenant + "/email"},
		{"the other tenant's password", "acme", annaEmail, otherPass, 401, "auth.failed/user/" + anna + "/" + se.tenant + "/password"},
		{"the other tenant's own user", "globex", annaEmail, otherPass, 201,
			"session.create/user/" + se.users["globex-anna"] + "/" + se.other + "/"},
		{"over-long password", "acme", annaEmail, strings.Repeat("x", 2000), 401, "auth.failed/user/" + anna + "/" + se.tenant + "/password"},
	} {
		since := se.auditSeq()
		body, _ := json.Marshal(service.SignInInput{Tenant: c.tenant, Email: c.email, Password: c.pw})
		status, ans := se.matrixDo("POST", "/v1/sessions", "", string(body), nil)
		if status != c.status {
			t.Fatalf("%s: %d %s, want %d", c.name, status, ans, c.status)
		}
		if got := se.actions(since); !slices.Equal(got, []string{c.audit}) {
			t.Errorf("%s: audit %v, want [%s]", c.name, got, c.audit)
		}
		if status == 401 {
			// Which part was wrong is not said: every failure reads the same.
			if wrongBody == "" {
				wrongBody = ans
			}
			if ans != wrongBody || !strings.Contains(ans, `"code":"invalid_credentials"`) {
				t.Errorf("%s: %s; want the same problem as every failure: %s", c.name, ans, wrongBody)
			}
			continue
		}
		var ns service.NewSession
		if err := json.Unmarshal([]byte(ans), &ns); err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, ns.Token)
		if !auth.LooksLikeSessionToken(ns.Token) || ns.ID == "" || ns.UserID == "" || ns.Role == "" ||
			!ns.ExpiresAt.Equal(se.clock.now().Add(sessionLife)) || !ns.IdleExpiresAt.Equal(se.clock.now().Add(sessionIdle)) {
			t.Errorf("%s: session %+v", c.name, ns)
		}
		if strings.Contains(ans, "hash") {
			t.Errorf("%s: the answer shows a hash: %s", c.name, ans)
		}
	}
	// The tokens differ and are stored only as hashes.
	if len(tokens) != 4 || tokens[0] == tokens[1] {
		t.Fatalf("tokens %d", len(tokens))
	}
	se.store.Read(ctx, func(tx store.Tx) error {
		ss, err := tx.ListSessions(ctx, se.tenant)
		if err != nil || len(ss) != 3 {
			t.Fatalf("sessions %d, %v", len(ss), err)
		}
		for _, s := range ss {
			if strings.Contains(string(s.TokenHash), "cgs_") || len(s.TokenHash) != 32 {
				t.Errorf("stored token hash %x", s.TokenHash)
			}
		}
		return nil
	})
	se.checkNoLeaks(t, tokens)
}

// TestSessionUse: a session authenticates like a key, acts with its
// user's role in its user's tenant, is audited as the user, and ends at
// sign-out, revocation, the user's deletion or a change of its role.
func TestSessionUse(t *testing.T) {
	se := newSessionEnv(t, nil, service.SessionConfig{})
	annaTok, annaSess := se.token(annaEmail, testPassword)
	boTok, boSess := se.token(boEmail, testPassword)
	cyTok, cySess := se.token(cyEmail, testPassword)
	st, ans := se.signIn("globex", annaEmail, otherPass)
	if st != 201 {
		t.Fatal(st, ans)
	}
	globexSess, globexTok := ans["id"].(string), ans["token"].(string)
	anna, bo, cy := se.users["anna"], se.users["bo"], se.users["cy"]
	for _, c := range []struct {
		name, method, path, token string
		status                    int
		audit                     []string
		check                     func(ans map[string]any) bool
	}{
		{"who am I", "GET", "/v1/sessions/current", annaTok, 200, nil, func(a map[string]any) bool {
			s, _ := a["session"].(map[string]any)
			return a["actor_type"] == "user" && a["actor_id"] == anna && a["role"] == "compliance" && a["tenant_id"] == se.tenant &&
				s != nil && s["id"] == annaSess && fmt.Sprint(a["permissions"]) == fmt.Sprint(auth.Compliance.Permissions())
		}},
		{"a session of the other tenant acts there", "GET", "/v1/sessions/current", globexTok, 200, nil, func(a map[string]any) bool {
			return a["tenant_id"] == se.other && a["actor_id"] == se.users["globex-anna"] && a["role"] == "support"
		}},
		{"who am I, as a key", "GET", "/v1/sessions/current", se.keys[owner], 200, nil, func(a map[string]any) bool {
			return a["actor_type"] == "key" && a["actor_id"] == se.keyIDs[owner] && a["session"] == nil
		}},
		{"a key has no session to end", "DELETE", "/v1/sessions/current", se.keys[owner], 404, nil, nil},
		{"compliance reads the audit trail", "GET", "/v1/audit?limit=1", annaTok, 200,
			[]string{"audit.read/user/" + anna + "/" + se.tenant}, nil},
		{"compliance may not make keys", "POST", "/v1/keys", annaTok, 403,
			[]string{"access.denied/user/" + anna + "/" + se.tenant}, nil},
		{"support may not read the audit trail", "GET", "/v1/audit", boTok, 403,
			[]string{"access.denied/user/" + bo + "/" + se.tenant}, nil},
		{"support may not list sessions", "GET", "/v1/sessions", boTok, 403,
			[]string{"access.denied/user/" + bo + "/" + se.tenant}, nil},
		{"support may not end another's session", "DELETE", "/v1/sessions/" + cySess, boTok, 403,
			[]string{"access.denied/user/" + bo + "/" + se.tenant}, nil},
		{"admin lists its tenant's sessions only", "GET", "/v1/sessions", cyTok, 200,
			[]string{"session.list/user/" + cy + "/" + se.tenant}, func(a map[string]any) bool {
				ss := a["sessions"].([]any)
				for _, s := range ss {
					if s.(map[string]any)["tenant_id"] != se.tenant || s.(map[string]any)["id"] == globexSess {
						return false
					}
				}
				return len(ss) == 3
			}},
		{"another tenant's session is not found", "DELETE", "/v1/sessions/" + globexSess, cyTok, 404, nil, nil},
		{"admin makes a user, as itself", "POST", "/v1/users", cyTok, 201,
			[]string{"user.create/user/" + cy + "/" + se.tenant}, nil},
		{"admin may not end the session of a user with powers it lacks", "DELETE", "/v1/sessions/" + annaSess, cyTok, 403,
			[]string{"access.denied/user/" + cy + "/" + se.tenant}, nil},
		{"admin ends bo's session", "DELETE", "/v1/sessions/" + boSess, cyTok, 204,
			[]string{"session.revoke/user/" + cy + "/" + se.tenant}, nil},
		{"bo's token is void", "GET", "/v1/sessions/current", boTok, 401,
			[]string{"auth.failed/anonymous//"}, nil},
		{"sign out", "DELETE", "/v1/sessions/current", annaTok, 204,
			[]string{"session.revoke/user/" + anna + "/" + se.tenant}, nil},
		{"signed out: the token no longer works", "GET", "/v1/purposes", annaTok, 401,
			[]string{"auth.failed/anonymous//"}, nil},
		{"nor for signing out again", "DELETE", "/v1/sessions/current", annaTok, 401,
			[]string{"auth.failed/anonymous//"}, nil},
		{"a token of the right shape that was never issued", "GET", "/v1/purposes", auth.SessionPrefix + strings.Repeat("a", 52), 401,
			[]string{"auth.failed/anonymous//"}, nil},
	} {
		since := se.auditSeq()
		body := ""
		switch c.path {
		case "/v1/users":
			body = `{"email":"new@example.org","role":"support","password":"` + testPassword + `"}`
		case "/v1/keys":
			body = `{"role":"support"}`
		}
		status, ans := se.do(c.method, c.path, c.token, body)
		if status != c.status {
			t.Fatalf("%s: %d %v, want %d", c.name, status, ans, c.status)
		}
		var got []string
		for _, a := range se.actions(since) {
			got = append(got, a[:strings.LastIndex(a, "/")])
		}
		if !slices.Equal(got, c.audit) {
			t.Errorf("%s: audit %v, want %v", c.name, got, c.audit)
		}
		if c.check != nil && !c.check(ans) {
			t.Errorf("%s: answer %v", c.name, ans)
		}
	}
	se.checkNoLeaks(t, []string{annaTok, boTok, cyTok, globexTok})
}

// TestSessionEnds: the idle timeout, the lifetime, the user's deletion and
// a change of the user's role end a session; each end is audited against
// it and deletes it. Use keeps a session alive until its lifetime.
func TestSessionEnds(t *testing.T) {
	se := newSessionEnv(t, nil, service.SessionConfig{})
	ctx := context.Background()
	get := func(tok string) int {
		st, _ := se.do("GET", "/v1/purposes", tok, nil)
		return st
	}
	exists := func(id string) bool {
		err := se.store.Read(ctx, func(tx store.Tx) error { _, err := tx.GetSession(ctx, se.tenant, id); return err })
		return err == nil
	}
	ended := func(name, id, field string, since int64) {
		t.Helper()
		if exists(id) {
			t.Errorf("%s: the session is still stored", name)
		}
		var found bool
		for _, ev := range se.auditAfter(since) {
			found = found || (ev.Action == audit.AuthFailed && ev.ObjectID == id && ev.ActorType == audit.ActorUser &&
				slices.Equal(ev.Fields, []string{field}) && ev.TenantID == se.tenant)
		}
		if !found {
			t.Errorf("%s: no auth.failed event for session %s with field %s: %v", name, id, field, se.actions(since))
		}
	}

	// Idle: unused for the idle timeout.
	idleTok, idleID := se.token(annaEmail, testPassword)
	se.clock.advance(sessionIdle - time.Second)
	if st := get(idleTok); st != 200 {
		t.Fatalf("just inside the idle timeout: %d", st)
	}
	se.clock.advance(sessionIdle - time.Second) // used a moment ago: still alive
	if st := get(idleTok); st != 200 {
		t.Fatalf("used within the idle timeout: %d", st)
	}
	since := se.auditSeq()
	se.clock.advance(sessionIdle)
	if st := get(idleTok); st != 401 {
		t.Fatalf("idle: %d", st)
	}
	ended("idle", idleID, "last_seen_at", since)

	// Lifetime: used every 20 minutes, it still ends after 12 hours.
	lifeTok, lifeID := se.token(annaEmail, testPassword)
	for elapsed := time.Duration(0); elapsed < sessionLife-20*time.Minute; elapsed += 20 * time.Minute {
		se.clock.advance(20 * time.Minute)
		if st := get(lifeTok); st != 200 {
			t.Fatalf("in use after %v: %d", elapsed+20*time.Minute, st)
		}
	}
	since = se.auditSeq()
	se.clock.advance(20 * time.Minute)
	if st := get(lifeTok); st != 401 {
		t.Fatalf("past the lifetime: %d", st)
	}
	ended("lifetime", lifeID, "expires_at", since)

	// Deleting the user ends its sessions at once.
	boTok, boID := se.token(boEmail, testPassword)
	cyTok, _ := se.token(cyEmail, testPassword)
	if st, ans := se.do("DELETE", "/v1/users/"+se.users["bo"], cyTok, nil); st != 204 {
		t.Fatal(st, ans)
	}
	if st := get(boTok); st != 401 || exists(boID) {
		t.Fatalf("after the user's deletion: %d, stored %v", st, exists(boID))
	}

	// A session made with another role than the user has now is void: a
	// lowered role takes effect on the next request.
	raised := &store.Session{ID: "01JDSESSIONROLE00000000000", TenantID: se.tenant, UserID: se.users["anna"], Role: "owner",
		TokenHash: auth.HashKey(auth.SessionPrefix + strings.Repeat("b", 52)), CreatedAt: se.clock.now(),
		LastSeenAt: se.clock.now(), ExpiresAt: se.clock.now().Add(time.Hour)}
	if err := se.store.Write(ctx, func(tx store.Tx) error { return tx.CreateSession(ctx, raised) }); err != nil {
		t.Fatal(err)
	}
	since = se.auditSeq()
	if st := get(auth.SessionPrefix + strings.Repeat("b", 52)); st != 401 {
		t.Fatalf("session with a role the user no longer has: %d", st)
	}
	ended("role", raised.ID, "role", since)

	// The sweep removes ended sessions nobody uses again.
	_, sweptID := se.token(annaEmail, testPassword)
	liveTok, liveID := se.token(cyEmail, testPassword)
	se.clock.advance(sessionIdle / 2)
	if st := get(liveTok); st != 200 {
		t.Fatal(st)
	}
	se.clock.advance(sessionIdle/2 + time.Second)
	n, err := se.svc.PurgeSessions(ctx)
	if err != nil || n < 1 || exists(sweptID) || !exists(liveID) {
		t.Errorf("purge: %d %v; idle one stored %v, live one stored %v", n, err, exists(sweptID), exists(liveID))
	}
	se.checkNoLeaks(t, []string{idleTok, lifeTok, boTok, cyTok, liveTok})
}

// TestSignInBackoff: repeated failed sign-ins to one account are answered
// 429 for a growing time, whichever address they come from and whether or
// not the account exists; a blocked address is refused before its
// password is checked.
func TestSignInBackoff(t *testing.T) {
	t.Run("account", func(t *testing.T) {
		se := newSessionEnv(t, &Limits{FailuresAllowed: 1000, FailureBackoff: time.Second, FailureBackoffMax: time.Minute, FailureWindow: time.Hour},
			service.SessionConfig{FailuresAllowed: 2, Backoff: time.Second, BackoffMax: 4 * time.Second, FailureWindow: time.Hour})
		expect := func(what, email, pw string, status int, limit string, retry string) {
			t.Helper()
			st, ans := se.signIn("acme", email, pw)
			if st != status || (limit != "" && (ans["limit"] != limit || fmt.Sprint(ans["retry_after"]) != retry)) {
				t.Fatalf("%s: %d %v, want %d limit %s retry %s", what, st, ans, status, limit, retry)
			}
		}
		for _, email := range []string{annaEmail, "nobody@example.com"} {
			expect("failure 1", email, "wrong password 123", 401, "", "")
			expect("failure 2", email, "wrong password 123", 401, "", "")
			expect("failure 3 starts the backoff", email, "wrong password 123", 401, "", "")
			since := se.auditSeq()
			expect("blocked, even with the right password", email, testPassword, 429, "account", "1")
			if got := se.actions(since); len(got) != 0 {
				t.Errorf("a refusal by the backoff wrote audit events %v", got)
			}
			se.clock.advance(time.Second)
			expect("failure 4 doubles it", email, "wrong password 123", 401, "", "")
			expect("blocked for 2s", email, testPassword, 429, "account", "2")
			se.clock.advance(10 * time.Second)
			expect("failure 5", email, "wrong password 123", 401, "", "")
			se.clock.advance(10 * time.Second)
			expect("failure 6 is capped", email, "wrong password 123", 401, "", "")
			expect("capped at 4s", email, testPassword, 429, "account", "4")
		}
		expect("another account is not affected", boEmail, testPassword, 201, "", "")
		se.clock.advance(4 * time.Second)
		expect("after the backoff, the right password", annaEmail, testPassword, 201, "", "")
		expect("which cleared the record", annaEmail, "wrong password 123", 401, "", "")
		expect("free again", annaEmail, "wrong password 123", 401, "", "")
		se.checkNoLeaks(t, nil)
	})
	t.Run("address", func(t *testing.T) {
		se := newSessionEnv(t, &Limits{FailuresAllowed: 2, FailureBackoff: time.Second, FailureBackoffMax: time.Minute, FailureWindow: time.Hour},
			service.SessionConfig{FailuresAllowed: 1000})
		for i, email := range []string{annaEmail, boEmail, "nobody@example.com"} {
			if st, ans := se.signIn("acme", email, "wrong password 123"); st != 401 {
				t.Fatalf("failure %d: %d %v", i+1, st, ans)
			}
		}
		since := se.auditSeq()
		st, ans := se.signIn("acme", cyEmail, testPassword)
		if st != 429 || ans["limit"] != "address" {
			t.Fatalf("blocked address: %d %v", st, ans)
		}
		if got := se.actions(since); len(got) != 0 {
			t.Errorf("a refusal by the backoff wrote audit events %v", got)
		}
		// The address's backoff covers keys and session tokens too.
		if st, _ := se.do("GET", "/v1/purposes", se.keys[owner], nil); st != 429 {
			t.Errorf("a key from the blocked address: %d", st)
		}
		se.clock.advance(time.Second)
		if st, _ := se.signIn("acme", cyEmail, testPassword); st != 201 {
			t.Errorf("after the backoff: %d", st)
		}
	})
}

// TestSignInTiming: a sign-in for an address that is no account takes
// about as long as one with a wrong password (both run argon2id), so that
// timing does not tell which accounts exist. The bound is loose: without
// the dummy hash the unknown address would answer a hundred times faster.
func TestSignInTiming(t *testing.T) {
	if testing.Short() {
		t.Skip("argon2id timing")
	}
	se := newSessionEnv(t, &Limits{}, service.SessionConfig{FailuresAllowed: 1000})
	measure := func(email string) time.Duration {
		best := time.Duration(1 << 62)
		for range 3 {
			start := time.Now()
			if st, _ := se.signIn("acme", email, "wrong password 123"); st != 401 {
				t.Fatal(st)
			}
			best = min(best, time.Since(start))
		}
		return best
	}
	known, unknown := measure(annaEmail), measure("nobody@example.com")
	if unknown < known/3 {
		t.Errorf("unknown address %v, wrong password %v: the difference tells which accounts exist", unknown, known)
	}
}
