package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/inbound"
	"github.com/consentgate/consentgate/internal/index"
	"github.com/consentgate/consentgate/internal/service"
	"github.com/consentgate/consentgate/internal/service/servicetest"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/sqlite"
	"github.com/consentgate/consentgate/internal/vault"
)

const twilioToken = "twilio-auth-token-0123456789"

// inboundEnv is a running API whose service has a recording reply queue,
// set before the server starts (SetReplyQueue is a start-up call).
type inboundEnv struct {
	*env
	replies    *servicetest.Replies
	dbPath     string
	genericKey []byte // the tenant's generic webhook key
	waKey      []byte
}

func newInboundEnv(t testing.TB) *inboundEnv { return newInboundEnvSync(t, "NORMAL") }

// newInboundEnvSync opens the store with SQLite's synchronous setting sync:
// "FULL" makes every commit durable on power loss (the benchmarks use it).
func newInboundEnvSync(t testing.TB, sync string) *inboundEnv {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "inbound.db")
	st, err := sqlite.Open(ctx, path, sqlite.Options{Synchronous: sync})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	master, _ := vault.NewKey()
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ix := index.New()
	svc := service.New(service.Config{Store: st, Index: ix, MasterKey: master, DefaultRegion: "DK", Logger: log})
	t.Cleanup(svc.Close)
	q := &servicetest.Replies{}
	svc.SetReplyQueue(q)
	ix.MarkReady()
	e := &env{t: t, svc: svc, store: st, index: ix, logs: logs, keys: map[auth.Role]string{}}
	for i, name := range []string{"acme", "globex"} {
		tn, err := svc.CreateTenant(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		k, _, err := svc.CreateAPIKey(ctx, tn.ID, auth.Owner, "owner", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			e.tenant, e.keys[auth.Owner] = tn.ID, k
			dk, _, _ := svc.CreateAPIKey(ctx, tn.ID, auth.Developer, "dev", time.Time{})
			e.keys[auth.Developer] = dk
		} else {
			e.other, e.foreign = tn.ID, k
		}
	}
	e.srv = httptest.NewServer(New(Config{Service: svc, Logger: log}))
	t.Cleanup(e.srv.Close)
	ie := &inboundEnv{env: e, replies: q, dbPath: path}
	ie.setup()
	return ie
}

// setup configures acme: two purposes on SMS and WhatsApp, a short code and
// a WhatsApp number carrying both, the three webhook secrets, a profile.
func (e *inboundEnv) setup() {
	own := e.keys[auth.Owner]
	for _, b := range []string{
		`{"key":"newsletter","name":"News","description":"Monthly news about our shop","category":"marketing","basis":"consent","channels":["sms","whatsapp"],"double_opt_in":true}`,
		`{"key":"offers","name":"Offers","description":"Weekly offers","category":"marketing","basis":"consent","channels":["sms","whatsapp"]}`,
	} {
		e.must("POST", "/v1/purposes", own, b, 201)
	}
	e.must("POST", "/v1/senders", own, `{"channel":"sms","kind":"short_code","address":"1234","purposes":["newsletter","offers"]}`, 201)
	e.must("POST", "/v1/senders", own, `{"channel":"whatsapp","kind":"whatsapp_number","address":"+45 33 12 34 56","purposes":["newsletter","offers"]}`, 201)
	e.must("POST", "/v1/webhook-secrets", own, `{"provider":"twilio","secret":"`+twilioToken+`"}`, 201)
	_, ans := e.must("POST", "/v1/webhook-secrets", own, `{"provider":"generic"}`, 201)
	key, err := inbound.ParseSecret(fmt.Sprint(ans["secret"]))
	if err != nil {
		e.t.Fatalf("generic secret: %v (%v)", err, ans)
	}
	e.genericKey = key
	e.waKey = []byte("meta-app-secret-0123456789")
	e.must("POST", "/v1/webhook-secrets", own, `{"provider":"whatsapp","secret":"`+string(e.waKey)+`"}`, 201)
	e.must("PUT", "/v1/tenant/profile", own, `{"controller_name":"Acme A/S","privacy_notice_url":"https://acme.example/privacy","dpo_name":"Dana Holm","dpo_email":"dpo@acme.example"}`, 200)
}

func (e *inboundEnv) must(method, path, key, body string, status int) (int, map[string]any) {
	e.t.Helper()
	var b any
	if body != "" {
		b = body
	}
	st, ans := e.do(method, path, key, b)
	if st != status {
		e.t.Fatalf("%s %s: %d, want %d (%v)", method, path, st, status, ans)
	}
	return st, ans
}

// twilio posts a Twilio-signed inbound SMS and returns the status.
func (e *inboundEnv) twilio(from, to, text, sid string, token string) int {
	e.t.Helper()
	form := url.Values{"From": {from}, "To": {to}, "Body": {text}, "MessageSid": {sid}, "AccountSid": {"AC1"}, "NumMedia": {"0"}}
	u := e.srv.URL + "/v1/inbound/twilio"
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(inbound.HeaderTwilioSignature, inbound.SignTwilio([]byte(token), u, form))
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// generic posts the generic JSON format signed the Standard Webhooks way.
func (e *inboundEnv) generic(ch, body string, key []byte, at time.Time) (int, map[string]any) {
	e.t.Helper()
	id := "msg_" + strconv.FormatInt(time.Now().UnixNano(), 36)
	return e.do("POST", "/v1/inbound/"+ch, "", body, inbound.HeaderWebhookID, id,
		inbound.HeaderWebhookTimestamp, strconv.FormatInt(at.Unix(), 10),
		inbound.HeaderWebhookSignature, inbound.SignGeneric(key, id, at, []byte(body)))
}

func (e *inboundEnv) decide(phone, purpose string) (bool, string) {
	e.t.Helper()
	_, ans := e.must("POST", "/v1/decisions", e.keys[auth.Developer],
		fmt.Sprintf(`{"to":{"phone":%q},"channel":"sms","purpose":%q}`, phone, purpose), 200)
	return ans["allowed"] == true, fmt.Sprint(ans["reason"])
}

func (e *inboundEnv) events(tenantID string) int {
	n := 0
	e.store.Read(context.Background(), func(tx store.Tx) error {
		evs, err := tx.ConsentEventsAfter(context.Background(), 0, 100000)
		for _, ev := range evs {
			if ev.TenantID == tenantID {
				n++
			}
		}
		return err
	})
	return n
}

const anna = "+4520123456"

// TestInboundEndToEnd follows one person through STOP, a replayed STOP,
// START, SUBSCRIBE and YES on a Twilio-signed short code, checking after
// each step the decision, the events and the reply.
func TestInboundEndToEnd(t *testing.T) {
	e := newInboundEnv(t)
	own := e.keys[auth.Owner]
	_, c := e.must("POST", "/v1/contacts", own, `{"identifiers":{"phone":"+45 20 12 34 56"},"locale":"da-DK"}`, 201)
	e.must("PUT", "/v1/contacts/"+fmt.Sprint(c["id"])+"/consents/offers/sms", own, `{"status":"granted","source":"web"}`, 200)
	if ok, r := e.decide(anna, "offers"); !ok {
		t.Fatalf("before STOP: %s", r)
	}

	if st := e.twilio(anna, "1234", "STOP", "SM1", twilioToken); st != 200 {
		t.Fatalf("STOP: %d", st)
	}
	// The webhook has returned: the opt-out is in force.
	if ok, r := e.decide(anna, "offers"); ok || r != string(consent.ReasonConsentWithdrawn) {
		t.Fatalf("after STOP: %v %s", ok, r)
	}
	rep := e.replies.Last()
	if rep.Kind != "opt_out_confirmation" || rep.Language != "da" || rep.InboundID != "SM1" || rep.Sender != "1234" ||
		!strings.Contains(rep.Body, "Acme A/S") || !strings.Contains(rep.Body, "Offers") {
		t.Fatalf("reply = %+v", rep)
	}
	events, replies := e.events(e.tenant), len(e.replies.All())

	if st := e.twilio(anna, "1234", "STOP", "SM1", twilioToken); st != 200 {
		t.Fatalf("replay: %d", st)
	}
	if n := e.events(e.tenant); n != events || len(e.replies.All()) != replies {
		t.Fatalf("replay changed something: events %d→%d, replies %d→%d", events, n, replies, len(e.replies.All()))
	}

	e.twilio(anna, "1234", "start", "SM2", twilioToken)
	if ok, r := e.decide(anna, "offers"); !ok {
		t.Fatalf("after START: %s", r)
	}
	if ok, r := e.decide(anna, "newsletter"); ok || r != string(consent.ReasonNoConsent) {
		t.Fatalf("START restored what STOP did not withdraw from: %v %s", ok, r)
	}

	e.twilio(anna, "1234", "SUBSCRIBE", "SM3", twilioToken)
	if ok, r := e.decide(anna, "newsletter"); ok || r != string(consent.ReasonConsentPending) {
		t.Fatalf("after SUBSCRIBE: %v %s", ok, r)
	}
	rep = e.replies.Last()
	if rep.Kind != "double_opt_in_request" || !strings.Contains(rep.Body, "Monthly news about our shop") || !strings.Contains(rep.Body, "STOP") {
		t.Fatalf("double opt-in request = %+v", rep)
	}

	e.twilio(anna, "1234", "Ja tak", "SM4", twilioToken)
	if ok, r := e.decide(anna, "newsletter"); !ok {
		t.Fatalf("after YES: %s", r)
	}
	if rep := e.replies.Last(); rep.Kind != "opt_in_confirmation" || !strings.Contains(rep.Body, "STOP") {
		t.Fatalf("confirmation = %+v", rep)
	}

	e.twilio(anna, "1234", "HELP", "SM5", twilioToken)
	rep = e.replies.Last()
	for _, want := range []string{"Acme A/S", "https://acme.example/privacy", "dpo@acme.example", "STOP"} {
		if rep.Kind != "help" || !strings.Contains(rep.Body, want) {
			t.Fatalf("HELP reply lacks %q: %+v", want, rep)
		}
	}

	// Every keyword event carries sealed evidence naming the message.
	id := fmt.Sprint(c["id"])
	var last *store.ConsentEvent
	e.store.Read(context.Background(), func(tx store.Tx) error {
		evs, _ := tx.ListConsentEvents(context.Background(), e.tenant, id)
		last = evs[len(evs)-1]
		return nil
	})
	if last.Source != "keyword" || len(last.EvidenceSealed) == 0 || bytes.Contains(last.EvidenceSealed, []byte("SM4")) {
		t.Fatalf("event = %+v", last)
	}
	e.assertNoPlaintext("Ja tak", "20123456")
}

// assertNoPlaintext checks the database files and the logs for values that
// must never be stored or logged in clear.
func (e *inboundEnv) assertNoPlaintext(values ...string) {
	e.t.Helper()
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(e.dbPath + suffix)
		if err != nil {
			continue
		}
		for _, v := range values {
			if bytes.Contains(b, []byte(v)) {
				e.t.Errorf("database file%s holds %q in clear", suffix, v)
			}
		}
	}
	for _, v := range values {
		if strings.Contains(e.logs.String(), v) {
			e.t.Errorf("logs hold %q", v)
		}
	}
}

func TestInboundBadInput(t *testing.T) {
	e := newInboundEnv(t)
	now := time.Now()
	before := e.events(e.tenant)
	if st := e.twilio(anna, "1234", "STOP", "SMbad", "wrong-token-0123456789"); st != 401 {
		t.Fatalf("bad Twilio signature: %d", st)
	}
	ok := `{"from":"+4520123456","to":"1234","text":"SUBSCRIBE","id":"g1"}`
	cases := []struct {
		name, ch, body string
		key            []byte
		at             time.Time
		status         int
		code           string
	}{
		{"bad signature", "sms", ok, []byte("not-the-key"), now, 401, "invalid_signature"},
		{"stale timestamp", "sms", ok, e.genericKey, now.Add(-10 * time.Minute), 401, "invalid_signature"},
		{"malformed", "sms", `{"from":`, e.genericKey, now, 400, "invalid_request"},
		{"unknown field", "sms", `{"from":"+4520123456","to":"1234","body":"STOP","id":"g2"}`, e.genericKey, now, 400, "invalid_request"},
		{"unknown destination", "sms", `{"from":"+4520123456","to":"9999","text":"STOP","id":"g3"}`, e.genericKey, now, 404, "unknown_sender"},
		{"oversized text", "sms", `{"from":"+4520123456","to":"1234","text":"` + strings.Repeat("x", inbound.MaxTextBytes+1) + `","id":"g4"}`, e.genericKey, now, 413, "request_too_large"},
		{"unknown channel", "pigeon", ok, e.genericKey, now, 422, "unknown_channel"},
		{"bad from", "sms", `{"from":"not a number","to":"1234","text":"STOP","id":"g5"}`, e.genericKey, now, 400, "invalid_request"},
	}
	for _, c := range cases {
		st, ans := e.generic(c.ch, c.body, c.key, c.at)
		if st != c.status || ans["code"] != c.code {
			t.Errorf("%s: %d %v, want %d %s", c.name, st, ans["code"], c.status, c.code)
		}
	}
	if n := e.events(e.tenant); n != before {
		t.Fatalf("refused requests wrote %d events", n-before)
	}
	e.store.Read(context.Background(), func(tx store.Tx) error {
		for _, id := range []string{"SMbad", "g1", "g3", "g4"} {
			if _, err := tx.GetInboundMessage(context.Background(), e.tenant, consent.SMS, id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("inbound %s stored (%v)", id, err)
			}
		}
		return nil
	})
	// The same address cannot be registered by another tenant.
	if st, ans := e.do("POST", "/v1/senders", e.foreign, `{"channel":"sms","kind":"short_code","address":"1234"}`); st != 409 {
		t.Fatalf("duplicate sender: %d %v", st, ans)
	}
}

// TestInboundGenericAndWhatsApp: an unknown number that subscribes becomes a
// contact; a WhatsApp Cloud STOP withdraws on WhatsApp only.
func TestInboundGenericAndWhatsApp(t *testing.T) {
	e := newInboundEnv(t)
	const bo = "+4531415926"
	st, ans := e.generic("sms", `{"from":"+45 31 41 59 26","to":"1234","text":"join please","id":"g1","received_at":"2026-01-01T10:00:00Z"}`, e.genericKey, time.Now())
	if st != 200 || ans["outcome"] != "pending" || ans["events"] != float64(2) {
		t.Fatalf("SUBSCRIBE from an unknown number: %d %v", st, ans)
	}
	if ok, r := e.decide(bo, "offers"); !ok {
		t.Fatalf("offers (single opt-in) after JOIN: %s", r)
	}
	if rep := e.replies.Last(); rep.Kind != "double_opt_in_request" || rep.Language != "en" || rep.ContactID == "" {
		t.Fatalf("reply = %+v", rep)
	}
	// WhatsApp Cloud: STOP withdraws both purposes on WhatsApp, SMS stays.
	wa := `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",
		"metadata":{"display_phone_number":"4533123456","phone_number_id":"9"},"messages":[{"from":"4531415926","id":"wamid.1","timestamp":"1800000000","type":"text","text":{"body":"Stop"}}]}}]}]}`
	st, ans = e.do("POST", "/v1/inbound/whatsapp-cloud", "", wa, inbound.HeaderHubSignature, inbound.SignWhatsApp(e.waKey, []byte(wa)))
	if st != 200 {
		t.Fatalf("WhatsApp STOP: %d %v", st, ans)
	}
	if ok, _ := e.decide(bo, "offers"); !ok {
		t.Fatal("a WhatsApp STOP withdrew SMS consent")
	}
	st, _ = e.do("POST", "/v1/inbound/whatsapp-cloud", "", wa, inbound.HeaderHubSignature, inbound.SignWhatsApp([]byte("wrong"), []byte(wa)))
	if st != 401 {
		t.Fatalf("bad WhatsApp signature: %d", st)
	}
	e.assertNoPlaintext("31415926", "join please")
}

// TestTenantKeywordsAndForwarding: a purpose keyword stops one purpose;
// conversation is forwarded, signed, to the tenant's webhook and the sealed
// copy deleted once delivered.
func TestTenantKeywordsAndForwarding(t *testing.T) {
	e := newInboundEnv(t)
	own := e.keys[auth.Owner]
	e.must("POST", "/v1/keywords", own, `{"phrase":"STOP NEWS","intent":"opt_out","scope":"newsletter","language":"en"}`, 201)
	if st, ans := e.do("POST", "/v1/keywords", own, `{"phrase":"STOP NEWS","intent":"opt_out","scope":"newsletter","language":"en"}`); st != 409 {
		t.Fatalf("duplicate rule: %d %v", st, ans)
	}
	if st, ans := e.do("POST", "/v1/keywords", own, `{"phrase":"HALT","intent":"opt_out","action":"confirm"}`); st != 422 || ans["code"] != "invalid_keyword" {
		t.Fatalf("invalid rule: %d %v", st, ans)
	}
	_, ans := e.must("POST", "/v1/keywords/classify", own, `{"texts":["stop news please","Where is the bus stop?"]}`, 200)
	res := ans["results"].([]any)
	if r := res[0].(map[string]any); r["scope"] != "newsletter" || r["intent"] != "opt_out" {
		t.Fatalf("classify = %v", res)
	}
	_, c := e.must("POST", "/v1/contacts", own, `{"identifiers":{"phone":"+4520123456"}}`, 201)
	for _, p := range []string{"newsletter", "offers"} {
		e.must("PUT", "/v1/contacts/"+fmt.Sprint(c["id"])+"/consents/"+p+"/sms", own, `{"status":"granted","confirmed":true}`, 200)
	}
	e.twilio(anna, "1234", "stop news", "SM1", twilioToken)
	if ok, _ := e.decide(anna, "newsletter"); ok {
		t.Fatal("STOP NEWS did not stop the newsletter")
	}
	if ok, _ := e.decide(anna, "offers"); !ok {
		t.Fatal("STOP NEWS stopped offers too")
	}
	if rep := e.replies.Last(); !strings.Contains(rep.Body, "Offers") { // what continues
		t.Fatalf("reply does not say what continues: %q", rep.Body)
	}

	var mu sync.Mutex
	var got []*http.Request
	var bodies [][]byte
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, bodies = append(got, r), append(bodies, b)
		mu.Unlock()
	}))
	defer hook.Close()
	_, ft := e.must("PUT", "/v1/forwarding", own, `{"url":"`+hook.URL+`"}`, 200)
	key, _ := inbound.ParseSecret(fmt.Sprint(ft["secret"]))
	st, ans := e.generic("sms", `{"from":"+4520123456","to":"1234","text":"Where is the bus stop?","id":"g9"}`, e.genericKey, time.Now())
	if st != 200 || ans["outcome"] != "forwarded" || ans["events"] != float64(0) || ans["reply_queued"] != false {
		t.Fatalf("conversation: %d %v", st, ans)
	}
	e.assertNoPlaintext("bus stop") // sealed while pending
	n, err := e.svc.DeliverForwards(context.Background(), hook.Client())
	if err != nil || n != 1 {
		t.Fatalf("DeliverForwards = %d, %v", n, err)
	}
	mu.Lock()
	r, b := got[0], bodies[0]
	mu.Unlock()
	if err := inbound.VerifyGeneric([][]byte{key}, r.Header.Get(inbound.HeaderWebhookID), r.Header.Get(inbound.HeaderWebhookTimestamp),
		r.Header.Get(inbound.HeaderWebhookSignature), b, time.Now()); err != nil {
		t.Fatalf("forward signature: %v", err)
	}
	var fm service.ForwardedMessage
	if err := json.Unmarshal(b, &fm); err != nil || fm.Text != "Where is the bus stop?" || fm.From != anna || fm.ContactID == "" {
		t.Fatalf("forwarded = %+v, %v", fm, err)
	}
	e.store.Read(context.Background(), func(tx store.Tx) error {
		if fs, _ := tx.DueForwards(context.Background(), time.Now().Add(time.Hour), 10); len(fs) != 0 {
			t.Errorf("delivered forward still stored: %d", len(fs))
		}
		return nil
	})
}

// TestOptOutSurvivesReplyFailure: without a reply queue, or with one that
// fails, the opt-out is still recorded and in force.
func TestOptOutSurvivesReplyFailure(t *testing.T) {
	noQueue := &inboundEnv{env: newEnv(t, openSQLite)}
	noQueue.setup()
	failing := newInboundEnv(t)
	failing.replies.FailWith(errors.New("outbox down"))
	for name, e := range map[string]*inboundEnv{"no queue": noQueue, "failing queue": failing} {
		own := e.keys[auth.Owner]
		_, c := e.must("POST", "/v1/contacts", own, `{"identifiers":{"phone":"`+anna+`"}}`, 201)
		e.must("PUT", "/v1/contacts/"+fmt.Sprint(c["id"])+"/consents/offers/sms", own, `{"status":"granted"}`, 200)
		st, ans := e.generic("sms", `{"from":"`+anna+`","to":"1234","text":"STOP","id":"s1"}`, e.genericKey, time.Now())
		if st != 200 || ans["outcome"] != "opt_out" || ans["reply_queued"] != false {
			t.Fatalf("%s: %d %v", name, st, ans)
		}
		if ok, r := e.decide(anna, "offers"); ok {
			t.Fatalf("%s: opt-out not in force (%s)", name, r)
		}
	}
	if !strings.Contains(noQueue.logs.String(), "no reply queue is configured") {
		t.Fatal("missing reply queue not logged")
	}
}
