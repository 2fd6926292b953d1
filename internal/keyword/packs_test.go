package keyword

import (
	"strings"
	"testing"
)

// TestDefaultPacksLanguages checks the languages the issue asks for and that
// each has an opt-out, an opt-in and a help keyword.
func TestDefaultPacksLanguages(t *testing.T) {
	want := []string{"en", "da", "nb", "sv", "fi", "de", "nl", "fr", "es", "it", "pt", "pl"}
	packs := DefaultPacks()
	if len(packs) != len(want) {
		t.Fatalf("%d packs, want %d", len(packs), len(want))
	}
	for i, p := range packs {
		if p.Language != want[i] {
			t.Errorf("pack %d is %q, want %q", i, p.Language, want[i])
		}
		seen := map[Intent]bool{}
		for _, k := range p.Keywords {
			seen[k.Intent] = true
			if k.Source == "" {
				t.Errorf("%s %s has no source", p.Language, k.Phrase)
			}
			if k.Phrase != strings.ToUpper(k.Phrase) {
				t.Errorf("%s %s is not upper case", p.Language, k.Phrase)
			}
		}
		for _, in := range []Intent{IntentOptOut, IntentOptIn, IntentHelp} {
			if !seen[in] {
				t.Errorf("pack %s has no %s keyword", p.Language, in)
			}
		}
	}
}

// TestEveryKeywordMatchesItself classifies each default keyword alone, with
// its pack's language as hint, and expects exactly that keyword back.
func TestEveryKeywordMatchesItself(t *testing.T) {
	c := Default()
	for _, p := range DefaultPacks() {
		for _, k := range p.Keywords {
			got := c.Classify(k.Phrase, p.Language)
			want := Result{Intent: k.Intent, Action: k.Action, Scope: k.Scope, Language: p.Language, Keyword: k.Phrase}
			if got != want {
				t.Errorf("Classify(%q, %q) = %+v, want %+v", k.Phrase, p.Language, got, want)
			}
			polite := k.Phrase + " please"
			if k.Intent != IntentNone && c.Classify(polite, p.Language).Intent != k.Intent {
				t.Errorf("Classify(%q) lost the intent", polite)
			}
		}
	}
}

// TestWordListsAreDisjoint guards the matching rule: a negation must never
// be accepted as filler, and a filler must not hide a keyword.
func TestWordListsAreDisjoint(t *testing.T) {
	negations := map[string]string{}
	keywords := map[string]bool{}
	packs := DefaultPacks()
	for _, p := range packs {
		for _, w := range p.Negations {
			n, _ := normalizeWords(w)
			negations[n[0]] = p.Language
		}
		for _, k := range p.Keywords {
			n, _ := normalizeWords(k.Phrase)
			if len(n) == 1 && !k.HintOnly {
				keywords[n[0]] = true
			}
		}
	}
	for _, p := range packs {
		for _, list := range [][]string{p.Fillers, p.Widening} {
			for _, w := range list {
				n, _ := normalizeWords(w)
				if len(n) != 1 {
					t.Errorf("%s word %q normalises to %q", p.Language, w, n)
					continue
				}
				if lang, ok := negations[n[0]]; ok {
					t.Errorf("%s filler %q is a %s negation", p.Language, w, lang)
				}
				if keywords[n[0]] {
					t.Errorf("%s filler %q is also a keyword", p.Language, w)
				}
			}
		}
	}
}

func TestNormalizeWords(t *testing.T) {
	cases := map[string]string{
		"ＳＴＯＰ":             "stop",
		"ARRÊT":            "arret",
		"ARRE\u0302T":      "arret", // decomposed input
		"HJÆLP":            "hjaelp",
		"Grüße, Straße":    "grusse strasse",
		"ŁÓDŹ":             "lodz",
		"don't":            "dont",
		"don’t":            "dont",
		"S\u200bT\u200dOP": "stop",
		"ﬁn":               "fin",
		"stoooop!!!":       "stop",
		"STOPP":            "stopp",
		"opt-out":          "opt out",
		"¿baja?":           "baja",
		"Привет мир":       "привет мир",
		"\xff\xfestop":     "stop",
		"１２３":              "123",
	}
	for in, want := range cases {
		got, _ := normalizeWords(in)
		if strings.Join(got, " ") != want {
			t.Errorf("normalizeWords(%q) = %q, want %q", in, got, want)
		}
	}
	var tk tokens
	tk.scan("stop?")
	if !tk.question {
		t.Error("question mark not remembered")
	}
	tk = tokens{}
	tk.scan("stop？")
	if !tk.question {
		t.Error("full-width question mark not remembered")
	}
}

func TestParseHint(t *testing.T) {
	cases := map[string]string{
		"da": "da", "DA": "da", "da-DK": "da", "nb_NO": "nb", "no": "nb", "nn": "nb",
		"": "", "d": "", "dan": "", "12": "", "en-": "en",
	}
	for in, want := range cases {
		code, ok := parseHint(in)
		got := ""
		if ok {
			got = string(code[:])
		}
		if got != want {
			t.Errorf("parseHint(%q) = %q, want %q", in, got, want)
		}
	}
}
