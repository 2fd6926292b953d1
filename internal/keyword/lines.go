package keyword

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// MaxLineBytes is the longest line ClassifyLines accepts; a longer one is
// an error rather than a silently split message.
const MaxLineBytes = 1 << 20

// lineResult is one output line of ClassifyLines. Every field is always
// present so that a consumer such as jq sees the same keys on every line.
type lineResult struct {
	Text     string `json:"text"`
	Intent   Intent `json:"intent"`
	Action   Action `json:"action"`
	Scope    string `json:"scope"`
	Language string `json:"language"`
	Keyword  string `json:"keyword"`
}

// ClassifyLines reads one message per line from r and writes one JSON
// object per line to w, classified with the default packs and lang as the
// language hint. It backs `consentgate keyword classify`, so that operators
// can test the keyword engine on real replies without a running server.
// Each result is written as soon as its line is read, which keeps the
// command interactive; wrap w in a bufio.Writer for bulk runs.
func ClassifyLines(r io.Reader, w io.Writer, lang string) error {
	c := Default()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxLineBytes)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSuffix(sc.Text(), "\r")
		res := c.Classify(text, lang)
		err := enc.Encode(lineResult{
			Text: text, Intent: res.Intent, Action: res.Action, Scope: res.Scope,
			Language: res.Language, Keyword: res.Keyword,
		})
		if err != nil {
			return fmt.Errorf("keyword: writing result of line %d: %w", line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("keyword: reading messages: %w", err)
	}
	return nil
}
