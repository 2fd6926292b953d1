package inbound

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
)

// TestTwilioVector checks SignTwilio against the example in Twilio's
// documentation of request validation.
func TestTwilioVector(t *testing.T) {
	form := url.Values{"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+12349013030"}, "Digits": {"1234"},
		"From": {"+12349013030"}, "To": {"+18005551212"}}
	const u = "https://mycompany.com/myapp.php?foo=1&bar=2"
	if got := SignTwilio([]byte("12345"), u, form); got != "0/KCTR6DLpKmkAf8muzZqo1nDgQ=" {
		t.Fatalf("SignTwilio = %s", got)
	}
	tokens := [][]byte{[]byte("old"), []byte("12345")}
	if err := VerifyTwilio(tokens, u, form, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="); err != nil {
		t.Fatal(err)
	}
	form.Set("Digits", "1235")
	if err := VerifyTwilio(tokens, u, form, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="); !errors.Is(err, ErrSignature) {
		t.Fatalf("tampered form verified: %v", err)
	}
	if err := VerifyTwilio(tokens, u, form, ""); !errors.Is(err, ErrSignature) {
		t.Fatal("empty signature verified")
	}
}

func TestDecodeTwilio(t *testing.T) {
	m, err := DecodeTwilio(url.Values{"From": {"whatsapp:+4520123456"}, "To": {"whatsapp:+4570000000"},
		"Body": {"STOP"}, "MessageSid": {"SM1"}})
	if err != nil || m.Channel != consent.WhatsApp || m.From != "+4520123456" || m.To != "+4570000000" || m.ProviderID != "SM1" {
		t.Fatalf("DecodeTwilio = %+v, %v", m, err)
	}
	if _, err := DecodeTwilio(url.Values{"From": {"+1"}, "To": {"+2"}, "Body": {"x"}}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("missing MessageSid: %v", err)
	}
	if _, err := DecodeTwilio(url.Values{"From": {"+1"}, "To": {"+2"}, "MessageSid": {"S"}, "Body": {strings.Repeat("x", MaxTextBytes+1)}}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("long body: %v", err)
	}
}

func TestGeneric(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"from":"+4520123456","to":"1234","text":"STOP","id":"m1","received_at":"2027-01-15T08:00:00+01:00"}`)
	m, err := DecodeGeneric(consent.SMS, body)
	if err != nil || m.Text != "STOP" || m.ReceivedAt != time.Date(2027, 1, 15, 7, 0, 0, 0, time.UTC) {
		t.Fatalf("DecodeGeneric = %+v, %v", m, err)
	}
	key := []byte("0123456789abcdef0123456789abcdef")
	sig := SignGeneric(key, "msg_1", now, body)
	ts := "1800000000"
	if err := VerifyGeneric([][]byte{key}, "msg_1", ts, "v1,bogus "+sig, body, now.Add(time.Minute)); err != nil {
		t.Fatalf("valid signature refused: %v", err)
	}
	for name, c := range map[string]struct {
		id, ts, sig string
		body        []byte
		at          time.Time
	}{
		"tampered body": {"msg_1", ts, sig, []byte(strings.Replace(string(body), "STOP", "HELP", 1)), now},
		"other id":      {"msg_2", ts, sig, body, now},
		"old":           {"msg_1", ts, sig, body, now.Add(6 * time.Minute)},
		"future":        {"msg_1", ts, sig, body, now.Add(-6 * time.Minute)},
		"no tag":        {"msg_1", ts, strings.TrimPrefix(sig, "v1,"), body, now},
		"bad ts":        {"msg_1", "soon", sig, body, now},
		"empty":         {"msg_1", ts, "", body, now},
	} {
		if err := VerifyGeneric([][]byte{key}, c.id, c.ts, c.sig, c.body, c.at); !errors.Is(err, ErrSignature) {
			t.Errorf("%s: verified (%v)", name, err)
		}
	}
	for name, b := range map[string]string{
		"unknown field": `{"from":"+45","to":"1","body":"STOP","id":"m"}`,
		"no id":         `{"from":"+45","to":"1","text":"STOP"}`,
		"trailing":      `{"from":"+45","to":"1","text":"STOP","id":"m"} {}`,
		"not json":      `from=+45`,
	} {
		if _, err := DecodeGeneric(consent.SMS, []byte(b)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
	k, err := ParseSecret(FormatSecret(key))
	if err != nil || string(k) != string(key) {
		t.Fatalf("secret round trip: %v", err)
	}
}

const waBody = `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{
 "messaging_product":"whatsapp","metadata":{"display_phone_number":"4570000000","phone_number_id":"99"},
 "contacts":[{"profile":{"name":"Anna"},"wa_id":"4520123456"}],
 "messages":[{"from":"4520123456","id":"wamid.A","timestamp":"1800000000","type":"text","text":{"body":"Stop"}},
             {"from":"4520123456","id":"wamid.B","timestamp":"1800000001","type":"button","button":{"text":"Stop promotions","payload":"x"}}]}}]}]}`

func TestWhatsApp(t *testing.T) {
	ms, err := DecodeWhatsApp([]byte(waBody))
	if err != nil || len(ms) != 2 {
		t.Fatalf("DecodeWhatsApp = %+v, %v", ms, err)
	}
	if m := ms[0]; m.From != "+4520123456" || m.To != "+4570000000" || m.Text != "Stop" || m.ProviderID != "wamid.A" ||
		m.Channel != consent.WhatsApp || m.ReceivedAt.Unix() != 1800000000 {
		t.Fatalf("message = %+v", m)
	}
	if ms[1].Text != "Stop promotions" {
		t.Fatalf("button = %+v", ms[1])
	}
	status := `{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"statuses":[{"id":"x"}]}}]}]}`
	if ms, err := DecodeWhatsApp([]byte(status)); err != nil || len(ms) != 0 {
		t.Fatalf("status payload = %v, %v", ms, err)
	}
	if _, err := DecodeWhatsApp([]byte(`{"object":"page"}`)); !errors.Is(err, ErrMalformed) {
		t.Fatalf("other object: %v", err)
	}
	secret := []byte("app-secret")
	sig := SignWhatsApp(secret, []byte(waBody))
	if err := VerifyWhatsApp([][]byte{secret}, []byte(waBody), sig); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "sha1=abc", "sha256=zz", sig[:len(sig)-2]} {
		if err := VerifyWhatsApp([][]byte{secret}, []byte(waBody), bad); !errors.Is(err, ErrSignature) {
			t.Errorf("%q verified", bad)
		}
	}
	if err := VerifyWhatsApp([][]byte{secret}, []byte(waBody+" "), sig); !errors.Is(err, ErrSignature) {
		t.Error("tampered body verified")
	}
}
