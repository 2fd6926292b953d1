package keyword

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// maxScopeBytes bounds a purpose key; longer ones are configuration errors.
const maxScopeBytes = 64

// Classifier holds the compiled tables of a set of tenant rules and packs.
// It is immutable after New, hence safe for concurrent use; build one per
// tenant configuration and share it.
type Classifier struct {
	// index maps a phrase's first word to the phrases starting with it:
	// tenant phrases first, then longer before shorter, then pack order.
	index map[string][]*entry
	// words classifies the non-keyword words a message may contain.
	words map[string]wordKind
}

type wordKind uint8

const (
	wordUnknown wordKind = iota
	wordFiller
	wordWiden
	wordNegation
)

// entry is one normalised phrase with its meaning per language.
type entry struct {
	words    []string
	tenant   bool
	order    int
	variants []variant
}

type variant struct {
	res      Result
	hintOnly bool
}

// pick chooses the variant of the hinted language, else the first one that
// does not need a hint; nil when the phrase cannot match under this hint.
func (e *entry) pick(hint [2]byte, hasHint bool) *variant {
	var def *variant
	for i := range e.variants {
		v := &e.variants[i]
		if hasHint && len(v.res.Language) == 2 &&
			v.res.Language[0] == hint[0] && v.res.Language[1] == hint[1] {
			return v
		}
		if def == nil && !v.hintOnly {
			def = v
		}
	}
	return def
}

var defaultClassifier = sync.OnceValue(func() *Classifier {
	c, err := New(nil)
	if err != nil {
		panic("keyword: default packs are invalid: " + err.Error())
	}
	return c
})

// Default returns the shared classifier of the default packs without tenant
// rules, built once; the CLI and tenants without rules use it.
func Default() *Classifier { return defaultClassifier() }

// New compiles tenant rules and packs into a Classifier. With no packs the
// [DefaultPacks] are used; pass an empty Pack{Language: "en"} to classify
// with tenant rules only. Every rule and keyword is validated, so a bad
// configuration fails at start rather than misclassifying later.
func New(rules []Rule, packs ...Pack) (*Classifier, error) {
	if len(packs) == 0 {
		packs = DefaultPacks()
	}
	b := builder{entries: map[string]*entry{}, words: map[string]wordKind{}}
	for i, r := range rules {
		if err := b.addRule(r); err != nil {
			return nil, fmt.Errorf("rule %d (%q): %w", i, r.Phrase, err)
		}
	}
	for _, p := range packs {
		if err := b.addPack(p); err != nil {
			return nil, fmt.Errorf("pack %q: %w", p.Language, err)
		}
	}
	return b.build(), nil
}

type builder struct {
	entries map[string]*entry
	words   map[string]wordKind
	n       int
}

func (b *builder) addRule(r Rule) error {
	lang, err := checkLanguage(r.Language, true)
	if err != nil {
		return err
	}
	res, err := resolve(r.Phrase, r.Intent, r.Action, r.Scope, lang)
	if err != nil {
		return err
	}
	return b.add(res, true, false)
}

func (b *builder) addPack(p Pack) error {
	lang, err := checkLanguage(p.Language, false)
	if err != nil {
		return err
	}
	for _, k := range p.Keywords {
		if k.Intent == IntentHelp && k.Scope != "" {
			return fmt.Errorf("keyword %q: %w", k.Phrase, ErrBadScope)
		}
		res, err := resolve(k.Phrase, k.Intent, k.Action, k.Scope, lang)
		if err != nil {
			return fmt.Errorf("keyword %q: %w", k.Phrase, err)
		}
		if err := b.add(res, false, k.HintOnly); err != nil {
			return fmt.Errorf("keyword %q: %w", k.Phrase, err)
		}
	}
	for _, list := range []struct {
		words []string
		kind  wordKind
	}{{p.Negations, wordNegation}, {p.Fillers, wordFiller}, {p.Widening, wordWiden}} {
		for _, w := range list.words {
			if err := b.addWord(w, list.kind); err != nil {
				return err
			}
		}
	}
	return nil
}

func (b *builder) addWord(w string, kind wordKind) error {
	norm, _ := normalizeWords(w)
	if len(norm) != 1 {
		return fmt.Errorf("word %q: %w", w, ErrEmptyPhrase)
	}
	prev, seen := b.words[norm[0]]
	switch {
	case !seen || prev == kind:
		b.words[norm[0]] = kind
	case prev == wordNegation || kind == wordNegation:
		return fmt.Errorf("word %q: %w", w, ErrWordConflict)
	default:
		// Filler and widening: widening is the stronger reading.
		b.words[norm[0]] = wordWiden
	}
	return nil
}

// add merges a resolved phrase into the entry of its words, one variant
// per language.
func (b *builder) add(res resolved, tenant, hintOnly bool) error {
	key := strings.Join(res.words, " ")
	if tenant {
		key = "\x00" + key
	}
	e := b.entries[key]
	if e == nil {
		e = &entry{words: res.words, tenant: tenant, order: b.n}
		b.n++
		b.entries[key] = e
	}
	for _, v := range e.variants {
		if v.res.Language == res.Language {
			return ErrDuplicate
		}
	}
	e.variants = append(e.variants, variant{res: res.Result, hintOnly: hintOnly})
	return nil
}

func (b *builder) build() *Classifier {
	c := &Classifier{index: map[string][]*entry{}, words: b.words}
	for _, e := range b.entries {
		c.index[e.words[0]] = append(c.index[e.words[0]], e)
	}
	for _, list := range c.index {
		slices.SortFunc(list, func(x, y *entry) int {
			if x.tenant != y.tenant {
				if x.tenant {
					return -1
				}
				return 1
			}
			if d := cmp.Compare(len(y.words), len(x.words)); d != 0 {
				return d
			}
			return cmp.Compare(x.order, y.order)
		})
	}
	return c
}

type resolved struct {
	Result
	words []string
}

// resolve validates one phrase and fills in the defaults of action and
// scope, so that the hot path never has to.
func resolve(phrase string, intent Intent, action Action, scope, lang string) (resolved, error) {
	words, tooLong := normalizeWords(phrase)
	switch {
	case tooLong:
		return resolved{}, ErrLongPhrase
	case len(words) == 0:
		return resolved{}, ErrEmptyPhrase
	}
	switch intent {
	case IntentOptOut, IntentOptIn, IntentHelp:
	default:
		return resolved{}, fmt.Errorf("%w %q", ErrUnknownIntent, intent)
	}
	scope = strings.TrimSpace(scope)
	if action == "" {
		action = defaultAction(intent, scope)
	}
	if action.Intent() != intent {
		return resolved{}, fmt.Errorf("%w: %q is not %q", ErrBadAction, action, intent)
	}
	scope, err := checkScope(action, scope)
	if err != nil {
		return resolved{}, err
	}
	return resolved{
		Result: Result{
			Intent: intent, Action: action, Scope: scope, Language: lang,
			Keyword: strings.ToUpper(strings.Join(strings.Fields(phrase), " ")),
		},
		words: words,
	}, nil
}

func defaultAction(intent Intent, scope string) Action {
	switch intent {
	case IntentOptOut:
		if scope == ScopeAll {
			return ActionStopAll
		}
		return ActionStop
	case IntentOptIn:
		return ActionSubscribe
	}
	return ActionHelp
}

func checkScope(action Action, scope string) (string, error) {
	switch {
	case action == ActionStopAll && scope == "":
		return ScopeAll, nil
	case action == ActionStopAll && scope != ScopeAll,
		action == ActionStop && scope == ScopeAll:
		return "", fmt.Errorf("%w: action %q with scope %q", ErrBadScope, action, scope)
	case scope == "" && action == ActionHelp:
		return "", nil
	case scope == "":
		return ScopeSender, nil
	case len(scope) > maxScopeBytes || !utf8.ValidString(scope):
		return "", fmt.Errorf("%w: %q", ErrBadScope, scope)
	}
	for _, r := range scope {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return "", fmt.Errorf("%w: %q", ErrBadScope, scope)
		}
	}
	return scope, nil
}

// checkLanguage accepts a two-letter ISO 639-1 code in any case and returns
// it in lower case; optional says whether it may be empty.
func checkLanguage(lang string, optional bool) (string, error) {
	if lang == "" && optional {
		return "", nil
	}
	l := strings.ToLower(lang)
	if len(l) != 2 || l[0] < 'a' || l[0] > 'z' || l[1] < 'a' || l[1] > 'z' {
		return "", fmt.Errorf("%w: %q", ErrBadLanguage, lang)
	}
	return l, nil
}
