package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/service"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/postgres/pgtest"
)

// export sends a GET and returns the status, content type and raw body.
func (e *env) export(path, key string, hdr ...string) (int, string, []byte) {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// auditCount counts a tenant's audit events of an action.
func (e *env) auditCount(action string) int {
	e.t.Helper()
	var n int
	err := e.store.Read(context.Background(), func(tx store.Tx) error {
		evs, err := tx.ListAudit(context.Background(), store.AuditFilter{TenantID: e.tenant, Action: action, Limit: 1000})
		n = len(evs)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// recordsCases are the records scenarios, run on SQLite and PostgreSQL.
var recordsCases = []struct {
	name string
	fn   func(*testing.T, func(testing.TB) store.Store)
}{
	{"RopaFormats", testRopaFormats},
	{"RopaVersions", testRopaVersionsAPI},
	{"DPIASignOff", testDPIASignOff},
	{"BreachRegister", testBreachRegister},
	{"ProcessorsAndProfile", testProcessorsAndProfile},
}

func TestRecords(t *testing.T) {
	for _, c := range recordsCases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, openSQLite) })
	}
}

func TestRecordsPostgres(t *testing.T) {
	pgtest.DSN(t)
	for _, c := range recordsCases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, openPostgres) })
	}
}

func seedDemoPurposes(t *testing.T, e *env) {
	t.Helper()
	for _, p := range service.DemoPurposes() {
		if st, body := e.do("POST", "/v1/purposes", e.keys[auth.Owner], p); st != 201 {
			t.Fatalf("create purpose %s: %d %v", p.Key, st, body)
		}
	}
}

// testRopaFormats: content negotiation by ?format= and Accept, 406 for a
// format the record does not come in, and the version and digest on every
// export.
func testRopaFormats(t *testing.T, open func(testing.TB) store.Store) {
	e := newEnv(t, open)
	seedDemoPurposes(t, e)
	comp := e.keys[auth.Compliance]
	cases := []struct {
		name, query, accept string
		status              int
		ctype, contains     string
	}{
		{"default json", "", "", 200, "application/json", `"activities"`},
		{"csv by query", "?format=csv", "", 200, "text/csv; charset=utf-8", "record_version,record_digest"},
		{"markdown alias", "?format=md", "", 200, "text/markdown; charset=utf-8", "# Record of processing activities"},
		{"pdf by accept", "", "application/pdf", 200, "application/pdf", "%PDF-"},
		{"accept with q", "", "text/markdown;q=0.5, text/csv;q=0.9", 200, "text/csv; charset=utf-8", "record_version"},
		{"query wins over accept", "?format=json", "application/pdf", 200, "application/json", `"digest"`},
		{"wildcard", "", "*/*", 200, "application/json", `"findings"`},
		{"unknown format", "?format=docx", "", 406, "application/problem+json", `"not_acceptable"`},
		{"mermaid is for the data map", "?format=mermaid", "", 406, "application/problem+json", `"formats"`},
		{"unacceptable accept", "", "image/png", 406, "application/problem+json", `"not_acceptable"`},
		{"bad version", "?version=abc", "", 400, "application/problem+json", `"invalid_request"`},
		{"version never stored", "?version=99", "", 404, "application/problem+json", `"not_found"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var hdr []string
			if c.accept != "" {
				hdr = []string{"Accept", c.accept}
			}
			st, ct, body := e.export("/v1/ropa"+c.query, comp, hdr...)
			if st != c.status || ct != c.ctype || !bytes.Contains(body, []byte(c.contains)) {
				t.Fatalf("%d %s %.200s", st, ct, body)
			}
		})
	}
	req, _ := http.NewRequest("GET", e.srv.URL+"/v1/ropa?format=pdf", nil)
	req.Header.Set("Authorization", "Bearer "+comp)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("X-Record-Version") != "1" || !strings.HasPrefix(resp.Header.Get("X-Record-Digest"), "sha256:") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), `filename="ropa-v1.pdf"`) {
		t.Errorf("export headers: %v", resp.Header)
	}
	if st, ct, body := e.export("/v1/datamap?format=mermaid", comp); st != 200 || !strings.HasPrefix(ct, "text/vnd.mermaid") || !bytes.HasPrefix(body, []byte("flowchart LR")) {
		t.Errorf("data map: %d %s %s", st, ct, body)
	}
	if st, _, _ := e.export("/v1/datamap?format=pdf", comp); st != 406 {
		t.Errorf("data map as pdf: %d", st)
	}
	// Roles: the support role has no records:read; the other tenant sees
	// its own (empty) record, never this one.
	if st, _, _ := e.export("/v1/ropa", e.keys[auth.Support]); st != 403 {
		t.Errorf("support reads the record: %d", st)
	}
	if st, _, body := e.export("/v1/ropa", e.foreign); st != 200 || bytes.Contains(body, []byte("newsletter")) {
		t.Errorf("other tenant's record: %d %s", st, body)
	}
}

// testRopaVersionsAPI: a purpose change makes the next record a new
// version, listed with what changed and with an audit event.
func testRopaVersionsAPI(t *testing.T, open func(testing.TB) store.Store) {
	e := newEnv(t, open)
	seedDemoPurposes(t, e)
	comp := e.keys[auth.Compliance]
	if st, body := e.do("GET", "/v1/ropa", comp, nil); st != 200 || body["version"] != 1.0 {
		t.Fatalf("first: %d %v", st, body["version"])
	}
	if st, body := e.do("PATCH", "/v1/purposes/offers", e.keys[auth.Marketer], map[string]any{"consent_lifetime_days": 90}); st != 200 {
		t.Fatalf("patch: %d %v", st, body)
	}
	if st, body := e.do("GET", "/v1/ropa", comp, nil); st != 200 || body["version"] != 2.0 {
		t.Fatalf("after the change: %d %v", st, body["version"])
	}
	st, body := e.do("GET", "/v1/ropa/versions", e.keys[auth.Auditor], nil)
	vs, _ := body["versions"].([]any)
	if st != 200 || len(vs) != 2 {
		t.Fatalf("versions: %d %v", st, body)
	}
	raw, _ := json.Marshal(vs[0])
	var v2 service.RecordVersionView
	json.Unmarshal(raw, &v2)
	if v2.Version != 2 || len(v2.Changes) != 1 || v2.Changes[0].Path != "activities[offers].consent_validity_days" ||
		v2.Changes[0].From != "365" || v2.Changes[0].To != "90" {
		t.Errorf("version 2 changes: %s", raw)
	}
	if n := e.auditCount(string(service.ActionRecordVersion)); n != 2 {
		t.Errorf("%d record.version audit events, want 2", n)
	}
}

// testDPIASignOff: the compliance role signs off a worksheet it has read;
// a marketer cannot; an undetermined screening cannot be signed; a purpose
// change after the sign-off asks for a review; another tenant gets 404.
func testDPIASignOff(t *testing.T, open func(testing.TB) store.Store) {
	e := newEnv(t, open)
	seedDemoPurposes(t, e)
	comp := e.keys[auth.Compliance]
	st, d := e.do("GET", "/v1/dpias/2fa", comp, nil)
	if st != 200 || d["status"] != "draft" || d["outcome"] != "not_required" {
		t.Fatalf("2fa worksheet: %d %v", st, d)
	}
	digest := d["digest"]
	if st, body := e.do("POST", "/v1/dpias/2fa/signoff", e.keys[auth.Marketer], map[string]any{"digest": digest}); st != 403 {
		t.Errorf("marketer signs off: %d %v", st, body)
	}
	if st, body := e.do("POST", "/v1/dpias/2fa/signoff", comp, map[string]any{"digest": "sha256:stale"}); st != 409 {
		t.Errorf("stale digest: %d %v", st, body)
	}
	if st, body := e.do("POST", "/v1/dpias/2fa/signoff", comp, map[string]any{"digest": digest, "note": "reviewed with IT"}); st != 200 || body["status"] != "signed" {
		t.Fatalf("compliance signs off: %d %v", st, body)
	}
	if n := e.auditCount(string(service.ActionDPIASignOff)); n != 1 {
		t.Errorf("%d dpia.signoff audit events", n)
	}
	if st, _ := e.do("GET", "/v1/dpias/2fa", e.foreign, nil); st != 404 {
		t.Errorf("other tenant reads the worksheet: %d", st)
	}
	if st, _ := e.do("POST", "/v1/dpias/2fa/signoff", e.foreign, map[string]any{"digest": digest}); st != 404 {
		t.Errorf("other tenant signs off: %d", st)
	}
	// A marketing purpose leaves questions open: answer them first.
	_, nd := e.do("GET", "/v1/dpias/newsletter", comp, nil)
	if nd["outcome"] != "undetermined" {
		t.Fatalf("newsletter outcome %v", nd["outcome"])
	}
	if st, body := e.do("POST", "/v1/dpias/newsletter/signoff", comp, map[string]any{"digest": nd["digest"]}); st != 422 {
		t.Errorf("undetermined sign-off: %d %v", st, body)
	}
	answers := map[string]any{"answers": map[string]any{
		"evaluation_scoring": map[string]any{"answer": "no", "note": "same newsletter for everyone"},
		"sensitive_data":     map[string]any{"answer": "no"}, "matching_combining": map[string]any{"answer": "no"},
		"vulnerable_subjects": map[string]any{"answer": "no", "note": "adult customers"}}}
	if st, body := e.do("PUT", "/v1/dpias/newsletter", e.keys[auth.Marketer], answers); st != 403 {
		t.Errorf("marketer edits the worksheet: %d %v", st, body)
	}
	st, nd = e.do("PUT", "/v1/dpias/newsletter", comp, answers)
	if st != 200 || nd["outcome"] != "not_required" {
		t.Fatalf("answers: %d %v", st, nd)
	}
	for _, bad := range []map[string]any{
		{"answers": map[string]any{"nonsense": map[string]any{"answer": "no"}}},
		{"answers": map[string]any{"large_scale": map[string]any{"answer": "maybe"}}},
		{"risks": []any{map[string]any{"id": "r1", "risk": "x", "likelihood": "huge", "severity": "low", "residual": "low"}}},
	} {
		if st, body := e.do("PUT", "/v1/dpias/newsletter", comp, bad); st != 422 || body["code"] != "invalid_record" {
			t.Errorf("bad worksheet %v: %d %v", bad, st, body)
		}
	}
	if st, body := e.do("POST", "/v1/dpias/newsletter/signoff", comp, map[string]any{"digest": nd["digest"]}); st != 200 || body["status"] != "signed" {
		t.Fatalf("sign newsletter: %d %v", st, body)
	}
	e.do("PATCH", "/v1/purposes/newsletter", e.keys[auth.Owner], map[string]any{"channels": []string{"sms"}})
	if _, body := e.do("GET", "/v1/dpias/newsletter", comp, nil); body["status"] != "review_needed" {
		t.Errorf("after a purpose change: %v", body["status"])
	}
	_, fig := e.do("GET", "/v1/compliance/figures", comp, nil)
	dp, _ := fig["dpias"].(map[string]any)
	if dp["purposes"] != 4.0 || dp["signed"] != 1.0 || dp["unreviewed"] != 3.0 || dp["review_needed"] != 1.0 {
		t.Errorf("figures dpias: %v", dp)
	}
}

// testBreachRegister: record, scope (counts for readers, ids for the
// compliance role), deadline tracking, authority export, bad input and
// tenant isolation.
func testBreachRegister(t *testing.T, open func(testing.TB) store.Store) {
	e := newEnv(t, open)
	seedDemoPurposes(t, e)
	owner, comp := e.keys[auth.Owner], e.keys[auth.Compliance]
	var contacts []string
	for _, phone := range []string{"+4520123451", "+4520123452"} {
		st, body := e.do("POST", "/v1/contacts", owner, map[string]any{"identifiers": map[string]any{"phone": phone}})
		if st != 201 {
			t.Fatalf("contact: %d %v", st, body)
		}
		id := body["id"].(string)
		contacts = append(contacts, id)
		if st, body := e.do("PUT", "/v1/contacts/"+id+"/consents/offers/sms", owner, map[string]any{"status": "granted", "source": "api"}); st != 200 {
			t.Fatalf("consent: %d %v", st, body)
		}
	}
	from := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	in := map[string]any{"occurred_from": from, "nature": "Database copy on a lost laptop", "categories": []string{"identifiers", "consent_evidence"}}
	if st, body := e.do("POST", "/v1/breaches", e.keys[auth.Marketer], in); st != 403 {
		t.Errorf("marketer records a breach: %d %v", st, body)
	}
	st, b := e.do("POST", "/v1/breaches", comp, in)
	if st != 201 || b["deadline_status"] != "open" || b["approx_subjects"] != 2.0 || b["hours_left"].(float64) < 71.9 {
		t.Fatalf("create: %d %v", st, b)
	}
	id := b["id"].(string)
	st, aff := e.do("GET", "/v1/breaches/"+id+"/affected", e.keys[auth.Auditor], nil)
	if st != 200 || aff["contacts"] != 2.0 || aff["contact_ids"] != nil {
		t.Errorf("auditor scope: %d %v", st, aff)
	}
	if st, _ := e.do("GET", "/v1/breaches/"+id+"/affected?contacts=true", e.keys[auth.Auditor], nil); st != 403 {
		t.Errorf("auditor lists contact ids: %d", st)
	}
	st, aff = e.do("GET", "/v1/breaches/"+id+"/affected?contacts=true", comp, nil)
	ids, _ := aff["contact_ids"].([]any)
	if st != 200 || len(ids) != 2 {
		t.Errorf("compliance scope: %d %v", st, aff)
	}
	if n := e.auditCount(string(service.ActionBreachContacts)); n != 1 {
		t.Errorf("%d breach.contacts audit events", n)
	}
	notified := time.Now().Add(time.Second).UTC().Format(time.RFC3339Nano)
	if st, body := e.do("PATCH", "/v1/breaches/"+id, comp, map[string]any{"notified_at": notified, "measures": "keys rotated"}); st != 200 || body["deadline_status"] != "met" {
		t.Errorf("notified: %d %v", st, body)
	}
	if st, ct, body := e.export("/v1/breaches/"+id+"?format=markdown", e.keys[auth.Auditor]); st != 200 || !strings.HasPrefix(ct, "text/markdown") ||
		!bytes.Contains(body, []byte("Personal data breach "+id)) || !bytes.Contains(body, []byte("Distinct contacts:** 2")) {
		t.Errorf("report: %d %s\n%s", st, ct, body)
	}
	for name, bad := range map[string]map[string]any{
		"unknown category": {"occurred_from": from, "nature": "x", "categories": []string{"nonsense"}},
		"no window":        {"nature": "x", "categories": []string{"identifiers"}},
		"no nature":        {"occurred_from": from, "categories": []string{"identifiers"}},
		"future discovery": {"occurred_from": from, "nature": "x", "categories": []string{"identifiers"}, "discovered_at": time.Now().Add(time.Hour)},
	} {
		if st, body := e.do("POST", "/v1/breaches", comp, bad); st != 422 {
			t.Errorf("%s: %d %v", name, st, body)
		}
	}
	if st, body := e.do("POST", "/v1/breaches", comp, map[string]any{"occurred_from": from, "nature": "x", "categories": []string{"identifiers"}, "processor_channel": "pigeon"}); st != 422 || body["code"] != "unknown_channel" {
		t.Errorf("unknown processor channel: %d %v", st, body)
	}
	if st, _ := e.do("GET", "/v1/breaches/"+id, e.foreign, nil); st != 404 {
		t.Errorf("other tenant reads the breach: %d", st)
	}
	if st, _ := e.do("PATCH", "/v1/breaches/"+id, e.foreign, map[string]any{"measures": "x"}); st != 404 {
		t.Errorf("other tenant changes the breach: %d", st)
	}
	if _, body := e.do("GET", "/v1/breaches", e.foreign, nil); len(body["breaches"].([]any)) != 0 {
		t.Errorf("other tenant lists breaches: %v", body)
	}
}

// testProcessorsAndProfile: declaring a processor and extending the
// profile both show up in the record; bad declarations are 422.
func testProcessorsAndProfile(t *testing.T, open func(testing.TB) store.Store) {
	e := newEnv(t, open)
	seedDemoPurposes(t, e)
	owner, comp := e.keys[auth.Owner], e.keys[auth.Compliance]
	if st, body := e.do("PUT", "/v1/providers/sms", owner, map[string]any{"kind": "http", "settings": map[string]any{"url": "https://sms.example.com/send"}}); st != 200 {
		t.Fatalf("provider: %d %v", st, body)
	}
	for _, bad := range []map[string]any{
		{"country": "Denmark", "transfer_mechanism": "none"},
		{"country": "US", "transfer_mechanism": "none"},
		{"country": "US", "transfer_mechanism": "handshake"},
	} {
		if st, body := e.do("PUT", "/v1/processors/sms", comp, bad); st != 422 || body["code"] != "invalid_record" {
			t.Errorf("bad processor %v: %d %v", bad, st, body)
		}
	}
	if st, body := e.do("PUT", "/v1/processors/sms", e.keys[auth.Marketer], map[string]any{"country": "DK", "transfer_mechanism": "none"}); st != 403 {
		t.Errorf("marketer declares a processor: %d %v", st, body)
	}
	st, p := e.do("PUT", "/v1/processors/sms", comp, map[string]any{"name": "SMS Example Ltd", "country": "gb", "transfer_mechanism": "adequacy", "dpa_reference": "DPA-7"})
	if st != 200 || p["country"] != "GB" || p["endpoint"] != "sms.example.com" || p["configured"] != true {
		t.Fatalf("declare: %d %v", st, p)
	}
	if st, body := e.do("PUT", "/v1/tenant/profile", owner, map[string]any{"controller_name": "Acme A/S", "dpo_name": "Dana", "dpo_email": "dpo@acme.example",
		"controller_address": "Vej 1, 8000 Aarhus", "supervisory_authority": "Datatilsynet", "dpo_phone": "+45 70 00 00 00"}); st != 200 || body["controller_address"] != "Vej 1, 8000 Aarhus" {
		t.Fatalf("profile: %d %v", st, body)
	}
	if st, body := e.do("PUT", "/v1/tenant/profile", owner, map[string]any{"controller_name": "Acme A/S", "dpo_phone": "call me"}); st != 400 {
		t.Errorf("bad dpo_phone: %d %v", st, body)
	}
	if _, body := e.do("GET", "/v1/tenant/profile", comp, nil); body["supervisory_authority"] != "Datatilsynet" {
		t.Errorf("profile read back: %v", body)
	}
	_, rec := e.do("GET", "/v1/ropa", comp, nil)
	raw, _ := json.Marshal(rec)
	for _, w := range []string{`"name":"Acme A/S"`, `"address":"Vej 1, 8000 Aarhus"`, `"transfer_mechanism":"adequacy"`,
		`"country":"GB","mechanism":"adequacy","recipient":"SMS Example Ltd (sms)"`} {
		if !bytes.Contains(raw, []byte(w)) {
			t.Errorf("record lacks %s", w)
		}
	}
	if bytes.Contains(raw, []byte("controller_name_missing")) || !bytes.Contains(raw, []byte("storage_country_missing")) {
		t.Errorf("findings: %s", raw)
	}
}
