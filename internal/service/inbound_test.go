package service

import (
	"strings"
	"testing"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/keywordflow"
	"github.com/consentgate/consentgate/internal/store"
)

// TestBuiltinReplies: every kind renders in every built-in language with no
// placeholder left, confirmations say how to stop, the opt-in quotes the
// notice, and HELP names the controller, privacy notice and DPO.
func TestBuiltinReplies(t *testing.T) {
	news := &consent.Purpose{Key: "news", Name: "News", Description: "Monthly news"}
	offers := &consent.Purpose{Key: "offers", Name: "Offers"}
	prof := &store.TenantProfile{ControllerName: "Acme", PrivacyNoticeURL: "https://acme.example/p", DPOName: "Dana", DPOEmail: "dpo@acme.example"}
	for _, lang := range []string{"en", "da", "nb", "sv", "de", "fr", "es"} {
		for _, kind := range replyKinds {
			body, got := renderReply(replyContext{kind: kind, lang: lang, tenant: "Acme", affected: []*consent.Purpose{news},
				continuing: []*consent.Purpose{offers}, profile: prof, window: 24})
			if got != lang || strings.ContainsAny(body, "{}") || !strings.HasPrefix(body, "Acme") {
				t.Errorf("%s/%s: %q (%s)", lang, kind, body, got)
			}
			switch kind {
			case keywordflow.ReplyOptIn, keywordflow.ReplyDoubleOptIn:
				if !strings.Contains(body, "Monthly news.") || !strings.Contains(strings.ToUpper(body), "STOP") && !strings.Contains(body, "BAJA") {
					t.Errorf("%s/%s lacks the notice or the way to stop: %q", lang, kind, body)
				}
			case keywordflow.ReplyOptOut:
				if !strings.Contains(body, "Offers") {
					t.Errorf("%s/%s does not say what continues: %q", lang, kind, body)
				}
			case keywordflow.ReplyHelp:
				for _, w := range []string{"https://acme.example/p", "Dana, dpo@acme.example"} {
					if !strings.Contains(body, w) {
						t.Errorf("%s/help lacks %q: %q", lang, w, body)
					}
				}
			}
		}
	}
}

func TestReplyOverridesAndFallback(t *testing.T) {
	ov := []*store.ReplyTemplate{{Kind: "help", Language: "fi", Body: "{tenant}: apua. {stop}"}, {Kind: "help", Language: "en", Body: "Call us, {tenant}."}}
	if body, lang := renderReply(replyContext{kind: "help", lang: "fi", tenant: "Acme", overrides: ov}); lang != "fi" || body != "Acme: apua. Reply STOP to opt out." {
		t.Errorf("override in a language without built-ins: %q %s", body, lang)
	}
	if body, lang := renderReply(replyContext{kind: "help", lang: "pl", tenant: "Acme", overrides: ov}); lang != "en" || body != "Call us, Acme." {
		t.Errorf("fallback to the English override: %q %s", body, lang)
	}
	if body, _ := renderReply(replyContext{kind: keywordflow.ReplyOptOut, lang: "en", tenant: "Acme"}); body != "Acme: You will no longer receive messages here." {
		t.Errorf("no purposes, no continuing: %q", body)
	}
	for body, ok := range map[string]bool{"{tenant}: stopped. {stop}": true, "{tenant} {bogus} STOP": false, "no way out": false} {
		if err := checkTemplate(keywordflow.ReplyOptOut, "en", body); (err == nil) != ok {
			t.Errorf("checkTemplate(%q) = %v", body, err)
		}
	}
}
