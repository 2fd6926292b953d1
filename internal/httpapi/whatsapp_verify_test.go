package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/consentgate/consentgate/internal/auth"
)

// TestWhatsAppSubscriptionHandshake: the verify token shown with the
// tenant's WhatsApp secret makes the callback echo Meta's challenge; any
// other token, mode or a tenant without a WhatsApp secret gets 403.
func TestWhatsAppSubscriptionHandshake(t *testing.T) {
	e := newInboundEnv(t)
	var list struct {
		WebhookSecrets []struct {
			Provider    string `json:"provider"`
			VerifyToken string `json:"verify_token"`
		} `json:"webhook_secrets"`
	}
	raw := get(t, e.env, "/v1/webhook-secrets", e.keys[auth.Owner], 200)
	if err := json.Unmarshal(raw, &list); err != nil {
		t.Fatal(err)
	}
	token := ""
	for _, s := range list.WebhookSecrets {
		if s.Provider == "whatsapp" {
			token = s.VerifyToken
		} else if s.VerifyToken != "" {
			t.Fatalf("%s secret shows a verify token", s.Provider)
		}
	}
	if !strings.HasPrefix(token, "cgv_") {
		t.Fatalf("no WhatsApp verify token in %s", raw)
	}
	handshake := func(mode, tok, challenge string) (int, string) {
		q := url.Values{"hub.mode": {mode}, "hub.verify_token": {tok}, "hub.challenge": {challenge}}
		resp, err := http.Get(e.srv.URL + "/v1/inbound/whatsapp-cloud?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st, body := handshake("subscribe", token, "1158201444"); st != 200 || body != "1158201444" {
		t.Fatalf("handshake: %d %q", st, body)
	}
	other := strings.Replace(token, e.tenant, e.other, 1)
	for _, c := range [][3]string{
		{"subscribe", token[:len(token)-1] + "x", "1"},
		{"unsubscribe", token, "1"},
		{"subscribe", token, ""},
		{"subscribe", "whatever", "1"},
		{"subscribe", other, "1"}, // another tenant's id with this tenant's MAC
	} {
		if st, _ := handshake(c[0], c[1], c[2]); st != 403 {
			t.Errorf("handshake %v: %d, want 403", c, st)
		}
	}
	// A tenant without a WhatsApp secret cannot be subscribed even with its
	// own valid token.
	tok2, err := e.svc.WhatsAppVerifyToken(t.Context(), e.other)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := handshake("subscribe", tok2, "1"); st != 403 {
		t.Fatalf("tenant without a WhatsApp secret: %d", st)
	}

}
