package httpapi

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/service"
	"github.com/consentgate/consentgate/internal/store"
)

// tmplEnv is a sending environment with a Danish contact who consented to
// offers by SMS, and the templates the tests send with.
func tmplEnv(t *testing.T) (*msgEnv, string) {
	e := newMsgEnv(t, service.SendConfig{}, nil)
	for _, r := range []struct {
		path, body string
	}{
		{"/v1/purposes", `{"key":"offers","name":"Offers","category":"marketing","basis":"consent","channels":["sms"]}`},
		{"/v1/purposes", `{"key":"orders","name":"Orders","category":"service","basis":"contract","channels":["sms","email"]}`},
		{"/v1/templates", `{"name":"welcome","channel":"sms","language":"da","body":"Hej {{first_name}}, {{ offer }} i denne uge"}`},
		{"/v1/templates", `{"name":"welcome","channel":"sms","language":"en","body":"Hi {{first_name}}, {{offer}} this week"}`},
		{"/v1/templates", `{"name":"promo","channel":"sms","language":"en","body":"Deal for {{first_name}}"}`},
		{"/v1/templates", `{"name":"shipped","channel":"email","language":"en","subject":"Order {{order}} shipped","body":"Order {{order}} is on its way."}`},
	} {
		if st, ans := e.do("POST", r.path, e.keys[auth.Marketer], r.body); st != 201 {
			t.Fatalf("POST %s: %d %v", r.path, st, ans)
		}
	}
	st, ans := e.do("POST", "/v1/contacts", e.keys[owner], `{"identifiers":{"phone":"+4520123456","email":"anna@example.com"},"locale":"da-DK"}`)
	if st != 201 {
		t.Fatalf("contact: %d %v", st, ans)
	}
	contact := ans["id"].(string)
	if st, ans := e.do("PUT", "/v1/contacts/"+contact+"/consents/offers/sms", e.keys[owner], `{"status":"granted","source":"web"}`); st != 200 {
		t.Fatalf("consent: %d %v", st, ans)
	}
	return e, contact
}

func TestTemplatesAPI(t *testing.T) {
	e, _ := tmplEnv(t)
	mk := func(body string) string {
		return `{"name":"x1","channel":"sms","language":"en","body":` + body + `}`
	}
	many := strings.Repeat("{{p}}", 1) + func() string {
		var b strings.Builder
		for i := range 20 {
			b.WriteString("{{q" + string(rune('a'+i)) + "}}")
		}
		return b.String()
	}()
	for _, tt := range []struct {
		name, method, path string
		role               auth.Role
		foreign            bool
		body               string
		status             int
		code               string
		want               map[string]any
	}{
		{name: "duplicate", method: "POST", path: "/v1/templates", role: owner, status: 409, code: "conflict",
			body: `{"name":"welcome","channel":"sms","language":"da","body":"again"}`},
		{name: "same name, other channel", method: "POST", path: "/v1/templates", role: auth.Admin, status: 201,
			body: `{"name":"welcome","channel":"email","language":"da","subject":"Hej {{first_name}}","body":"Hej"}`,
			want: map[string]any{"placeholders": "[first_name]"}},
		{name: "bad placeholder name", method: "POST", path: "/v1/templates", role: owner, status: 422, code: "invalid_template", body: mk(`"Hi {{First}}"`)},
		{name: "unbalanced", method: "POST", path: "/v1/templates", role: owner, status: 422, code: "invalid_template", body: mk(`"Hi {{name"`)},
		{name: "stray closing braces", method: "POST", path: "/v1/templates", role: owner, status: 422, code: "invalid_template", body: mk(`"Hi name}}"`)},
		{name: "21 placeholders", method: "POST", path: "/v1/templates", role: owner, status: 422, code: "invalid_template", body: mk(`"` + many + `"`)},
		{name: "too long", method: "POST", path: "/v1/templates", role: owner, status: 422, code: "invalid_template", body: mk(`"` + strings.Repeat("x", 4097) + `"`)},
		{name: "bad name", method: "POST", path: "/v1/templates", role: owner, status: 422, code: "invalid_template",
			body: `{"name":"Bad Name","channel":"sms","language":"en","body":"x"}`},
		{name: "bad language", method: "POST", path: "/v1/templates", role: owner, status: 422, code: "invalid_template",
			body: `{"name":"x2","channel":"sms","language":"dan","body":"x"}`},
		{name: "subject on sms", method: "POST", path: "/v1/templates", role: owner, status: 422, code: "invalid_template",
			body: `{"name":"x3","channel":"sms","language":"en","subject":"s","body":"x"}`},
		{name: "unknown channel", method: "POST", path: "/v1/templates", role: owner, status: 422, code: "unknown_channel",
			body: `{"name":"x4","channel":"fax","language":"en","body":"x"}`},
		{name: "developer may not write", method: "POST", path: "/v1/templates", role: auth.Developer, status: 403, code: "forbidden", body: mk(`"x"`)},
		{name: "support may not read", method: "GET", path: "/v1/templates", role: auth.Support, status: 403, code: "forbidden"},
		{name: "developer reads", method: "GET", path: "/v1/templates", role: auth.Developer, status: 200,
			want: map[string]any{"templates.0.name": "promo", "templates.1.name": "shipped", "templates.2.channel": "email"}},
		{name: "get variants", method: "GET", path: "/v1/templates/welcome", role: auth.Marketer, status: 200,
			want: map[string]any{"templates.0.channel": "email", "templates.1.language": "da", "templates.2.language": "en",
				"templates.2.placeholders": "[first_name offer]"}},
		{name: "get one language", method: "GET", path: "/v1/templates/welcome?channel=sms&language=da", role: owner, status: 200,
			want: map[string]any{"templates.0.body": "Hej {{first_name}}, {{ offer }} i denne uge"}},
		{name: "unknown name", method: "GET", path: "/v1/templates/nope", role: owner, status: 404, code: "not_found"},
		{name: "another tenant reads", method: "GET", path: "/v1/templates/welcome", foreign: true, status: 404, code: "not_found"},
		{name: "another tenant deletes", method: "DELETE", path: "/v1/templates/welcome", foreign: true, status: 404, code: "not_found"},
		{name: "developer may not delete", method: "DELETE", path: "/v1/templates/welcome", role: auth.Developer, status: 403, code: "forbidden"},
		{name: "delete one variant", method: "DELETE", path: "/v1/templates/welcome?channel=email&language=da", role: auth.Marketer, status: 204},
		{name: "it is gone", method: "GET", path: "/v1/templates/welcome?channel=email", role: owner, status: 404},
		{name: "delete unknown variant", method: "DELETE", path: "/v1/templates/welcome?language=fr", role: owner, status: 404},
		{name: "the others stay", method: "GET", path: "/v1/templates/welcome", role: owner, status: 200,
			want: map[string]any{"templates.0.language": "da", "templates.1.language": "en"}},
	} {
		key := e.keys[tt.role]
		if tt.foreign {
			key = e.foreign
		}
		var body any
		if tt.body != "" {
			body = tt.body
		}
		st, ans := e.do(tt.method, tt.path, key, body)
		if st != tt.status || (tt.code != "" && ans["code"] != tt.code) {
			t.Fatalf("%s: %d %v, want %d %s", tt.name, st, ans, tt.status, tt.code)
		}
		for k, v := range tt.want {
			if got := dig(ans, k); fmt.Sprint(got) != fmt.Sprint(v) {
				t.Fatalf("%s: %s = %v, want %v (%v)", tt.name, k, got, v, ans)
			}
		}
	}
}

// TestTemplateSends: the rendered text takes the path of a body (the
// Danish contact's offer gets the Danish opt-out line), the language falls
// back from the contact's locale to "en", and a refused template queues
// nothing. Parameter values reach neither the logs nor the database.
func TestTemplateSends(t *testing.T) {
	e, contact := tmplEnv(t)
	const secret = "Zebulon-Quixote" // a parameter value: personal data
	send := func(body string, status int, code string) map[string]any {
		t.Helper()
		st, ans := e.do("POST", "/v1/messages", e.keys[auth.Developer], body)
		if st != status || (code != "" && ans["code"] != code) {
			t.Fatalf("send %s: %d %v, want %d %s", body, st, ans, status, code)
		}
		return ans
	}
	queued := func() int {
		var n int
		if err := e.store.Read(context.Background(), func(tx store.Tx) (err error) {
			n, err = tx.CountMessagesSince(context.Background(), e.tenant, time.Time{})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	offer := func(tmpl string) string {
		return `{"to":{"phone":"+4520123456"},"channel":"sms","purpose":"offers","sender":"ACME","template":` + tmpl + `}`
	}

	ans := send(offer(`{"name":"welcome","params":{"first_name":"`+secret+`","offer":"20% rabat","unused":"x"}}`), 202, "")
	if m := e.handed(ans["id"].(string)); m.Body != "Hej "+secret+", 20% rabat i denne uge\nSvar STOP for at afmelde" {
		t.Errorf("handed body %q", m.Body)
	}
	if got := e.waitStatus(ans["id"].(string), "sent"); got["body_length"] != float64(len("Hej "+secret+", 20% rabat i denne uge\nSvar STOP for at afmelde")) {
		t.Errorf("message view %v", got)
	}
	// An explicit language wins over the locale.
	ans = send(offer(`{"name":"welcome","language":"en","params":{"first_name":"Anna","offer":"20% off"}}`), 202, "")
	if m := e.handed(ans["id"].(string)); m.Body != "Hi Anna, 20% off this week\nSvar STOP for at afmelde" {
		t.Errorf("handed body %q", m.Body)
	}
	// No Danish variant: English text, the footer still in the contact's language.
	ans = send(`{"to":{"contact_id":"`+contact+`"},"channel":"sms","purpose":"offers","sender":"ACME","template":{"name":"promo","params":{"first_name":"Anna"}}}`, 202, "")
	if m := e.handed(ans["id"].(string)); m.Body != "Deal for Anna\nSvar STOP for at afmelde" {
		t.Errorf("handed body %q", m.Body)
	}
	// E-mail: the subject is rendered from the template too.
	ans = send(`{"to":{"email":"anna@example.com"},"channel":"email","purpose":"orders","sender":"shop@acme.dk","template":{"name":"shipped","params":{"order":"A-17"}}}`, 202, "")
	if m := e.handed(ans["id"].(string)); m.Subject != "Order A-17 shipped" || m.Body != "Order A-17 is on its way." {
		t.Errorf("handed %q / %q", m.Subject, m.Body)
	}

	before := queued()
	ans = send(offer(`{"name":"welcome","params":{"first_name":"`+secret+`"}}`), 422, "invalid_template")
	if d := ans["detail"].(string); !strings.Contains(d, `"offer"`) || strings.Contains(d, secret) {
		t.Errorf("missing parameter detail %q", d)
	}
	send(offer(`{"name":"welcome","language":"de","params":{}}`), 422, "invalid_template")
	send(offer(`{"name":"nope","params":{}}`), 422, "invalid_template")
	send(offer(`{"name":"promo","params":{"first_name":"`+strings.Repeat("x", 1025)+`"}}`), 422, "invalid_template")
	send(`{"to":{"phone":"+4520123456"},"channel":"sms","purpose":"offers","sender":"ACME","body":"x","template":{"name":"promo"}}`, 400, "invalid_request")
	send(`{"to":{"phone":"+4520123456"},"channel":"sms","purpose":"offers","sender":"ACME"}`, 422, "invalid_message")
	send(`{"to":{"phone":"+4520123456"},"channel":"sms","purpose":"offers","sender":"ACME","template":{"name":"promo","params":{"first_name":"x"}},"subject":"s"}`, 400, "invalid_request")
	// In a batch each item renders or fails alone.
	st, b := e.do("POST", "/v1/messages/batch", e.keys[auth.Developer], `{"messages":[`+
		offer(`{"name":"promo","params":{"first_name":"Bo"}}`)+`,`+offer(`{"name":"promo","params":{}}`)+`]}`)
	items, _ := b["messages"].([]any)
	if st != 202 || len(items) != 2 || dig(b, "messages.0.status") != "queued" || dig(b, "messages.1.error.code") != "invalid_template" {
		t.Fatalf("batch: %d %v", st, b)
	}
	if n := queued(); n != before+1 {
		t.Errorf("%d messages queued by refused sends, want only the batch's good one", n-before)
	}

	if strings.Contains(e.logs.String(), secret) {
		t.Error("a template parameter reached the log")
	}
	for _, f := range []string{e.dbPath, e.dbPath + "-wal"} {
		if raw, _ := os.ReadFile(f); bytes.Contains(raw, []byte(secret)) {
			t.Errorf("%s holds a template parameter in clear", f)
		}
	}
}
