package keyword

// noneResult is what every message that is not a keyword message gets.
var noneResult = Result{Intent: IntentNone}

// Valid reports whether i is one of the four intents, for callers that
// decode an intent from storage or JSON.
func (i Intent) Valid() bool {
	switch i {
	case IntentOptOut, IntentOptIn, IntentHelp, IntentNone:
		return true
	}
	return false
}

// Classify returns what a reply asks for, following the rule in the package
// documentation. langHint is the language the conversation is in (an ISO
// 639-1 code, a BCP 47 tag such as "da-DK", or empty); it only chooses among
// the languages of a keyword that several packs share, and unlocks
// hint-only keywords.
//
// Classify reads at most MaxInputBytes of text, does not allocate, and is
// safe for concurrent use.
func (c *Classifier) Classify(text, langHint string) Result {
	var t tokens
	t.scan(text)
	if t.overflow || t.count == 0 {
		return noneResult
	}
	hint, hasHint := parseHint(langHint)
	var m match
	bare, widen := true, false
	for i := 0; i < t.count; {
		if v, tenant, n := c.matchAt(&t, i, hint, hasHint); n > 0 {
			m.add(v, tenant)
			i += n
			continue
		}
		switch c.words[string(t.word(i))] {
		case wordFiller:
			bare = false
		case wordWiden:
			bare, widen = false, true
		default: // unknown words and negations
			return noneResult
		}
		i++
	}
	if !m.found {
		return noneResult
	}
	r := m.res
	if widen {
		if r.Intent != IntentOptOut {
			return noneResult
		}
		r.Action, r.Scope = ActionStopAll, ScopeAll
	}
	if t.question {
		switch {
		case r.Intent == IntentOptIn:
			return noneResult
		case r.Intent == IntentOptOut && !bare:
			return noneResult
		}
	}
	return r
}

// matchAt returns the phrase that starts at word i: the first in index
// order whose words all follow and that can match under the hint.
func (c *Classifier) matchAt(t *tokens, i int, hint [2]byte, hasHint bool) (*variant, bool, int) {
	for _, e := range c.index[string(t.word(i))] {
		if i+len(e.words) > t.count || !wordsFollow(t, i, e.words) {
			continue
		}
		if v := e.pick(hint, hasHint); v != nil {
			return v, e.tenant, len(e.words)
		}
	}
	return nil, false, 0
}

func wordsFollow(t *tokens, i int, words []string) bool {
	for k := 1; k < len(words); k++ {
		if string(t.word(i+k)) != words[k] {
			return false
		}
	}
	return true
}

// match accumulates the keywords of one message.
type match struct {
	res    Result
	tenant bool
	found  bool
}

// add keeps the keyword whose mistake costs least: see rule 6 of the
// package documentation.
func (m *match) add(v *variant, tenant bool) {
	if !m.found {
		m.res, m.tenant, m.found = v.res, tenant, true
		return
	}
	pv, pm := intentRank(v.res.Intent), intentRank(m.res.Intent)
	switch {
	case pv < pm:
		return
	case pv == pm && v.res.Intent == IntentOptOut:
		sv, sm := scopeRank(v.res.Scope), scopeRank(m.res.Scope)
		if sv < sm || (sv == sm && (!tenant || m.tenant)) {
			return
		}
	case pv == pm && (!tenant || m.tenant):
		return
	}
	m.res, m.tenant = v.res, tenant
}

func intentRank(i Intent) int {
	switch i {
	case IntentOptOut:
		return 3
	case IntentHelp:
		return 2
	case IntentOptIn:
		return 1
	}
	return 0
}

func scopeRank(s string) int {
	switch s {
	case ScopeAll:
		return 2
	case ScopeSender:
		return 1
	}
	return 0
}

// parseHint reads the two-letter language of a hint such as "da", "DA",
// "da-DK" or "nb_NO", mapping Norwegian "no" and "nn" to the "nb" pack.
func parseHint(h string) (code [2]byte, ok bool) {
	if len(h) < 2 || (len(h) > 2 && h[2] != '-' && h[2] != '_') {
		return code, false
	}
	a, b := h[0]|0x20, h[1]|0x20
	if a < 'a' || a > 'z' || b < 'a' || b > 'z' {
		return code, false
	}
	if a == 'n' && (b == 'o' || b == 'n') {
		b = 'b'
	}
	return [2]byte{a, b}, true
}
