package httpapi

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/service"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/oklog/ulid/v2"
)

// runSteps runs one scenario's steps against e (the same rules as
// runScenarios) and returns the variables it saved.
func runSteps(t testing.TB, e *env, steps []step) map[string]string {
	t.Helper()
	vars := map[string]string{"tenant": e.tenant}
	subst := func(x string) string {
		for k, v := range vars {
			x = strings.ReplaceAll(x, "{"+k+"}", v)
		}
		return x
	}
	for _, s := range steps {
		key := e.keys[s.role]
		if s.foreign {
			key = e.foreign
		}
		var body any
		if s.body != "" {
			body = subst(s.body)
		}
		status, ans := e.do(s.method, subst(s.path), key, body, s.hdr...)
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
			vars[v] = fmt.Sprint(jpath(ans, field))
		}
		if s.check != nil {
			s.check(t.(*testing.T), e, vars, ans) // checks run in tests, not benchmarks
		}
	}
	return vars
}

// jpath follows a dotted path into a decoded JSON answer.
func jpath(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

const (
	newsPurpose = `{"key":"newsletter","name":"News","description":"Monthly news","category":"marketing","basis":"consent","channels":["sms","email"]}`
	annaBody    = `{"identifiers":{"phone":"+45 20 12 34 56","email":"Anna@Example.com"},"attributes":{"first_name":"Anna"}}`
)

func privacySetup() []step {
	return []step{
		{name: "purpose", method: "POST", path: "/v1/purposes", role: owner, body: newsPurpose, status: 201},
		{name: "contact", method: "POST", path: "/v1/contacts", role: owner, body: annaBody, status: 201, save: map[string]string{"contact": "id"}},
		{name: "grant sms", method: "PUT", path: "/v1/contacts/{contact}/consents/newsletter/sms", role: owner,
			body: `{"status":"granted","source":"web","evidence":{"form":"signup","ip":"203.0.113.7"}}`, status: 200, save: map[string]string{"event": "event_id"}},
	}
}

func decideStep(name, to, want string) step {
	return step{name: name, method: "POST", path: "/v1/decisions", role: auth.Developer,
		body:   `{"to":` + to + `,"channel":"sms","purpose":"newsletter"}`,
		status: 200, want: map[string]any{"reason": want}}
}

func TestPrivacyScenarios(t *testing.T) {
	scenarios := []scenario{
		{"minimisation", []step{
			{name: "purpose", method: "POST", path: "/v1/purposes", role: owner, body: newsPurpose, status: 201},
			{name: "declare", method: "POST", path: "/v1/attributes", role: auth.Marketer,
				body: `{"name":"birthday","type":"date","category":"demographics","purpose":"newsletter","retention_days":365}`, status: 201},
			{name: "declare for an unknown purpose", method: "POST", path: "/v1/attributes", role: owner,
				body: `{"name":"x","type":"string","category":"c","purpose":"nope","retention_days":1}`, status: 422, code: "unknown_purpose"},
			{name: "declare without retention", method: "POST", path: "/v1/attributes", role: owner,
				body: `{"name":"y","type":"string","category":"c","purpose":"newsletter"}`, status: 400, code: "invalid_request"},
			{name: "support may not declare", method: "POST", path: "/v1/attributes", role: auth.Support,
				body: `{"name":"z","type":"string","category":"c","purpose":"newsletter","retention_days":1}`, status: 403},
			{name: "list", method: "GET", path: "/v1/attributes", role: owner, status: 200,
				check: func(t *testing.T, e *env, _ map[string]string, ans map[string]any) {
					if n := len(ans["attributes"].([]any)); n != 2 {
						t.Fatalf("%d attributes, want 2 (first_name, birthday)", n)
					}
				}},
			{name: "undeclared attribute", method: "POST", path: "/v1/contacts", role: owner,
				body: `{"identifiers":{"phone":"+4520123456"},"attributes":{"shoe_size":44}}`, status: 422, code: "undeclared_attribute"},
			{name: "wrong type", method: "POST", path: "/v1/contacts", role: owner,
				body: `{"identifiers":{"phone":"+4520123456"},"attributes":{"birthday":"last spring"}}`, status: 422, code: "invalid_attribute"},
			{name: "nothing was stored", method: "POST", path: "/v1/contacts/lookup", role: owner, body: `{"phone":"+4520123456"}`, status: 404},
			{name: "declared attributes pass", method: "POST", path: "/v1/contacts", role: owner,
				body: `{"identifiers":{"phone":"+4520123456"},"attributes":{"birthday":"1990-04-01","first_name":"Anna"}}`, status: 201},
		}},
		{"access export", append(privacySetup(),
			step{name: "support may not", method: "POST", path: "/v1/dsr", role: auth.Support, body: `{"type":"access","contact_id":"{contact}"}`, status: 403},
			step{name: "access by identifier", method: "POST", path: "/v1/dsr", role: auth.Compliance,
				body: `{"type":"access","identifier":{"kind":"email","value":"ANNA@example.com"}}`, status: 201,
				want: map[string]any{"status": "completed"}, save: map[string]string{"dsr": "id"},
				check: func(t *testing.T, e *env, vars map[string]string, ans map[string]any) {
					if ans["contact_id"] != vars["contact"] {
						t.Fatalf("resolved to %v, want %s", ans["contact_id"], vars["contact"])
					}
				}},
			step{name: "export", method: "GET", path: "/v1/dsr/{dsr}/export", role: auth.Compliance, status: 200,
				check: func(t *testing.T, e *env, vars map[string]string, ans map[string]any) {
					ids := ans["identifiers"].(map[string]any)
					if ids["phone"] != "+4520123456" || ids["email"] != "anna@example.com" {
						t.Fatalf("identifiers = %v", ids)
					}
					evs := ans["consent_events"].([]any)
					ev := evs[0].(map[string]any)
					if jpath(ev, "evidence.ip") != "203.0.113.7" || jpath(ev, "receipt.consentReceiptID") != vars["event"] {
						t.Fatalf("consent event in export = %v", ev)
					}
					if a := ans["attributes"].([]any); len(a) != 1 || jpath(a[0], "value") != "Anna" || jpath(a[0], "purpose") != "newsletter" {
						t.Fatalf("attributes = %v", a)
					}
					if len(ans["accesses"].([]any)) == 0 {
						t.Fatal("the export lists no access although the contact was created and read")
					}
				}},
			step{name: "html export", method: "GET", path: "/v1/dsr/{dsr}", role: auth.Compliance, status: 200,
				check: func(t *testing.T, e *env, vars map[string]string, _ map[string]any) {
					body := e.raw("GET", "/v1/dsr/"+vars["dsr"]+"/export?format=html", e.keys[auth.Compliance])
					if !strings.Contains(body, "&#43;4520123456") || !strings.Contains(body, "<h1>Your data held by acme</h1>") ||
						!strings.Contains(body, "203.0.113.7") {
						t.Fatalf("html export: %.300s", body)
					}
				}},
			step{name: "erasure request has no export", method: "POST", path: "/v1/dsr", role: owner,
				body: `{"type":"erasure","contact_id":"{contact}","execute":false}`, status: 201, save: map[string]string{"erase": "id"}},
			step{name: "no export", method: "GET", path: "/v1/dsr/{erase}/export", role: owner, status: 422, code: "invalid_dsr"},
		)},
		{"erasure", append(privacySetup(),
			decideStep("allowed before", `{"phone":"+4520123456"}`, "consent_granted"),
			step{name: "hold", method: "PUT", path: "/v1/contacts/{contact}/legal-hold", role: auth.Compliance, body: `{"reason":"invoice dispute 2026-17"}`, status: 200},
			step{name: "held", method: "POST", path: "/v1/dsr", role: auth.Compliance, body: `{"type":"erasure","contact_id":"{contact}"}`,
				status: 409, code: "legal_hold", want: map[string]any{"reason": "invoice dispute 2026-17"}, save: map[string]string{"dsr": "dsr_id"}},
			step{name: "blocked request is open", method: "GET", path: "/v1/dsr", role: auth.Compliance, status: 200,
				check: func(t *testing.T, _ *env, vars map[string]string, ans map[string]any) {
					rs := ans["requests"].([]any)
					if len(rs) != 1 || jpath(rs[0], "status") != "blocked" || jpath(rs[0], "id") != vars["dsr"] {
						t.Fatalf("open requests = %v", rs)
					}
				}},
			step{name: "still there", method: "GET", path: "/v1/contacts/{contact}", role: owner, status: 200},
			step{name: "release", method: "DELETE", path: "/v1/contacts/{contact}/legal-hold", role: auth.Compliance, status: 204},
			step{name: "execute", method: "POST", path: "/v1/dsr/{dsr}/execute", role: auth.Compliance, status: 200,
				want: map[string]any{"status": "completed"}, save: map[string]string{"cert": "result.certificate_id", "ledger": "result.ledger_event_id"},
				check: func(t *testing.T, e *env, vars map[string]string, ans map[string]any) {
					del := jpath(ans, "result.deleted").(map[string]any)
					if del["contacts"] != 1.0 || del["identifiers"] != 2.0 || del["data_keys"] != 1.0 || del["consent_evidence"] != 1.0 {
						t.Fatalf("deleted = %v", del)
					}
					if e.index.HasContact(e.tenant, mustULID(t, vars["contact"])) {
						t.Fatal("the index still holds the erased contact")
					}
				}},
			step{name: "gone", method: "GET", path: "/v1/contacts/{contact}", role: owner, status: 404},
			decideStep("suppressed by phone", `{"phone":"+45 20 12 34 56"}`, "suppressed"),
			decideStep("suppressed by contact id", `{"contact_id":"{contact}"}`, "unknown_contact"),
			step{name: "a new contact with the number is still suppressed", method: "POST", path: "/v1/contacts", role: owner,
				body: `{"identifiers":{"phone":"+4520123456"}}`, status: 201},
			decideStep("suppressed after re-creation", `{"phone":"+4520123456"}`, "suppressed"),
			step{name: "second erasure: first certificate", method: "POST", path: "/v1/dsr", role: auth.Compliance,
				body: `{"type":"erasure","contact_id":"{contact}"}`, status: 200,
				check: func(t *testing.T, _ *env, vars map[string]string, ans map[string]any) {
					if jpath(ans, "result.certificate_id") != vars["cert"] {
						t.Fatalf("second erasure certificate %v, want %s", jpath(ans, "result.certificate_id"), vars["cert"])
					}
				}},
			step{name: "by e-mail too", method: "POST", path: "/v1/dsr", role: auth.Compliance,
				body: `{"type":"erasure","identifier":{"kind":"email","value":"anna@example.com"}}`, status: 200,
				check: func(t *testing.T, _ *env, vars map[string]string, ans map[string]any) {
					if jpath(ans, "result.certificate_id") != vars["cert"] {
						t.Fatal("erasure by identifier did not find the first certificate")
					}
				}},
			step{name: "unknown contact", method: "POST", path: "/v1/dsr", role: auth.Compliance,
				body: `{"type":"erasure","contact_id":"01ARZ3NDEKTSV4RRFFQ69G5FAV"}`, status: 404, code: "not_found"},
			step{name: "other tenant cannot", method: "POST", path: "/v1/dsr", foreign: true,
				body: `{"type":"erasure","contact_id":"{contact}"}`, status: 404},
			step{name: "ledger records it", method: "GET", path: "/v1/dsr?status=all", role: auth.Compliance, status: 200,
				check: func(t *testing.T, e *env, vars map[string]string, _ map[string]any) {
					if _, err := e.svc.SequenceLedger(context.Background()); err != nil {
						t.Fatal(err)
					}
					err := e.store.Read(context.Background(), func(tx store.Tx) error {
						_, err := tx.LedgerIndexOf(context.Background(), vars["ledger"])
						return err
					})
					if err != nil {
						t.Fatalf("the erasure marker is not in the ledger: %v", err)
					}
				}},
		)},
		{"rectification restriction objection", append(privacySetup(),
			step{name: "rectify phone", method: "POST", path: "/v1/dsr", role: auth.Compliance,
				body:   `{"type":"rectification","contact_id":"{contact}","identifiers":{"phone":"+45 31 41 59 26"},"attributes":{"first_name":"Anne"}}`,
				status: 201, want: map[string]any{"status": "completed"},
				check: func(t *testing.T, e *env, vars map[string]string, _ map[string]any) {
					evs := e.events(vars["contact"])
					if last := evs[len(evs)-1]; last.Source != "rectification" || last.Status != consent.StatusGranted {
						t.Fatalf("no rectification trail: %+v", last)
					}
				}},
			step{name: "new number finds", method: "POST", path: "/v1/contacts/lookup", role: owner, body: `{"phone":"+4531415926"}`, status: 200,
				check: func(t *testing.T, _ *env, vars map[string]string, ans map[string]any) {
					if ans["id"] != vars["contact"] || jpath(ans, "attributes.first_name") != "Anne" {
						t.Fatalf("after rectification: %v", ans)
					}
				}},
			step{name: "old number does not", method: "POST", path: "/v1/contacts/lookup", role: owner, body: `{"phone":"+4520123456"}`, status: 404},
			decideStep("consent carried to the new number", `{"phone":"+4531415926"}`, "consent_granted"),
			decideStep("old number unknown", `{"phone":"+4520123456"}`, "no_consent"),
			step{name: "restrict", method: "POST", path: "/v1/dsr", role: auth.Compliance, body: `{"type":"restriction","contact_id":"{contact}"}`, status: 201},
			decideStep("restricted at once", `{"phone":"+4531415926"}`, "restricted"),
			step{name: "lift", method: "POST", path: "/v1/dsr", role: auth.Compliance, body: `{"type":"restriction","contact_id":"{contact}","lift":true}`, status: 201},
			decideStep("allowed again", `{"phone":"+4531415926"}`, "consent_granted"),
			step{name: "object", method: "POST", path: "/v1/dsr", role: auth.Compliance, body: `{"type":"objection","contact_id":"{contact}"}`, status: 201},
			decideStep("objected at once", `{"phone":"+4531415926"}`, "objected"),
		)},
		{"due dates", append(privacySetup(),
			step{name: "old request recorded", method: "POST", path: "/v1/dsr", role: auth.Compliance,
				body:   `{"type":"access","contact_id":"{contact}","execute":false,"received_at":"` + time.Now().AddDate(0, 0, -40).UTC().Format(time.RFC3339) + `"}`,
				status: 201, want: map[string]any{"status": "open", "overdue": true}, save: map[string]string{"old": "id"}},
			step{name: "overdue cannot be extended", method: "POST", path: "/v1/dsr/{old}/extend", role: auth.Compliance, body: `{"reason":"busy"}`, status: 422, code: "invalid_dsr"},
			step{name: "new request", method: "POST", path: "/v1/dsr", role: auth.Compliance,
				body: `{"type":"portability","contact_id":"{contact}","execute":false}`, status: 201, want: map[string]any{"overdue": false}, save: map[string]string{"new": "id"}},
			step{name: "extend", method: "POST", path: "/v1/dsr/{new}/extend", role: auth.Compliance, body: `{"reason":"many requests this month"}`, status: 200,
				want: map[string]any{"extended": true},
				check: func(t *testing.T, _ *env, _ map[string]string, ans map[string]any) {
					rec, _ := time.Parse(time.RFC3339Nano, ans["received_at"].(string))
					due, _ := time.Parse(time.RFC3339Nano, ans["due_at"].(string))
					if !due.Equal(rec.AddDate(0, 3, 0)) {
						t.Fatalf("due %v, want received %v + 3 months", due, rec)
					}
				}},
			step{name: "only once", method: "POST", path: "/v1/dsr/{new}/extend", role: auth.Compliance, body: `{"reason":"again"}`, status: 422, code: "invalid_dsr"},
			step{name: "open list by due date", method: "GET", path: "/v1/dsr", role: auth.Compliance, status: 200,
				check: func(t *testing.T, _ *env, vars map[string]string, ans map[string]any) {
					rs := ans["requests"].([]any)
					if len(rs) != 2 || jpath(rs[0], "id") != vars["old"] {
						t.Fatalf("open list = %v", rs)
					}
				}},
			step{name: "execute", method: "POST", path: "/v1/dsr/{new}/execute", role: auth.Compliance, status: 200, want: map[string]any{"status": "completed"}},
		)},
		{"retention", []step{
			{name: "defaults", method: "GET", path: "/v1/retention", role: auth.Compliance, status: 200,
				check: func(t *testing.T, _ *env, _ map[string]string, ans map[string]any) {
					ps := ans["policies"].([]any)
					if len(ps) != 6 || jpath(ps[0], "default") != true {
						t.Fatalf("policies = %v", ps)
					}
				}},
			{name: "set", method: "PUT", path: "/v1/retention", role: auth.Compliance,
				body: `{"policies":[{"category":"inbound_messages","days":30}]}`, status: 200},
			{name: "unknown category", method: "PUT", path: "/v1/retention", role: auth.Compliance,
				body: `{"policies":[{"category":"everything","days":30}]}`, status: 400},
			{name: "marketer may not", method: "GET", path: "/v1/retention", role: auth.Marketer, status: 403},
			{name: "purge log", method: "GET", path: "/v1/retention/purges", role: auth.Compliance, status: 200},
		}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			e := newEnv(t, openSQLite)
			runSteps(t, e, sc.steps)
			e.noIdentifiersLogged()
		})
	}
}

// TestCorruptedCiphertext: a field that does not open is reported as
// unreadable, in the contact view and in the export; nothing crashes and
// nothing falls back to plaintext.
func TestCorruptedCiphertext(t *testing.T) {
	e := newEnv(t, openSQLite)
	vars := runSteps(t, e, privacySetup())
	ctx := context.Background()
	err := e.store.Write(ctx, func(tx store.Tx) error {
		c, ids, err := tx.GetContact(ctx, e.tenant, vars["contact"])
		if err != nil {
			return err
		}
		for i := range ids {
			if ids[i].Kind == consent.KindEmail {
				ids[i].Sealed[len(ids[i].Sealed)-1] ^= 1
			}
		}
		c.AttributesSealed[5] ^= 1
		return tx.UpdateContact(ctx, c, ids)
	})
	if err != nil {
		t.Fatal(err)
	}
	runSteps(t, e, []step{
		{name: "view", method: "GET", path: "/v1/contacts/" + vars["contact"], role: owner, status: 200,
			hdr: []string{"X-Reveal-Reason", "test"},
			check: func(t *testing.T, _ *env, _ map[string]string, ans map[string]any) {
				if jpath(ans, "identifiers.email") != "(unreadable)" || jpath(ans, "identifiers.phone") != "+4520123456" {
					t.Fatalf("view = %v", ans)
				}
			}},
		{name: "access", method: "POST", path: "/v1/dsr", role: auth.Compliance, body: `{"type":"access","contact_id":"` + vars["contact"] + `"}`,
			status: 201, save: map[string]string{"dsr": "id"}},
		{name: "export", method: "GET", path: "/v1/dsr/{dsr}/export", role: auth.Compliance, status: 200,
			check: func(t *testing.T, _ *env, _ map[string]string, ans map[string]any) {
				u := fmt.Sprint(ans["unreadable_fields"])
				if jpath(ans, "identifiers.email") != "(unreadable)" || !strings.Contains(u, "email") || !strings.Contains(u, "attributes") {
					t.Fatalf("export = %v", ans)
				}
			}},
	})
}

func (e *env) events(contactID string) []*store.ConsentEvent {
	e.t.Helper()
	var evs []*store.ConsentEvent
	if err := e.store.Read(context.Background(), func(tx store.Tx) (err error) {
		evs, err = tx.ListConsentEvents(context.Background(), e.tenant, contactID)
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return evs
}

// raw returns an answer's body as text.
func (e *env) raw(method, path, key string) string {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func (e *env) noIdentifiersLogged() {
	e.t.Helper()
	for _, pii := range []string{"20123456", "20 12 34 56", "anna@example.com", "Anna@Example.com", "31415926", "203.0.113.7", "Anne"} {
		if strings.Contains(e.logs.String(), pii) {
			e.t.Fatalf("log output contains personal data (%s)", pii)
		}
	}
}

func mustULID(t *testing.T, s string) ulid.ULID {
	t.Helper()
	id, err := ulid.ParseStrict(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestPurge: expired rows go, recent ones stay, a dry run changes nothing,
// and each purge leaves a signed summary whose forgery is detected. The
// messages, two years old, go with their whole partition; the inbound
// records share this week's partition with newer ones and go row by row.
func TestPurge(t *testing.T) {
	e := newEnv(t, openSQLite)
	vars := runSteps(t, e, privacySetup())
	ctx := context.Background()
	now := time.Now()
	insertInbound(t, e.store, e.tenant, 2500, now.AddDate(0, 0, -40))
	insertInbound(t, e.store, e.tenant, 100, now.AddDate(0, 0, -10))
	insertMessages(t, e.store, e.tenant, vars["contact"], 30, now.AddDate(-2, 0, 0))
	runSteps(t, e, []step{{name: "30 days for inbound", method: "PUT", path: "/v1/retention", role: auth.Compliance,
		body: `{"policies":[{"category":"inbound_messages","days":30}]}`, status: 200}})
	count := func(cat string) int {
		for _, s := range mustPurge(t, e, service.PurgeOptions{DryRun: true, TenantID: e.tenant}) {
			if s.Category == cat {
				return s.Count
			}
		}
		return -1
	}
	if n := count(store.CategoryInbound); n != 2500 {
		t.Fatalf("dry run counts %d expired inbound rows, want 2500", n)
	}
	if n := count(store.CategoryInbound); n != 2500 {
		t.Fatal("the dry run changed something")
	}
	sums := mustPurge(t, e, service.PurgeOptions{TenantID: e.tenant}) // batches sized by time: many of them, of changing size
	got := map[string]int{}
	for _, s := range sums {
		got[s.Category] = s.Count
	}
	if got[store.CategoryInbound] != 2500 || got[store.CategoryMessageMetadata] != 30 || got[store.CategoryConsentEvidence] != 0 {
		t.Fatalf("purged %v", got)
	}
	if n := count(store.CategoryInbound); n != 0 {
		t.Fatalf("%d expired rows left", n)
	}
	e.store.Read(ctx, func(tx store.Tx) error {
		if n, _ := tx.CountPurgeable(ctx, e.tenant, store.CategoryInbound, now.Add(time.Hour)); n != 100 {
			t.Fatalf("%d recent inbound rows left, want 100", n)
		}
		return nil
	})
	var left []*store.Message
	e.store.Read(ctx, func(tx store.Tx) (err error) {
		left, err = tx.ListContactMessages(ctx, e.tenant, vars["contact"], 100)
		return err
	})
	if len(left) != 0 {
		t.Fatalf("%d expired messages left", len(left))
	}
	runSteps(t, e, []step{{name: "log", method: "GET", path: "/v1/retention/purges", role: auth.Compliance, status: 200,
		check: func(t *testing.T, e *env, _ map[string]string, ans map[string]any) {
			ps := ans["purges"].([]any)
			if len(ps) != 2 || jpath(ps[0], "signature_valid") != true {
				t.Fatalf("purge log = %v", ps)
			}
			// A count edited in the database no longer verifies.
			id := jpath(ps[0], "id").(string)
			if err := e.store.Write(ctx, func(tx store.Tx) error { return tx.SetPurgeSignature(ctx, id, []byte("forged")) }); err != nil {
				t.Fatal(err)
			}
			recs, _ := e.svc.PurgeLog(ctx, e.tenant, 10)
			if recs[0].Verified {
				t.Fatal("a forged purge record verifies")
			}
		}}})
	// The contact's consent evidence is untouched: its consent stands.
	if evs := e.events(vars["contact"]); evs[0].EvidenceSealed == nil {
		t.Fatal("the evidence of a granted consent was purged")
	}
}

func mustPurge(t *testing.T, e *env, opt service.PurgeOptions) []service.PurgeSummary {
	t.Helper()
	sums, err := e.svc.Purge(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	return sums
}
