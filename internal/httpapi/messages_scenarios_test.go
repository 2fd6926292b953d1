package httpapi

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/channel"
	"github.com/consentgate/consentgate/internal/service"
	"github.com/consentgate/consentgate/internal/store"
)

func ms(s step) mstep { return mstep{step: s} }

func messageScenarios() []msgScenario {
	purpose := func(key, cat, basis, channels string) mstep {
		return ms(step{name: "purpose " + key, method: "POST", path: "/v1/purposes", role: owner, status: 201,
			body: fmt.Sprintf(`{"key":%q,"name":%q,"category":%q,"basis":%q,"channels":%s}`, key, key, cat, basis, channels)})
	}
	setup := []mstep{
		purpose("offers", "marketing", "consent", `["sms"]`),
		purpose("newsletter", "marketing", "consent", `["email"]`),
		purpose("orders", "service", "contract", `["sms","email"]`),
		ms(step{name: "create contact", method: "POST", path: "/v1/contacts", role: owner, status: 201,
			body: `{"identifiers":{"phone":"+45 20 12 34 56","email":"Anna@Example.com"},"locale":"da-DK"}`,
			save: map[string]string{"contact": "id"}}),
	}
	grant := func(purpose, ch string) mstep {
		return ms(step{name: "grant " + purpose, method: "PUT", path: "/v1/contacts/{contact}/consents/" + purpose + "/" + ch,
			role: owner, body: `{"status":"granted","source":"web"}`, status: 200})
	}
	send := func(name, body string, status int, code string) mstep {
		return ms(step{name: name, method: "POST", path: "/v1/messages", role: auth.Developer, body: body, status: status, code: code})
	}
	offer := `{"to":{"phone":"+4520123456"},"channel":"sms","purpose":"offers","sender":"ACME","body":"20% off all week"}`
	with := func(steps ...[]mstep) []mstep {
		var out []mstep
		for _, s := range steps {
			out = append(out, s...)
		}
		return out
	}
	return []msgScenario{
		{name: "send, dispatch, read back", steps: with(setup, []mstep{grant("offers", "sms"),
			{step: step{name: "send", method: "POST", path: "/v1/messages", role: auth.Developer, body: offer, status: 202,
				want: map[string]any{"status": "queued", "decision.allowed": true, "decision.reason": "consent_granted",
					"channel": "sms", "sender": "ACME", "kind": "message"}, save: map[string]string{"id": "id"}},
				check: func(t *testing.T, e *msgEnv, v map[string]string, ans map[string]any) {
					m := e.handed(v["id"])
					// The Danish contact's offer carries the Danish opt-out line.
					if m.To != "+4520123456" || m.Body != "20% off all week\nSvar STOP for at afmelde" || m.From != "ACME" {
						t.Errorf("handed over %+v", m)
					}
					got := e.waitStatus(v["id"], "sent")
					if got["body_length"] != float64(len(m.Body)) || len(got["timeline"].([]any)) != 2 || got["contact_id"] != v["contact"] {
						t.Errorf("message view %v", got)
					}
				}},
			ms(step{name: "other tenant's id is not found", method: "GET", path: "/v1/messages/{id}", foreign: true, status: 404, code: "not_found"}),
			ms(step{name: "auditor may not read messages", method: "GET", path: "/v1/messages/{id}", role: auth.Auditor, status: 403, code: "forbidden"}),
			ms(step{name: "support reads metadata", method: "GET", path: "/v1/messages/{id}", role: auth.Support, status: 200,
				want: map[string]any{"status": "sent", "purpose": "offers"}}),
			ms(step{name: "unknown id", method: "GET", path: "/v1/messages/01JAAAAAAAAAAAAAAAAAAAAAAA", role: owner, status: 404}),
		})},
		{name: "refusals write nothing", steps: with(setup, []mstep{
			{step: step{name: "no consent", method: "POST", path: "/v1/messages", role: auth.Developer, body: offer, status: 403,
				code: "not_permitted", want: map[string]any{"decision.allowed": false, "decision.reason": "no_consent", "decision.basis": "consent"}}},
			send("invalid recipient", `{"to":{"phone":"12"},"channel":"sms","purpose":"offers","sender":"ACME","body":"x"}`, 422, "invalid_identifier"),
			send("two recipients", `{"to":{"phone":"+4520123456","contact_id":"{contact}"},"channel":"sms","purpose":"offers","sender":"ACME","body":"x"}`, 422, "invalid_identifier"),
			send("unknown sender", `{"to":{"phone":"+4520123456"},"channel":"sms","purpose":"orders","sender":"NOPE","body":"x"}`, 422, "sender_not_allowed"),
			send("another tenant's sender", `{"to":{"phone":"+4520123456"},"channel":"sms","purpose":"orders","sender":"ACME-OTHER","body":"x"}`, 422, "sender_not_allowed"),
			send("e-mail sender found by its domain", `{"to":{"email":"anna@example.com"},"channel":"email","purpose":"orders","sender":"x@acme.dk","body":"x"}`, 202, ""),
			purpose("survey", "service", "contract", `["email"]`),
			send("sender does not carry the purpose", `{"to":{"email":"anna@example.com"},"channel":"email","purpose":"survey","sender":"x@acme.dk","body":"x"}`, 422, "sender_not_allowed"),
			send("unknown channel", `{"to":{"phone":"+4520123456"},"channel":"pigeon","purpose":"offers","sender":"ACME","body":"x"}`, 422, "unknown_channel"),
			send("channel not in purpose", `{"to":{"email":"anna@example.com"},"channel":"email","purpose":"offers","sender":"x@acme.dk","body":"x"}`, 422, "channel_not_allowed"),
			send("unknown purpose", `{"to":{"phone":"+4520123456"},"channel":"sms","purpose":"nope","sender":"ACME","body":"x"}`, 422, "unknown_purpose"),
			send("subject on sms", `{"to":{"phone":"+4520123456"},"channel":"sms","purpose":"orders","sender":"ACME","subject":"s","body":"x"}`, 422, "invalid_message"),
			send("header injection", `{"to":{"email":"anna@example.com"},"channel":"email","purpose":"orders","sender":"x@acme.dk","subject":"a\r\nBcc: x@evil.example","body":"x"}`, 422, "invalid_message"),
			send("empty body", `{"to":{"phone":"+4520123456"},"channel":"sms","purpose":"orders","sender":"ACME","body":""}`, 422, "invalid_message"),
			send("unknown field", `{"to":{"phone":"+4520123456"},"channel":"sms","purpose":"orders","sender":"ACME","body":"x","template":{}}`, 400, "invalid_request"),
			ms(step{name: "marketer may not send", method: "POST", path: "/v1/messages", role: auth.Marketer, body: offer, status: 403, code: "forbidden"}),
			{step: step{name: "nothing was stored but the one allowed", method: "GET", path: "/healthz", status: 200},
				check: func(t *testing.T, e *msgEnv, _ map[string]string, _ map[string]any) {
					e.store.Read(t.Context(), func(tx store.Tx) error {
						if n, _ := tx.CountMessagesSince(t.Context(), e.tenant, time.Time{}); n != 1 {
							t.Errorf("%d messages stored, want 1", n)
						}
						return nil
					})
				}},
		})},
		{name: "idempotency key returns the first result", steps: with(setup, []mstep{grant("offers", "sms"),
			ms(step{name: "first", method: "POST", path: "/v1/messages", role: auth.Developer, body: offer, hdr: []string{"Idempotency-Key", "k-1"},
				status: 202, save: map[string]string{"id": "id"}}),
			ms(step{name: "again", method: "POST", path: "/v1/messages", role: auth.Developer, body: offer, hdr: []string{"Idempotency-Key", "k-1"},
				status: 202, want: map[string]any{"id": "{id}"}}),
			{step: step{name: "same key, other request", method: "POST", path: "/v1/messages", role: auth.Developer,
				body: strings.Replace(offer, "20%", "30%", 1), hdr: []string{"Idempotency-Key", "k-1"}, status: 422, code: "idempotency_key_reused"},
				check: func(t *testing.T, e *msgEnv, v map[string]string, _ map[string]any) {
					e.waitStatus(v["id"], "sent")
					if u, total := e.sink.Count(); u != 1 || total != 1 {
						t.Errorf("provider saw %d messages in %d hand-overs", u, total)
					}
				}},
		})},
		{name: "batch", steps: with(setup, []mstep{grant("offers", "sms"),
			ms(step{name: "three recipients", method: "POST", path: "/v1/messages/batch", role: auth.Developer, status: 202,
				body: `{"messages":[` + offer + `,
					{"to":{"phone":"+4531415926"},"channel":"sms","purpose":"offers","sender":"ACME","body":"20% off"},
					{"to":{"phone":"nope"},"channel":"sms","purpose":"offers","sender":"ACME","body":"x"},
					{"to":{"phone":"+4531415926"},"channel":"sms","purpose":"orders","sender":"ACME","body":"Your order shipped"}]}`,
				want: map[string]any{"messages.0.status": "queued", "messages.1.error.code": "not_permitted",
					"messages.1.error.decision.reason": "no_consent", "messages.2.error.code": "invalid_identifier",
					"messages.3.decision.reason": "contract"},
				save: map[string]string{"stranger": "messages.3.id"}}),
			{step: step{name: "a contract message to a stranger is sent as written", method: "GET", path: "/v1/messages/{stranger}", role: owner, status: 200},
				check: func(t *testing.T, e *msgEnv, v map[string]string, _ map[string]any) {
					if m := e.handed(v["stranger"]); m.Body != "Your order shipped" || m.To != "+4531415926" {
						t.Errorf("handed over %+v", m)
					}
				}},
			ms(step{name: "empty batch", method: "POST", path: "/v1/messages/batch", role: auth.Developer, body: `{"messages":[]}`, status: 400}),
		})},
		{name: "one-click unsubscribe (RFC 8058)", steps: with(setup, []mstep{grant("newsletter", "email"),
			{step: step{name: "send newsletter", method: "POST", path: "/v1/messages", role: auth.Developer, status: 202,
				body: `{"to":{"contact_id":"{contact}"},"channel":"email","purpose":"newsletter","sender":"news@acme.dk","subject":"November","body":"News"}`,
				save: map[string]string{"id": "id"}},
				check: func(t *testing.T, e *msgEnv, v map[string]string, _ map[string]any) {
					m := e.handed(v["id"])
					link := strings.Trim(m.Headers["List-Unsubscribe"], "<>")
					if !strings.HasPrefix(link, e.srv.URL+"/v1/unsubscribe/") || m.Headers["List-Unsubscribe-Post"] != "List-Unsubscribe=One-Click" ||
						m.To != "anna@example.com" || m.Subject != "November" || !strings.HasSuffix(m.Body, "Afmeld: "+link+"\n") {
						t.Fatalf("handed over %+v", m)
					}
					v["link"] = strings.TrimPrefix(link, e.srv.URL)
					// A scanner's GET changes nothing.
					st, hdr, page := rawDo(t, "GET", link, "", nil, nil)
					if st != 200 || !strings.Contains(page, "Unsubscribe?") || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") {
						t.Fatalf("GET link: %d %s", st, page)
					}
					if st, _, _ := rawDo(t, "GET", link+"x", "", nil, nil); st != 404 {
						t.Errorf("tampered link: %d", st)
					}
				}},
			ms(step{name: "still allowed after the GET", method: "POST", path: "/v1/decisions", role: auth.Developer, status: 200,
				body: `{"to":{"contact_id":"{contact}"},"channel":"email","purpose":"newsletter"}`, want: map[string]any{"allowed": true}}),
			{step: step{name: "one-click POST", method: "GET", path: "/healthz", status: 200},
				check: func(t *testing.T, e *msgEnv, v map[string]string, _ map[string]any) {
					st, _, page := rawDo(t, "POST", e.srv.URL+v["link"], "application/x-www-form-urlencoded", []byte("List-Unsubscribe=One-Click"), nil)
					if st != 200 || !strings.Contains(page, "You are unsubscribed") {
						t.Fatalf("POST link: %d %s", st, page)
					}
					if st, _, _ := rawDo(t, "POST", e.srv.URL+v["link"], "", nil, nil); st != 200 {
						t.Errorf("second click: %d", st)
					}
				}},
			ms(step{name: "withdrawn now", method: "POST", path: "/v1/decisions", role: auth.Developer, status: 200,
				body: `{"to":{"contact_id":"{contact}"},"channel":"email","purpose":"newsletter"}`, want: map[string]any{"allowed": false, "reason": "consent_withdrawn"}}),
			{step: step{name: "evidence", method: "GET", path: "/v1/contacts/{contact}/consents", role: owner, status: 200},
				check: func(t *testing.T, e *msgEnv, v map[string]string, ans map[string]any) {
					if c := dig(ans, "consents.0"); fmt.Sprint(dig(c.(map[string]any), "source")) != "one-click" || e.counts(e.tenant, v["contact"]) != 2 {
						t.Errorf("consents after one click (and a second): %v", ans)
					}
				}},
			ms(step{name: "no newsletter after it", method: "POST", path: "/v1/messages", role: auth.Developer, status: 403, code: "not_permitted",
				body: `{"to":{"contact_id":"{contact}"},"channel":"email","purpose":"newsletter","sender":"news@acme.dk","body":"More news"}`}),
		})},
		{name: "tenant rate limit", send: service.SendConfig{TenantRate: 2, Burst: 2}, steps: with(setup, []mstep{grant("offers", "sms"),
			send("1", offer, 202, ""), send("2", offer, 202, ""),
			{step: step{name: "3 is over the rate", method: "POST", path: "/v1/messages", role: auth.Developer, body: offer, status: 429,
				code: "rate_limited", want: map[string]any{"limit": "tenant"}}},
		})},
		{name: "daily volume cap", send: service.SendConfig{DailyCap: 1}, steps: with(setup, []mstep{grant("offers", "sms"),
			send("1", offer, 202, ""), send("2 is over the cap", offer, 429, "volume_cap_exceeded"),
		})},
		{name: "providers keep their secrets", steps: []mstep{
			ms(step{name: "set smtp", method: "PUT", path: "/v1/providers/email", role: owner, status: 200,
				body: `{"kind":"smtp","settings":{"host":"mail.acme.dk","port":587,"username":"gw"},"secret":"hunter2-secret"}`,
				want: map[string]any{"kind": "smtp", "has_secret": true, "settings.host": "mail.acme.dk"}}),
			{step: step{name: "list", method: "GET", path: "/v1/providers", role: owner, status: 200, want: map[string]any{"providers.0.channel": "email"}},
				check: func(t *testing.T, e *msgEnv, _ map[string]string, ans map[string]any) {
					if raw, _ := json.Marshal(ans); strings.Contains(string(raw), "hunter2") {
						t.Errorf("secret returned: %s", raw)
					}
				}},
			ms(step{name: "update keeps the secret", method: "PUT", path: "/v1/providers/email", role: owner, status: 200,
				body: `{"kind":"smtp","settings":{"host":"mail2.acme.dk"}}`, want: map[string]any{"has_secret": true}}),
			ms(step{name: "unknown kind", method: "PUT", path: "/v1/providers/email", role: owner, body: `{"kind":"pigeon"}`, status: 422, code: "invalid_provider"}),
			ms(step{name: "twilio does not carry e-mail", method: "PUT", path: "/v1/providers/email", role: owner, status: 422, code: "invalid_provider",
				body: `{"kind":"twilio","settings":{"account_sid":"AC0123456789abcdef0123456789abcdef"},"secret":"t"}`}),
			ms(step{name: "bad setting", method: "PUT", path: "/v1/providers/email", role: owner, body: `{"kind":"smtp","settings":{"host":"mx","tls":"none"}}`, status: 422}),
			ms(step{name: "developer may not", method: "PUT", path: "/v1/providers/sms", role: auth.Developer, body: `{"kind":"sink"}`, status: 403, code: "forbidden"}),
			ms(step{name: "delete", method: "DELETE", path: "/v1/providers/email", role: owner, status: 204}),
			ms(step{name: "delete again", method: "DELETE", path: "/v1/providers/email", role: owner, status: 404}),
		}},
		{name: "http provider and signed delivery report", steps: with(setup, []mstep{
			{step: step{name: "configure the provider", method: "GET", path: "/healthz", status: 200},
				check: func(t *testing.T, e *msgEnv, v map[string]string, _ map[string]any) {
					prov := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						raw, _ := io.ReadAll(r.Body)
						var p map[string]any
						json.Unmarshal(raw, &p)
						if r.Header.Get("Idempotency-Key") != p["id"] || channel.VerifyStandardWebhook("whsec_c2VjcmV0", r.Header, raw, time.Now()) != nil {
							w.WriteHeader(400)
							return
						}
						io.WriteString(w, `{"id":"prov-`+fmt.Sprint(p["id"])+`"}`)
					}))
					t.Cleanup(prov.Close)
					st, ans := e.do("PUT", "/v1/providers/sms", e.keys[owner], fmt.Sprintf(`{"kind":"http","settings":{"url":%q},"secret":"whsec_c2VjcmV0"}`, prov.URL))
					if st != 200 {
						t.Fatalf("put provider: %d %v", st, ans)
					}
				}},
			ms(step{name: "send", method: "POST", path: "/v1/messages", role: auth.Developer, status: 202, save: map[string]string{"id": "id"},
				body: `{"to":{"phone":"+4531415926"},"channel":"sms","purpose":"orders","sender":"ACME","body":"Your order shipped"}`}),
			{step: step{name: "report", method: "GET", path: "/healthz", status: 200},
				check: func(t *testing.T, e *msgEnv, v map[string]string, _ map[string]any) {
					e.waitStatus(v["id"], "sent")
					body := []byte(`{"id":"` + v["id"] + `","status":"delivered"}`)
					url := e.srv.URL + "/v1/delivery-reports/" + e.tenant + "/sms"
					if st, _, _ := rawDo(t, "POST", url, "application/json", body, nil); st != 401 {
						t.Errorf("unsigned report: %d", st)
					}
					ts := time.Now().Unix()
					h := http.Header{"Webhook-Id": {"evt-1"}, "Webhook-Timestamp": {fmt.Sprint(ts)},
						"Webhook-Signature": {channel.Sign([]byte("secret"), "evt-1", ts, body)}}
					if st, _, b := rawDo(t, "POST", url, "application/json", body, h); st != 204 {
						t.Fatalf("signed report: %d %s", st, b)
					}
					got := e.waitStatus(v["id"], "delivered")
					if dig(got, "timeline.2.status") != "delivered" {
						t.Errorf("timeline %v", got["timeline"])
					}
				}},
		})},
	}
}
