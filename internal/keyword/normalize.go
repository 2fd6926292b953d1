package keyword

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Limits that keep classification bounded in time and memory whatever the
// input. A keyword message is short; anything longer is conversation.
const (
	// MaxInputBytes is how much of a message is read: 160 characters of
	// any script at four UTF-8 bytes each, far more than a keyword message
	// needs. The rest is ignored, so a huge input costs no more time.
	MaxInputBytes = 640
	// MaxTokens is the most words a keyword message may have. The closed
	// filler list does the real filtering; this cap keeps it cheap.
	MaxTokens = 10

	normBufBytes = 2 * MaxInputBytes
	foldTableLen = 0x300 // ASCII, Latin-1, Latin Extended-A and -B, IPA
)

// Character classes of the normaliser.
const (
	clsSep      uint8 = iota // ends a word
	clsWord                  // appends fold to the current word
	clsIgnore                // vanishes without ending a word
	clsQuestion              // ends a word and marks a question
)

type fold struct {
	cls uint8
	s   string
}

// foldTable holds the precomputed fold of every rune below foldTableLen, so
// that the common Latin scripts never reach the slower general path.
var foldTable = buildFoldTable()

// specialFolds spells out letters that have no Unicode decomposition.
var specialFolds = map[rune]string{
	'ø': "o", 'æ': "ae", 'œ': "oe", 'ß': "ss", 'ł': "l", 'đ': "d",
	'ð': "d", 'þ': "th", 'ı': "i", 'ħ': "h", 'ŧ': "t", 'ĸ': "k", 'ŋ': "n",
}

func buildFoldTable() *[foldTableLen]fold {
	var t [foldTableLen]fold
	for r := rune(0); r < foldTableLen; r++ {
		t[r] = slowFold(r)
	}
	return &t
}

// slowFold computes the fold of one rune with allocations; it builds the
// table and serves tests.
func slowFold(r rune) fold {
	if c, ok := fixedClass(r); ok {
		return fold{cls: c}
	}
	var b strings.Builder
	cls := clsSep
	for _, d := range norm.NFKD.String(string(r)) {
		if c, ok := fixedClass(d); ok {
			if c == clsIgnore {
				continue
			}
			return fold{cls: c}
		}
		d = unicode.ToLower(d)
		if s, ok := specialFolds[d]; ok {
			b.WriteString(s)
			cls = clsWord
			continue
		}
		if !isWordRune(d) {
			return fold{cls: clsSep}
		}
		b.WriteRune(d)
		cls = clsWord
	}
	if cls == clsSep && b.Len() == 0 {
		// Only marks or format characters: nothing to keep.
		return fold{cls: clsIgnore}
	}
	return fold{cls: cls, s: b.String()}
}

// fixedClass classifies the runes whose class does not come from their
// letter-ness: question marks, apostrophes, marks and invisible formatting.
func fixedClass(r rune) (uint8, bool) {
	switch r {
	case '?', '¿', '\u061f', '\u2e2e', '\ufe56', '\uff1f':
		return clsQuestion, true
	case '\'', '`', '´', '\u02bc', '\u2018', '\u2019', '\u201b', '\uff07':
		return clsIgnore, true
	}
	if unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf) {
		return clsIgnore, true
	}
	return 0, false
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mc, r)
}

// tokens is the normalised form of one message: its words, packed into a
// fixed buffer so that normalising allocates nothing.
type tokens struct {
	buf      [normBufBytes]byte
	n        int
	start    [MaxTokens]uint16
	end      [MaxTokens]uint16
	count    int
	open     bool
	question bool
	overflow bool // more than MaxTokens words, or a buffer overrun
}

func (t *tokens) word(i int) []byte { return t.buf[t.start[i]:t.end[i]] }

// scan normalises s into t. It stops early once the message has too many
// words, because such a message can no longer be a keyword message.
func (t *tokens) scan(s string) {
	if len(s) > MaxInputBytes {
		s = s[:MaxInputBytes] // a cut rune decodes as RuneError: a separator
	}
	for i := 0; i < len(s) && !t.overflow; {
		c := s[i]
		if c < utf8.RuneSelf {
			t.apply(&foldTable[c])
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r < foldTableLen:
			t.apply(&foldTable[r])
		case r >= 0xff01 && r <= 0xff5e: // full-width ASCII
			t.apply(&foldTable[r-0xfee0])
		default:
			t.slow(s[i:i+size], r)
		}
		i += size
	}
	t.close()
}

func (t *tokens) apply(f *fold) {
	switch f.cls {
	case clsWord:
		t.appendWord(f.s)
	case clsSep:
		t.close()
	case clsQuestion:
		t.question = true
		t.close()
	}
}

// slow handles a rune outside the table through its NFKD decomposition,
// read straight from the norm tables without allocating.
func (t *tokens) slow(s string, r rune) {
	if c, ok := fixedClass(r); ok {
		t.apply(&fold{cls: c})
		return
	}
	d := norm.NFKD.PropertiesString(s).Decomposition()
	if len(d) == 0 {
		t.plain(r)
		return
	}
	for len(d) > 0 && !t.overflow {
		dr, size := utf8.DecodeRune(d)
		d = d[size:]
		t.plain(dr)
	}
}

// plain handles a rune that needs no further decomposition.
func (t *tokens) plain(r rune) {
	if r < foldTableLen {
		t.apply(&foldTable[r])
		return
	}
	if c, ok := fixedClass(r); ok {
		t.apply(&fold{cls: c})
		return
	}
	if !isWordRune(r) {
		t.close()
		return
	}
	r = unicode.ToLower(r)
	if r < foldTableLen {
		t.apply(&foldTable[r]) // e.g. U+1E9E capital sharp s
		return
	}
	var enc [utf8.UTFMax]byte
	n := utf8.EncodeRune(enc[:], r)
	t.appendBytes(enc[:n])
}

func (t *tokens) appendWord(s string) {
	if !t.begin(len(s)) {
		return
	}
	t.n += copy(t.buf[t.n:], s)
}

func (t *tokens) appendBytes(b []byte) {
	if !t.begin(len(b)) {
		return
	}
	t.n += copy(t.buf[t.n:], b)
}

// begin opens a word if none is open and checks that n more bytes fit.
func (t *tokens) begin(n int) bool {
	if !t.open {
		if t.count == MaxTokens {
			t.overflow = true
			return false
		}
		t.open = true
		t.start[t.count] = uint16(t.n)
	}
	if t.n+n > len(t.buf) {
		t.overflow = true
		return false
	}
	return true
}

// close ends the open word, shortening runs of three or more equal ASCII
// letters to one ("stooop", "stopppp") so that emphasis does not hide a
// keyword. No keyword has such a run.
func (t *tokens) close() {
	if !t.open {
		return
	}
	t.open = false
	s := int(t.start[t.count])
	w := s
	for r := s; r < t.n; {
		c := t.buf[r]
		run := 1
		for r+run < t.n && t.buf[r+run] == c {
			run++
		}
		keep := run
		if run >= 3 && c < utf8.RuneSelf {
			keep = 1
		}
		for k := 0; k < keep; k++ {
			t.buf[w] = c
			w++
		}
		r += run
	}
	t.n = w
	t.end[t.count] = uint16(w)
	t.count++
}

// normalizeWords returns the normalised words of s, allocating, and whether
// s had more than MaxTokens words; it serves New for phrases and word lists,
// and tests.
func normalizeWords(s string) (words []string, tooLong bool) {
	var t tokens
	t.scan(s)
	if t.overflow {
		return nil, true
	}
	words = make([]string, t.count)
	for i := range words {
		words[i] = string(t.word(i))
	}
	return words, false
}
