package httpapi

import (
	"fmt"
	"strings"
	"testing"

	"github.com/consentgate/consentgate/internal/auth"
)

// accessScenarios cover issue 7 through the API: keys with scopes, users,
// the audit trail. runScenarios runs them with the others, on every store.
func accessScenarios() []scenario {
	bearer := func(v string) []string { return []string{"Authorization", "Bearer {" + v + "}"} }
	return []scenario{
		{"api keys", []step{
			{name: "create a scoped key", method: "POST", path: "/v1/keys", role: owner,
				body:   `{"role":"developer","scopes":["decisions"],"label":"ci","expires_at":"2999-01-01T00:00:00Z"}`,
				status: 201, save: map[string]string{"secret_ci": "secret", "ci": "id"}, audit: []string{"key.create"},
				check: func(t *testing.T, e *env, v map[string]string, ans map[string]any) {
					if !strings.HasPrefix(v["secret_ci"], auth.KeyPrefix) || fmt.Sprint(ans["scopes"]) != "[decisions]" || ans["hash"] != nil {
						t.Fatalf("created key = %v", ans)
					}
				}},
			{name: "scope outside the role", method: "POST", path: "/v1/keys", role: owner,
				body: `{"role":"developer","scopes":["audit:read"]}`, status: 400, code: "invalid_request"},
			{name: "unknown scope", method: "POST", path: "/v1/keys", role: owner, body: `{"role":"developer","scopes":["everything"]}`, status: 400},
			{name: "expiry in the past", method: "POST", path: "/v1/keys", role: owner, body: `{"role":"developer","expires_at":"2001-01-01T00:00:00Z"}`, status: 400},
			{name: "admin cannot mint an owner key", method: "POST", path: "/v1/keys", role: auth.Admin, body: `{"role":"owner"}`, status: 403, code: "forbidden"},
			{name: "admin may mint an owner key narrowed to its own powers", method: "POST", path: "/v1/keys", role: auth.Admin,
				body: `{"role":"owner","scopes":["purposes:read","contacts:read"]}`, status: 201, audit: []string{"key.create"}, save: map[string]string{"secret_narrow": "secret"}},
			{name: "support cannot make keys", method: "POST", path: "/v1/keys", role: auth.Support, body: `{"role":"support"}`, status: 403},
			{name: "list shows no secret", method: "GET", path: "/v1/keys", role: owner, status: 200, audit: []string{"key.list"},
				check: func(t *testing.T, e *env, v map[string]string, ans map[string]any) {
					ks := ans["keys"].([]any)
					if len(ks) != len(auth.Roles)+2 {
						t.Fatalf("%d keys listed", len(ks))
					}
					for _, k := range ks {
						m := k.(map[string]any)
						if m["secret"] != nil || m["hash"] != nil {
							t.Fatalf("listing shows a secret: %v", m)
						}
						if m["id"] == v["ci"] && fmt.Sprint(m["scopes"]) != "[decisions]" {
							t.Fatalf("scopes not listed: %v", m)
						}
					}
				}},
			{name: "the scoped key decides", method: "POST", path: "/v1/decisions", hdr: bearer("secret_ci"), actor: "ci",
				body: `{"to":{"phone":"+4520123456"},"channel":"sms","purpose":"x"}`, status: 422, code: "unknown_purpose"},
			{name: "the scope leaves out the rest of the role", method: "GET", path: "/v1/purposes", hdr: bearer("secret_ci"), actor: "ci", status: 403, code: "forbidden",
				check: func(t *testing.T, e *env, _ map[string]string, ans map[string]any) {
					if ans["permission"] != "purposes:read" {
						t.Fatalf("problem names %v", ans["permission"])
					}
				}},
			{name: "admin cannot revoke the owner's key", method: "DELETE", path: "/v1/keys/{key_owner}", role: auth.Admin, status: 403},
			{name: "foreign tenant cannot revoke it", method: "DELETE", path: "/v1/keys/{ci}", foreign: true, status: 404},
			{name: "revoke", method: "DELETE", path: "/v1/keys/{ci}", role: owner, status: 204, audit: []string{"key.revoke"}},
			{name: "revoked key stops at once", method: "GET", path: "/v1/purposes", hdr: bearer("secret_ci"), status: 401},
			{name: "revoking again changes nothing", method: "DELETE", path: "/v1/keys/{ci}", role: owner, status: 204},
			{name: "unknown key", method: "DELETE", path: "/v1/keys/01JDZZZZZZZZZZZZZZZZZZZZZZ", role: owner, status: 404},
		}},
		{"users", []step{
			{name: "admin cannot create a user who reads the audit trail", method: "POST", path: "/v1/users", role: auth.Admin,
				body: `{"email":"dpo@example.org","role":"compliance","password":"` + testPassword + `"}`, status: 403},
			{name: "create", method: "POST", path: "/v1/users", role: owner,
				body:   `{"email":"Dpo@Example.org","role":"compliance","password":"` + testPassword + `"}`,
				status: 201, save: map[string]string{"user": "id"}, want: map[string]any{"email": "dpo@example.org", "role": "compliance"}, audit: []string{"user.create"},
				check: func(t *testing.T, e *env, _ map[string]string, ans map[string]any) {
					if ans["password"] != nil || ans["password_hash"] != nil {
						t.Fatalf("answer shows the password: %v", ans)
					}
				}},
			{name: "same address again", method: "POST", path: "/v1/users", role: owner,
				body: `{"email":"dpo@example.org","role":"auditor","password":"` + testPassword + `"}`, status: 409},
			{name: "short password", method: "POST", path: "/v1/users", role: owner, body: `{"email":"x@example.org","role":"auditor","password":"short"}`, status: 400},
			{name: "bad address", method: "POST", path: "/v1/users", role: owner, body: `{"email":"nope","role":"auditor","password":"` + testPassword + `"}`, status: 422},
			{name: "admin cannot create an owner", method: "POST", path: "/v1/users", role: auth.Admin,
				body: `{"email":"boss@example.org","role":"owner","password":"` + testPassword + `"}`, status: 403},
			{name: "compliance cannot manage users", method: "GET", path: "/v1/users", role: auth.Compliance, status: 403},
			{name: "list", method: "GET", path: "/v1/users", role: auth.Admin, status: 200, audit: []string{"user.list"},
				check: func(t *testing.T, e *env, _ map[string]string, ans map[string]any) {
					us := ans["users"].([]any)
					if len(us) != 1 || us[0].(map[string]any)["email"] != "dpo@example.org" {
						t.Fatalf("users = %v", us)
					}
				}},
			{name: "foreign tenant sees none", method: "GET", path: "/v1/users", foreign: true, status: 200, audit: []string{"user.list"},
				check: func(t *testing.T, e *env, _ map[string]string, ans map[string]any) {
					if us := ans["users"].([]any); len(us) != 0 {
						t.Fatalf("foreign tenant sees %v", us)
					}
				}},
			{name: "foreign tenant cannot delete", method: "DELETE", path: "/v1/users/{user}", foreign: true, status: 404},
			{name: "delete", method: "DELETE", path: "/v1/users/{user}", role: owner, status: 204, audit: []string{"user.delete"}},
			{name: "gone", method: "DELETE", path: "/v1/users/{user}", role: owner, status: 404},
		}},
		{"audit trail", []step{
			{name: "create contact", method: "POST", path: "/v1/contacts", role: owner,
				body: `{"identifiers":{"phone":"+45 20 12 34 56"}}`, status: 201, save: map[string]string{"contact": "id"}, audit: []string{"contact.create"}},
			{name: "reveal", method: "GET", path: "/v1/contacts/{contact}", role: auth.Compliance, hdr: []string{"X-Reveal-Reason", "DSR 2026-17"},
				status: 200, audit: []string{"contact.reveal"}},
			{name: "who looked at this person", method: "GET", path: "/v1/audit?contact={contact}", role: auth.Auditor, status: 200, audit: []string{"audit.read"},
				check: func(t *testing.T, e *env, v map[string]string, ans map[string]any) {
					evs := ans["events"].([]any)
					if len(evs) != 2 {
						t.Fatalf("events = %v", evs)
					}
					rv := evs[0].(map[string]any)
					if rv["action"] != "contact.reveal" || rv["reason"] != "DSR 2026-17" || rv["actor_id"] != e.keyIDs[auth.Compliance] ||
						rv["role"] != "compliance" || rv["object_id"] != v["contact"] || rv["request_id"] == "" || rv["result"] != "ok" ||
						fmt.Sprint(rv["fields"]) != "[identifiers.phone]" {
						t.Fatalf("reveal event = %v", rv)
					}
				}},
			{name: "by actor and action", method: "GET", path: "/v1/audit?actor={key_owner}&action=contact.create", role: auth.Compliance, status: 200,
				audit: []string{"audit.read"}, check: func(t *testing.T, e *env, _ map[string]string, ans map[string]any) {
					if evs := ans["events"].([]any); len(evs) != 1 {
						t.Fatalf("events = %v", evs)
					}
				}},
			{name: "paging", method: "GET", path: "/v1/audit?limit=1", role: owner, status: 200, audit: []string{"audit.read"},
				save: map[string]string{"cursor": "next_cursor"}},
			{name: "next page", method: "GET", path: "/v1/audit?limit=1&cursor={cursor}", role: owner, status: 200, audit: []string{"audit.read"},
				check: func(t *testing.T, e *env, _ map[string]string, ans map[string]any) {
					if evs := ans["events"].([]any); len(evs) != 1 || ans["next_cursor"] == nil {
						t.Fatalf("page = %v", ans)
					}
				}},
			{name: "bad cursor", method: "GET", path: "/v1/audit?cursor=abc", role: owner, status: 400},
			{name: "bad time", method: "GET", path: "/v1/audit?from=yesterday", role: owner, status: 400},
			{name: "admin does not read the audit trail", method: "GET", path: "/v1/audit", role: auth.Admin, status: 403},
			{name: "support neither", method: "GET", path: "/v1/audit", role: auth.Support, status: 403},
			{name: "another tenant sees nothing of it", method: "GET", path: "/v1/audit?contact={contact}", foreign: true, status: 200, audit: []string{"audit.read"},
				check: func(t *testing.T, e *env, _ map[string]string, ans map[string]any) {
					if evs := ans["events"].([]any); len(evs) != 0 {
						t.Fatalf("foreign tenant sees %v", evs)
					}
				}},
		}},
	}
}
