package service

import (
	"regexp"
	"testing"

	"github.com/consentgate/consentgate/internal/keyword"
)

// TestOptOutLines holds every opt-out instruction to what it promises: the
// keyword it tells people to send is an opt-out to the keyword engine, in
// that language.
func TestOptOutLines(t *testing.T) {
	must := []string{"en", "da", "nb", "sv", "de", "fr", "es"}
	for _, l := range must {
		if _, ok := optOutLine[l]; !ok {
			t.Errorf("no opt-out line in %s", l)
		}
		if _, ok := unsubscribeLine[l]; !ok {
			t.Errorf("no unsubscribe label in %s", l)
		}
	}
	word := regexp.MustCompile(`\b[A-Z]{3,}\b`)
	c := keyword.Default()
	for _, l := range OptOutLanguages() {
		line := OptOutLine(l)
		kw := word.FindString(line)
		if kw == "" {
			t.Errorf("%s: %q names no keyword in capitals", l, line)
			continue
		}
		if r := c.Classify(kw, l); r.Intent != keyword.IntentOptOut {
			t.Errorf("%s: replying %q to %q is %+v, not an opt-out", l, kw, line, r)
		}
		if !hasStopWord.MatchString(line) {
			t.Errorf("%s: the line itself would not be recognised as an instruction: %q", l, line)
		}
	}
}

func TestLangOf(t *testing.T) {
	for in, want := range map[string]string{"da-DK": "da", "nb-NO": "nb", "no": "nb", "nn-NO": "nb", "sv": "sv",
		"de-AT": "de", "": "en", "x!": "en", "fr-CA": "fr"} {
		if got := langOf(in); got != want {
			t.Errorf("langOf(%q) = %q, want %q", in, got, want)
		}
	}
	if OptOutLine("zz") != "Reply STOP to opt out" {
		t.Error("unknown language does not fall back to English")
	}
	for body, has := range map[string]bool{"Reply STOP to opt out": true, "Don't stop believing": false, "STOPP": true, "stopwatch": false} {
		if hasStopWord.MatchString(body) != has {
			t.Errorf("hasStopWord(%q) != %v", body, has)
		}
	}
}
