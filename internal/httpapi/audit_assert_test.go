package httpapi

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/consentgate/consentgate/internal/audit"
	"github.com/consentgate/consentgate/internal/store"
)

// auditSeq returns the highest audit sequence number written so far.
func (e *env) auditSeq() int64 {
	e.t.Helper()
	var last int64
	for {
		evs := e.auditAfter(last)
		if len(evs) == 0 {
			return last
		}
		last = evs[len(evs)-1].Seq
	}
}

// auditAfter returns the audit events written after seq, of every tenant.
func (e *env) auditAfter(seq int64) []*audit.Event {
	e.t.Helper()
	var evs []*audit.Event
	if err := e.store.Read(context.Background(), func(tx store.Tx) (err error) {
		evs, err = tx.AuditEventsAfter(context.Background(), seq, 10000)
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return evs
}

// expectedAudit is what a step must leave in the audit trail: the actions
// the scenario names, plus the ones every refusal implies (a 401 is a
// failed authentication, a 403 forbidden a refused authorization), so that
// scenarios of other issues need not spell those out.
func expectedAudit(s step, status int, ans map[string]any) []string {
	want := append([]string(nil), s.audit...)
	switch {
	case status == 401:
		want = append(want, string(audit.AuthFailed))
	case status == 403 && ans["code"] == "forbidden":
		want = append(want, string(audit.AccessDenied))
	}
	slices.Sort(want)
	return want
}

// checkAudit asserts that the step wrote exactly the audit events it should
// (by action), each attributed to the step's key and tenant, with a request
// id, and none holding an identifier or a secret in clear.
func checkAudit(t *testing.T, e *env, s step, vars map[string]string, since int64, status int, ans map[string]any, secrets []string) {
	t.Helper()
	evs := e.auditAfter(since)
	var got []string
	for _, ev := range evs {
		got = append(got, string(ev.Action))
	}
	slices.Sort(got)
	want := expectedAudit(s, status, ans)
	if !slices.Equal(got, want) {
		t.Fatalf("%s: audit events %v, want %v", s.name, got, want)
	}
	tenant, keyID := e.tenant, e.keyIDs[s.role]
	if s.foreign {
		tenant, keyID = e.other, e.foreignKeyID
	}
	if s.actor != "" {
		keyID = vars[s.actor]
	}
	for _, ev := range evs {
		if ev.RequestID == "" {
			t.Errorf("%s: %s has no request id", s.name, ev.Action)
		}
		if ev.Action != audit.AuthFailed && (ev.TenantID != tenant || ev.ActorID != keyID || ev.ActorType != audit.ActorKey) {
			t.Errorf("%s: %s recorded as tenant %q actor %s/%q, want %q/%q", s.name, ev.Action, ev.TenantID, ev.ActorType, ev.ActorID, tenant, keyID)
		}
		text := strings.Join(append([]string{ev.ObjectID, ev.ObjectType, ev.ContactID, ev.ActorID, string(ev.Reason)}, ev.Fields...), "|")
		for _, x := range secrets {
			if strings.Contains(text, x) {
				t.Errorf("%s: audit event %s holds %q in clear", s.name, ev.Action, x)
			}
		}
	}
}

// piiAndSecrets lists what must never appear in a log line or an audit
// event of the scenarios: the identifiers they use, every API key secret of
// the environment, passwords, and secrets the steps saved.
func piiAndSecrets(e *env, vars map[string]string) []string {
	out := []string{"20123456", "20 12 34 56", "anna@example.com", "Anna@Example.com", "31415926", testPassword}
	for _, k := range e.keys {
		out = append(out, k)
	}
	out = append(out, e.foreign)
	for name, v := range vars {
		if strings.HasPrefix(name, "secret") && v != "" {
			out = append(out, v)
		}
	}
	return out
}

// testPassword is the password the scenarios give users.
const testPassword = "correct horse battery staple"
