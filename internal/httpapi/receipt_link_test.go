package httpapi

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/ledger"
	"github.com/consentgate/consentgate/internal/service"
)

// TestReceiptLinkInConfirmation: with receipt links on, a STOP's
// confirmation carries a link that anyone holding it can open without a
// key; the receipt behind it verifies offline and says "withdrawn"; a
// changed link is refused.
func TestReceiptLinkInConfirmation(t *testing.T) {
	e := newInboundEnv(t)
	if err := e.svc.OpenLedger(t.Context(), service.LedgerOptions{Origin: "test.consentgate.local/ledger"}); err != nil {
		t.Fatal(err)
	}
	e.svc.ConfigureSending(service.SendConfig{PublicURL: e.srv.URL, ReceiptLinks: true})
	own := e.keys[auth.Owner]
	_, c := e.must("POST", "/v1/contacts", own, `{"identifiers":{"phone":"+45 20 12 34 56"},"locale":"da-DK"}`, 201)
	e.must("PUT", "/v1/contacts/"+fmt.Sprint(c["id"])+"/consents/offers/sms", own, `{"status":"granted","source":"web"}`, 200)
	if st := e.twilio(anna, "1234", "STOP", "SM1", twilioToken); st != 200 {
		t.Fatalf("STOP: %d", st)
	}
	rep := e.replies.Last()
	m := regexp.MustCompile(`Kvittering: (\S+/r/([A-Za-z0-9_-]{56}))`).FindStringSubmatch(rep.Body)
	if m == nil {
		t.Fatalf("no receipt link in %q", rep.Body)
	}
	path := strings.TrimPrefix(m[1], e.srv.URL)
	raw := get(t, e.env, path, "", 200)
	r, err := ledger.ParseReceipt(raw)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := e.svc.LedgerKey()
	if err := ledger.VerifyReceipt(r, key); err != nil || r.Event.Status != "withdrawn" || r.PIIPrincipalID != c["id"] {
		t.Fatalf("receipt %+v: %v", r.Event, err)
	}
	if strings.Contains(string(raw), "20123456") {
		t.Fatal("receipt holds the phone number")
	}
	tok := m[2]
	bad := tok[:len(tok)-1] + map[bool]string{true: "A", false: "B"}[tok[len(tok)-1] != 'A']
	for _, p := range []string{"/r/" + bad, "/r/short", "/r/" + strings.Repeat("A", 56)} {
		if st, _ := e.do("GET", p, "", nil); st != 404 {
			t.Fatalf("GET %s: %d, want 404", p, st)
		}
	}
}
