package keyword

import (
	"strings"
	"testing"
	"time"
)

// FuzzClassify checks that no input panics, that the result is always
// well formed, and that time stays bounded whatever the input's length.
func FuzzClassify(f *testing.F) {
	for _, tc := range classifyCases {
		f.Add(tc.text, tc.hint)
	}
	f.Add(strings.Repeat("ﷺ", 300), "da")
	f.Add(strings.Repeat("a\u0301", 500), "")
	f.Add("\xf1\x80\x80\x80\xf1\x80\x80\x80stop", "pl")
	f.Add(strings.Repeat("stop ", MaxTokens), "en")
	c, err := New(tenantRules)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text, hint string) {
		// Bounded time: the fastest of three runs must stay far below what a
		// scan of unbounded input would cost. Taking the minimum keeps a
		// busy machine or a GC pause from failing the test.
		var r Result
		fastest := time.Hour
		for range 3 {
			start := time.Now()
			r = c.Classify(text, hint)
			fastest = min(fastest, time.Since(start))
		}
		if fastest > 20*time.Millisecond {
			t.Errorf("Classify took %v on %d bytes", fastest, len(text))
		}
		if !r.Intent.Valid() {
			t.Fatalf("invalid intent %q", r.Intent)
		}
		if r.Intent == IntentNone {
			if r != noneResult {
				t.Fatalf("none result carries fields: %+v", r)
			}
			return
		}
		if r.Action.Intent() != r.Intent {
			t.Fatalf("action %q does not belong to intent %q", r.Action, r.Intent)
		}
		if r.Keyword == "" {
			t.Fatalf("match without keyword: %+v", r)
		}
		if (r.Action == ActionStopAll) != (r.Scope == ScopeAll && r.Intent == IntentOptOut) {
			t.Fatalf("stop_all and scope all disagree: %+v", r)
		}
		// Only the first MaxInputBytes count.
		if len(text) >= MaxInputBytes {
			if r2 := c.Classify(text[:MaxInputBytes]+" by tomorrow", hint); r2 != r {
				t.Fatalf("bytes past MaxInputBytes changed the result: %+v, %+v", r, r2)
			}
		}
	})
}
