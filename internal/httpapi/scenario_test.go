package httpapi

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/store"
)

// step is one request of a scenario. Paths and bodies may name variables as
// {var}; save stores a field of the answer under a variable; check asserts
// side effects beyond the status.
type step struct {
	name    string
	method  string
	path    string
	role    auth.Role // "" = no key; "foreign" handled by foreign
	foreign bool
	body    string
	hdr     []string
	status  int
	code    string // problem code expected on errors
	want    map[string]any
	save    map[string]string // var -> answer field
	check   func(t *testing.T, e *env, vars map[string]string, ans map[string]any)
	// audit names the audit events (by action) the step must write; the
	// runner checks that it writes exactly these, plus auth.failed for a
	// 401 and access.denied for a 403 (see checkAudit).
	audit []string
	// actor names the variable holding the id of the key the step uses
	// when that is not a role's key (a key a step created).
	actor string
}

func TestScenarios(t *testing.T) { runScenarios(t, openSQLite) }

// runScenarios runs every scenario against a fresh API over the store open
// returns, so each backend runs the same table.
func runScenarios(t *testing.T, open func(testing.TB) store.Store) {
	runScenarioList(t, open, append(scenarios(), accessScenarios()...))
}

// runScenarioList runs the given scenarios, each against a fresh API.
func runScenarioList(t *testing.T, open func(testing.TB) store.Store, list []scenario) {
	for _, sc := range list {
		t.Run(sc.name, func(t *testing.T) {
			e := newEnv(t, open)
			vars := map[string]string{"tenant": e.tenant}
			for r, id := range e.keyIDs {
				vars["key_"+string(r)] = id
			}
			for _, s := range sc.steps {
				subst := func(x string) string {
					for k, v := range vars {
						x = strings.ReplaceAll(x, "{"+k+"}", v)
					}
					return x
				}
				key := e.keys[s.role]
				if s.foreign {
					key = e.foreign
				}
				var body any
				if s.body != "" {
					body = subst(s.body)
				}
				since := e.auditSeq()
				hdr := make([]string, len(s.hdr))
				for i, h := range s.hdr {
					hdr[i] = subst(h)
				}
				status, ans := e.do(s.method, subst(s.path), key, body, hdr...)
				if status != s.status {
					t.Fatalf("%s: status %d, want %d (%v)", s.name, status, s.status, ans)
				}
				if s.code != "" && ans["code"] != s.code {
					t.Fatalf("%s: code %v, want %s (%v)", s.name, ans["code"], s.code, ans)
				}
				for k, v := range s.want {
					if fmt.Sprint(ans[k]) != fmt.Sprint(v) {
						t.Fatalf("%s: %s = %v, want %v (%v)", s.name, k, ans[k], v, ans)
					}
				}
				for v, field := range s.save {
					vars[v] = fmt.Sprint(ans[field])
				}
				if s.check != nil {
					s.check(t, e, vars, ans)
				}
				checkAudit(t, e, s, vars, since, status, ans, piiAndSecrets(e, vars))
			}
			// No identifier, API key or password ever reaches a log line.
			for _, x := range piiAndSecrets(e, vars) {
				if strings.Contains(e.logs.String(), x) {
					t.Fatalf("log output contains an identifier or a secret (%.8s…)", x)
				}
			}
		})
	}
}

type scenario struct {
	name  string
	steps []step
}

const owner = auth.Owner

func scenarios() []scenario {
	createAnna := step{name: "create contact", method: "POST", path: "/v1/contacts", role: owner,
		body:   `{"identifiers":{"phone":"+45 20 12 34 56","email":"Anna@Example.com"},"locale":"da-DK","attributes":{"first_name":"Anna"}}`,
		status: 201, save: map[string]string{"contact": "id"}, audit: []string{"contact.create"}}
	grant := func(purpose, channel, extra string) step {
		return step{name: "grant " + purpose + "/" + channel, method: "PUT", path: "/v1/contacts/{contact}/consents/" + purpose + "/" + channel, role: owner,
			body: `{"status":"granted","source":"web","evidence":{"form":"signup","ip":"203.0.113.7"}` + extra + `}`, status: 200, save: map[string]string{"event": "event_id"}, audit: []string{"consent.change"}}
	}
	decide := func(name, to, channel, purpose string, allowed bool, reason string) step {
		return step{name: name, method: "POST", path: "/v1/decisions", role: auth.Developer,
			body:   fmt.Sprintf(`{"to":%s,"channel":%q,"purpose":%q}`, to, channel, purpose),
			status: 200, want: map[string]any{"allowed": allowed, "reason": reason}}
	}
	phone := `{"phone":"+4520123456"}`
	return []scenario{
		{"purposes", []step{
			{name: "create", method: "POST", path: "/v1/purposes", role: owner,
				body:   `{"key":"newsletter","name":"News","description":"Monthly news","category":"marketing","basis":"consent","channels":["sms","email"],"double_opt_in":true}`,
				status: 201, want: map[string]any{"notice_version": 1, "double_opt_in": true}},
			{name: "duplicate", method: "POST", path: "/v1/purposes", role: owner,
				body: `{"key":"newsletter","name":"News","category":"marketing","basis":"consent","channels":["sms"]}`, status: 409, code: "conflict"},
			{name: "unknown channel", method: "POST", path: "/v1/purposes", role: owner,
				body: `{"key":"x","name":"X","category":"marketing","basis":"consent","channels":["pigeon"]}`, status: 422, code: "unknown_channel"},
			{name: "marketing on contract", method: "POST", path: "/v1/purposes", role: owner,
				body: `{"key":"x","name":"X","category":"marketing","basis":"contract","channels":["sms"]}`, status: 422, code: "invalid_purpose"},
			{name: "bad category", method: "POST", path: "/v1/purposes", role: owner,
				body: `{"key":"x","name":"X","category":"spam","basis":"consent","channels":["sms"]}`, status: 422, code: "invalid_purpose"},
			{name: "get", method: "GET", path: "/v1/purposes/newsletter", role: auth.Marketer, status: 200, want: map[string]any{"name": "News"}},
			{name: "patch description bumps notice", method: "PATCH", path: "/v1/purposes/newsletter", role: auth.Marketer,
				body: `{"description":"Weekly news"}`, status: 200, want: map[string]any{"notice_version": 2, "description": "Weekly news"}},
			{name: "patch same description keeps notice", method: "PATCH", path: "/v1/purposes/newsletter", role: owner,
				body: `{"description":"Weekly news","name":"News!"}`, status: 200, want: map[string]any{"notice_version": 2, "name": "News!"}},
			{name: "patch invalid leaves it", method: "PATCH", path: "/v1/purposes/newsletter", role: owner,
				body: `{"channels":[]}`, status: 422, code: "invalid_purpose"},
			{name: "unchanged after refused patch", method: "GET", path: "/v1/purposes/newsletter", role: owner, status: 200,
				check: func(t *testing.T, e *env, _ map[string]string, ans map[string]any) {
					if fmt.Sprint(ans["channels"]) != "[sms email]" {
						t.Fatalf("channels = %v", ans["channels"])
					}
				}},
			{name: "patch missing", method: "PATCH", path: "/v1/purposes/nope", role: owner, body: `{"name":"x"}`, status: 404, code: "not_found"},
			{name: "list", method: "GET", path: "/v1/purposes", role: auth.Auditor, status: 200},
			{name: "developer cannot create", method: "POST", path: "/v1/purposes", role: auth.Developer,
				body: `{"key":"y","name":"Y","category":"service","basis":"contract","channels":["sms"]}`, status: 403, code: "forbidden"},
			{name: "other tenant does not see it", method: "GET", path: "/v1/purposes/newsletter", foreign: true, status: 404, code: "not_found"},
		}},
		{"consent lifecycle", []step{
			{name: "purpose", method: "POST", path: "/v1/purposes", role: owner,
				body: `{"key":"offers","name":"Offers","category":"marketing","basis":"consent","channels":["sms","whatsapp"],"consent_lifetime_days":365}`, status: 201},
			createAnna,
			decide("no consent yet", phone, "sms", "offers", false, "no_consent"),
			grant("offers", "sms", ""),
			{name: "state", method: "GET", path: "/v1/contacts/{contact}/consents", role: auth.Support, status: 200, audit: []string{"consent.list"},
				check: func(t *testing.T, e *env, v map[string]string, ans map[string]any) {
					cs := ans["consents"].([]any)
					if len(cs) != 1 || cs[0].(map[string]any)["event_id"] != v["event"] || cs[0].(map[string]any)["status"] != "granted" {
						t.Fatalf("consents = %v", cs)
					}
				}},
			decide("granted by phone", phone, "sms", "offers", true, "consent_granted"),
			decide("national format finds the same person", `{"phone":"20 12 34 56"}`, "sms", "offers", true, "consent_granted"),
			decide("by contact id", `{"contact_id":"{contact}"}`, "sms", "offers", true, "consent_granted"),
			decide("sms consent is not whatsapp consent", phone, "whatsapp", "offers", false, "no_consent"),
			decide("channel outside purpose", `{"email":"anna@example.com"}`, "email", "offers", false, "purpose_channel_not_allowed"),
			{name: "withdraw", method: "PUT", path: "/v1/contacts/{contact}/consents/offers/sms", role: owner,
				body: `{"status":"withdrawn","source":"api"}`, status: 200, want: map[string]any{"status": "withdrawn"}, audit: []string{"consent.change"},
				check: func(t *testing.T, e *env, v map[string]string, _ map[string]any) {
					if n := e.counts(e.tenant, v["contact"]); n != 2 {
						t.Fatalf("events = %d, want 2 (append-only)", n)
					}
				}},
			decide("withdrawn takes effect at once", phone, "sms", "offers", false, "consent_withdrawn"),
			{name: "object", method: "PUT", path: "/v1/contacts/{contact}/consents/offers/whatsapp", role: owner,
				body: `{"status":"objected"}`, status: 200, audit: []string{"consent.change"}},
			decide("objected", phone, "whatsapp", "offers", false, "objected"),
		}},
		{"double opt-in", []step{
			{name: "purpose", method: "POST", path: "/v1/purposes", role: owner,
				body: `{"key":"newsletter","name":"News","category":"marketing","basis":"consent","channels":["sms","email"],"double_opt_in":true}`, status: 201},
			createAnna,
			{name: "grant without confirmation is pending", method: "PUT", path: "/v1/contacts/{contact}/consents/newsletter/email", role: owner,
				body: `{"status":"granted"}`, status: 200, want: map[string]any{"status": "pending", "confirmed": false}, audit: []string{"consent.change"}},
			decide("pending", `{"email":"ANNA@example.com"}`, "email", "newsletter", false, "consent_pending"),
			{name: "confirmed grant", method: "PUT", path: "/v1/contacts/{contact}/consents/newsletter/email", role: owner,
				body: `{"status":"granted","confirmed":true,"evidence":{"confirmation":"link-click"}}`, status: 200, want: map[string]any{"status": "granted", "confirmed": true}, audit: []string{"consent.change"}},
			decide("confirmed", `{"email":"anna@example.com"}`, "email", "newsletter", true, "consent_granted"),
		}},
		{"contract and legal bases", []step{
			{name: "purpose", method: "POST", path: "/v1/purposes", role: owner,
				body: `{"key":"order-updates","name":"Orders","category":"service","basis":"contract","channels":["sms"]}`, status: 201},
			decide("contract without contact", `{"phone":"+4531415926"}`, "sms", "order-updates", true, "contract"),
			createAnna,
			{name: "stop the channel", method: "PUT", path: "/v1/contacts/{contact}/consents/order-updates/sms", role: owner,
				body: `{"status":"withdrawn"}`, status: 200, audit: []string{"consent.change"}},
			decide("channel stopped", phone, "sms", "order-updates", false, "channel_stopped"),
		}},
		{"contacts and masking", []step{
			createAnna,
			{name: "masked by default", method: "GET", path: "/v1/contacts/{contact}", role: auth.Support, status: 200, audit: []string{"contact.read"},
				check: func(t *testing.T, e *env, _ map[string]string, ans map[string]any) {
					ids := ans["identifiers"].(map[string]any)
					if ids["phone"] != "+45 •• •• •4 56" || ids["email"] != "a•••@example.com" || ans["revealed"] != false {
						t.Fatalf("identifiers = %v", ids)
					}
				}},
			{name: "reveal with reason", method: "GET", path: "/v1/contacts/{contact}", role: owner, hdr: []string{"X-Reveal-Reason", "ticket 4711"}, status: 200, audit: []string{"contact.reveal"},
				check: func(t *testing.T, e *env, _ map[string]string, ans map[string]any) {
					ids := ans["identifiers"].(map[string]any)
					if ids["phone"] != "+4520123456" || ids["email"] != "anna@example.com" {
						t.Fatalf("identifiers = %v", ids)
					}
				}},
			{name: "support may not reveal", method: "GET", path: "/v1/contacts/{contact}", role: auth.Support, hdr: []string{"X-Reveal-Reason", "curious"}, status: 403, code: "forbidden"},
			{name: "marketer never sees contacts", method: "GET", path: "/v1/contacts/{contact}", role: auth.Marketer, status: 403},
			{name: "lookup by body", method: "POST", path: "/v1/contacts/lookup", role: auth.Support, body: `{"email":"ANNA@EXAMPLE.COM"}`, status: 200, audit: []string{"contact.lookup"},
				check: func(t *testing.T, e *env, v map[string]string, ans map[string]any) {
					if ans["id"] != v["contact"] {
						t.Fatalf("lookup found %v", ans["id"])
					}
				}},
			{name: "lookup unknown", method: "POST", path: "/v1/contacts/lookup", role: owner, body: `{"phone":"+4531415926"}`, status: 404, audit: []string{"contact.lookup"}},
			{name: "lookup two identifiers", method: "POST", path: "/v1/contacts/lookup", role: owner, body: `{"phone":"+4531415926","email":"a@b.dk"}`, status: 400},
			{name: "duplicate identifier", method: "POST", path: "/v1/contacts", role: owner, body: `{"identifiers":{"phone":"+4520123456"}}`, status: 409, code: "conflict"},
			{name: "bad phone", method: "POST", path: "/v1/contacts", role: owner, body: `{"identifiers":{"phone":"not a number"}}`, status: 422, code: "invalid_identifier"},
			{name: "bad email", method: "POST", path: "/v1/contacts", role: owner, body: `{"identifiers":{"email":"anna(at)example"}}`, status: 422, code: "invalid_identifier"},
			{name: "unknown identifier kind", method: "POST", path: "/v1/contacts", role: owner, body: `{"identifiers":{"fax":"1234"}}`, status: 400, code: "invalid_request"},
			{name: "foreign tenant", method: "GET", path: "/v1/contacts/{contact}", foreign: true, status: 404, code: "not_found"},
			{name: "foreign tenant consents", method: "GET", path: "/v1/contacts/{contact}/consents", foreign: true, status: 404},
			{name: "foreign tenant lookup", method: "POST", path: "/v1/contacts/lookup", foreign: true, body: `{"phone":"+4520123456"}`, status: 404, audit: []string{"contact.lookup"}},
		}},
		{"bad input leaves nothing behind", []step{
			{name: "purpose", method: "POST", path: "/v1/purposes", role: owner,
				body: `{"key":"offers","name":"Offers","category":"marketing","basis":"consent","channels":["sms"]}`, status: 201},
			createAnna,
			{name: "malformed json", method: "PUT", path: "/v1/contacts/{contact}/consents/offers/sms", role: owner, body: `{"status":`, status: 400, code: "invalid_request"},
			{name: "unknown field", method: "PUT", path: "/v1/contacts/{contact}/consents/offers/sms", role: owner, body: `{"status":"granted","colour":"red"}`, status: 400, code: "invalid_request"},
			{name: "wrong type", method: "PUT", path: "/v1/contacts/{contact}/consents/offers/sms", role: owner, body: `{"status":1}`, status: 400, code: "invalid_request"},
			{name: "two values", method: "PUT", path: "/v1/contacts/{contact}/consents/offers/sms", role: owner, body: `{"status":"granted"} {}`, status: 400},
			{name: "bad status", method: "PUT", path: "/v1/contacts/{contact}/consents/offers/sms", role: owner, body: `{"status":"maybe"}`, status: 422, code: "invalid_consent"},
			{name: "pending not settable", method: "PUT", path: "/v1/contacts/{contact}/consents/offers/sms", role: owner, body: `{"status":"pending"}`, status: 422, code: "invalid_consent"},
			{name: "unknown purpose", method: "PUT", path: "/v1/contacts/{contact}/consents/nope/sms", role: owner, body: `{"status":"granted"}`, status: 422, code: "unknown_purpose"},
			{name: "unknown channel", method: "PUT", path: "/v1/contacts/{contact}/consents/offers/pigeon", role: owner, body: `{"status":"granted"}`, status: 422, code: "unknown_channel"},
			{name: "channel not in purpose", method: "PUT", path: "/v1/contacts/{contact}/consents/offers/email", role: owner, body: `{"status":"granted"}`, status: 422, code: "channel_not_allowed"},
			{name: "unknown contact", method: "PUT", path: "/v1/contacts/01JDZZZZZZZZZZZZZZZZZZZZZZ/consents/offers/sms", role: owner, body: `{"status":"granted"}`, status: 404},
			{name: "evidence not an object", method: "PUT", path: "/v1/contacts/{contact}/consents/offers/sms", role: owner, body: `{"status":"granted","evidence":[1]}`, status: 400},
			{name: "future occurred_at", method: "PUT", path: "/v1/contacts/{contact}/consents/offers/sms", role: owner, body: `{"status":"granted","occurred_at":"2999-01-01T00:00:00Z"}`, status: 422},
			{name: "too large", method: "PUT", path: "/v1/contacts/{contact}/consents/offers/sms", role: owner,
				body: `{"status":"granted","evidence":{"x":"` + strings.Repeat("a", 2<<20) + `"}}`, status: 413, code: "request_too_large"},
			{name: "wrong content type", method: "POST", path: "/v1/decisions", role: owner, body: `{}`, hdr: []string{"Content-Type", "text/plain"}, status: 415},
			{name: "nothing was written", method: "GET", path: "/v1/contacts/{contact}/consents", role: owner, status: 200, audit: []string{"consent.list"},
				check: func(t *testing.T, e *env, v map[string]string, ans map[string]any) {
					if n := e.counts(e.tenant, v["contact"]); n != 0 {
						t.Fatalf("%d events written by refused requests", n)
					}
				}},
			{name: "decision bad phone", method: "POST", path: "/v1/decisions", role: owner, body: `{"to":{"phone":"12"},"channel":"sms","purpose":"offers"}`, status: 422, code: "invalid_identifier"},
			{name: "decision unknown purpose", method: "POST", path: "/v1/decisions", role: owner, body: `{"to":{"phone":"+4520123456"},"channel":"sms","purpose":"nope"}`, status: 422, code: "unknown_purpose"},
			{name: "decision unknown channel", method: "POST", path: "/v1/decisions", role: owner, body: `{"to":{"phone":"+4520123456"},"channel":"fax","purpose":"offers"}`, status: 422, code: "unknown_channel"},
			{name: "decision email for sms", method: "POST", path: "/v1/decisions", role: owner, body: `{"to":{"email":"a@example.com"},"channel":"sms","purpose":"offers"}`, status: 400},
			{name: "decision no recipient", method: "POST", path: "/v1/decisions", role: owner, body: `{"to":{},"channel":"sms","purpose":"offers"}`, status: 400},
			{name: "unknown route", method: "GET", path: "/v1/nothing", role: owner, status: 404},
		}},
		{"authentication", []step{
			{name: "no key", method: "GET", path: "/v1/purposes", status: 401, code: "unauthenticated"},
			{name: "malformed key", method: "GET", path: "/v1/purposes", hdr: []string{"Authorization", "Bearer hello"}, status: 401},
			{name: "unknown key", method: "GET", path: "/v1/purposes", hdr: []string{"Authorization", "Bearer cg_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}, status: 401},
			{name: "basic auth", method: "GET", path: "/v1/purposes", hdr: []string{"Authorization", "Basic Y2c6eA=="}, status: 401},
			{name: "health is public", method: "GET", path: "/healthz", status: 200},
			{name: "ready is public", method: "GET", path: "/readyz", status: 200},
			{name: "auditor cannot decide", method: "POST", path: "/v1/decisions", role: auth.Auditor, body: `{"to":{"phone":"+4520123456"},"channel":"sms","purpose":"x"}`, status: 403},
		}},
		{"batch decisions", []step{
			{name: "purpose", method: "POST", path: "/v1/purposes", role: owner,
				body: `{"key":"offers","name":"Offers","category":"marketing","basis":"consent","channels":["sms"]}`, status: 201},
			createAnna,
			grant("offers", "sms", ""),
			{name: "batch", method: "POST", path: "/v1/decisions/batch", role: auth.Developer,
				body:   `{"decisions":[{"to":{"phone":"+4520123456"},"channel":"sms","purpose":"offers"},{"to":{"phone":"+4531415926"},"channel":"sms","purpose":"offers"},{"to":{"phone":"x"},"channel":"sms","purpose":"offers"}]}`,
				status: 200, check: func(t *testing.T, e *env, _ map[string]string, ans map[string]any) {
					ds := ans["decisions"].([]any)
					got := fmt.Sprintln(ds[0].(map[string]any)["allowed"], ds[1].(map[string]any)["reason"], ds[2].(map[string]any)["error"].(map[string]any)["code"])
					if got != "true no_consent invalid_identifier\n" {
						t.Fatalf("batch = %v", ds)
					}
				}},
			{name: "empty batch", method: "POST", path: "/v1/decisions/batch", role: owner, body: `{"decisions":[]}`, status: 400},
		}},
	}
}

// TestTooManyInBatch is separate: its body is generated.
func TestTooManyInBatch(t *testing.T) {
	e := newEnv(t, openSQLite)
	items := strings.Repeat(`{"to":{"contact_id":"01JDZZZZZZZZZZZZZZZZZZZZZZ"},"channel":"sms","purpose":"x"},`, 1001)
	status, ans := e.do(http.MethodPost, "/v1/decisions/batch", e.keys[owner], `{"decisions":[`+strings.TrimSuffix(items, ",")+`]}`)
	if status != 400 || ans["code"] != "invalid_request" {
		t.Fatalf("status %d %v", status, ans)
	}
}
