package keyword

import (
	"errors"
	"sync"
	"testing"
)

var tenantRules = []Rule{
	{Phrase: "STOP NEWS", Intent: IntentOptOut, Action: ActionStop, Scope: "newsletter", Language: "en"},
	{Phrase: "STOPP TILBUD", Intent: IntentOptOut, Scope: "offers", Language: "nb"},
	{Phrase: "JOIN OFFERS", Intent: IntentOptIn, Action: ActionSubscribe, Scope: "offers", Language: "en"},
	{Phrase: "JOIN NEWS", Intent: IntentOptIn, Scope: "newsletter"},
	{Phrase: "HELP NEWS", Intent: IntentHelp, Scope: "newsletter", Language: "EN"},
	{Phrase: "SLUT", Intent: IntentOptOut, Scope: "all", Language: "da"},
	{Phrase: "START", Intent: IntentOptIn, Action: ActionSubscribe, Scope: "welcome", Language: "en"},
}

func TestTenantRules(t *testing.T) {
	c, err := New(tenantRules)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ text, hint, want string }{
		{"STOP NEWS", "", "opt_out/stop/newsletter/en/STOP NEWS"},
		{"stop news please", "", "opt_out/stop/newsletter/en/STOP NEWS"},
		{"Stop, news!", "", "opt_out/stop/newsletter/en/STOP NEWS"},
		{"stopp tilbud", "", "opt_out/stop/offers/nb/STOPP TILBUD"},
		{"Stopp tilbud, takk", "nb", "opt_out/stop/offers/nb/STOPP TILBUD"},
		{"JOIN OFFERS", "", "opt_in/subscribe/offers/en/JOIN OFFERS"},
		{"join news", "da", "opt_in/subscribe/newsletter//JOIN NEWS"},
		{"help news", "", "help/help/newsletter/en/HELP NEWS"},
		{"slut", "", "opt_out/stop_all/all/da/SLUT"},
		// A tenant phrase overrides a pack keyword with the same words.
		{"start", "", "opt_in/subscribe/welcome/en/START"},
		// The packs still work around the tenant's phrases.
		{"STOP", "", "opt_out/stop/sender/en/STOP"},
		{"join", "", "opt_in/subscribe/sender/en/JOIN"},
		{"stop news all", "", "opt_out/stop_all/all/en/STOP NEWS"},
		// Plain STOP beside a purpose keyword widens to the sender.
		{"stop news stop", "", "opt_out/stop/sender/en/STOP"},
		// A purpose keyword beats a pack keyword of the same intent.
		{"yes join offers", "", "opt_in/subscribe/offers/en/JOIN OFFERS"},
		{"don't stop news", "", "none"},
		{"stop news?", "", "opt_out/stop/newsletter/en/STOP NEWS"},
		{"stop news now?", "", "none"},
	}
	for _, tc := range cases {
		if got := format(c.Classify(tc.text, tc.hint)); got != tc.want {
			t.Errorf("Classify(%q, %q) = %s, want %s", tc.text, tc.hint, got, tc.want)
		}
	}
	// Without the tenant rule, "stopp tilbud" is plain STOPP with a filler,
	// which stops the whole sender: the safe side of a missed purpose.
	if got := format(Default().Classify("stopp tilbud", "nb")); got != "opt_out/stop/sender/nb/STOPP" {
		t.Errorf("default classifier: stopp tilbud = %s", got)
	}
}

func TestTenantRulesOnly(t *testing.T) {
	c, err := New([]Rule{{Phrase: "quit news", Intent: IntentOptOut, Scope: "newsletter"}}, Pack{Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if got := format(c.Classify("QUIT NEWS", "")); got != "opt_out/stop/newsletter//QUIT NEWS" {
		t.Errorf("quit news = %s", got)
	}
	if got := c.Classify("STOP", ""); got.Intent != IntentNone {
		t.Errorf("STOP without packs = %+v, want none", got)
	}
}

func TestRuleValidation(t *testing.T) {
	cases := []struct {
		name string
		rule Rule
		want error
	}{
		{"empty phrase", Rule{Phrase: "", Intent: IntentOptOut}, ErrEmptyPhrase},
		{"blank phrase", Rule{Phrase: "  !!! 🙏 ", Intent: IntentOptOut}, ErrEmptyPhrase},
		{"too many words", Rule{Phrase: "a b c d e f g h i j k", Intent: IntentOptOut}, ErrLongPhrase},
		{"no intent", Rule{Phrase: "STOP NEWS"}, ErrUnknownIntent},
		{"intent none", Rule{Phrase: "STOP NEWS", Intent: IntentNone}, ErrUnknownIntent},
		{"unknown intent", Rule{Phrase: "STOP NEWS", Intent: "unsubscribe"}, ErrUnknownIntent},
		{"action of another intent", Rule{Phrase: "STOP NEWS", Intent: IntentOptOut, Action: ActionConfirm}, ErrBadAction},
		{"unknown action", Rule{Phrase: "STOP NEWS", Intent: IntentOptOut, Action: "halt"}, ErrBadAction},
		{"stop_all with purpose", Rule{Phrase: "STOP NEWS", Intent: IntentOptOut, Action: ActionStopAll, Scope: "newsletter"}, ErrBadScope},
		{"stop with all", Rule{Phrase: "STOP NEWS", Intent: IntentOptOut, Action: ActionStop, Scope: "all"}, ErrBadScope},
		{"scope with space", Rule{Phrase: "STOP NEWS", Intent: IntentOptOut, Scope: "news letter"}, ErrBadScope},
		{"scope too long", Rule{Phrase: "STOP NEWS", Intent: IntentOptOut, Scope: string(make([]byte, 65))}, ErrBadScope},
		{"bad language", Rule{Phrase: "STOP NEWS", Intent: IntentOptOut, Language: "eng"}, ErrBadLanguage},
		{"bad language letters", Rule{Phrase: "STOP NEWS", Intent: IntentOptOut, Language: "e1"}, ErrBadLanguage},
	}
	for _, tc := range cases {
		_, err := New([]Rule{tc.rule})
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: New = %v, want %v", tc.name, err, tc.want)
		}
	}
	dup := []Rule{
		{Phrase: "STOP NEWS", Intent: IntentOptOut, Scope: "newsletter"},
		{Phrase: "stop  news!", Intent: IntentOptOut, Scope: "offers"},
	}
	if _, err := New(dup); !errors.Is(err, ErrDuplicate) {
		t.Errorf("duplicate rules: New = %v, want ErrDuplicate", err)
	}
	sameWordsOtherLanguage := []Rule{
		{Phrase: "STOP NEWS", Intent: IntentOptOut, Scope: "newsletter", Language: "en"},
		{Phrase: "STOP NEWS", Intent: IntentOptOut, Scope: "newsletter", Language: "da"},
	}
	c, err := New(sameWordsOtherLanguage)
	if err != nil {
		t.Fatalf("same phrase in two languages: %v", err)
	}
	if got := c.Classify("stop news", "da").Language; got != "da" {
		t.Errorf("hinted language = %q, want da", got)
	}
}

func TestPackValidation(t *testing.T) {
	cases := []struct {
		name string
		pack Pack
		want error
	}{
		{"no language", Pack{Keywords: []Keyword{optOut("STOP", "x")}}, ErrBadLanguage},
		{"empty keyword", Pack{Language: "en", Keywords: []Keyword{optOut(" ", "x")}}, ErrEmptyPhrase},
		{"bad intent", Pack{Language: "en", Keywords: []Keyword{{Phrase: "STOP", Intent: "stop"}}}, ErrUnknownIntent},
		{"help with scope", Pack{Language: "en", Keywords: []Keyword{{Phrase: "HELP", Intent: IntentHelp, Scope: "all"}}}, ErrBadScope},
		{"duplicate keyword", Pack{Language: "en", Keywords: []Keyword{optOut("STOP", "x"), optOut("stop!", "y")}}, ErrDuplicate},
		{"filler is a negation", Pack{Language: "en", Fillers: []string{"never"}, Negations: []string{"never"}}, ErrWordConflict},
		{"two-word filler", Pack{Language: "en", Fillers: []string{"thank you"}}, ErrEmptyPhrase},
	}
	for _, tc := range cases {
		_, err := New(nil, tc.pack)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: New = %v, want %v", tc.name, err, tc.want)
		}
	}
}

// TestConcurrentClassify runs under -race to show that a Classifier is
// shared without locks.
func TestConcurrentClassify(t *testing.T) {
	c, err := New(tenantRules)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				tc := classifyCases[(g*500+i)%len(classifyCases)]
				c.Classify(tc.text, tc.hint)
			}
		})
	}
	wg.Wait()
}
