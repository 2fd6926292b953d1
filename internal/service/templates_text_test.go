package service

import (
	"slices"
	"strings"
	"testing"
)

func TestParseTemplate(t *testing.T) {
	for _, tt := range []struct {
		in    string
		names []string
		bad   bool
	}{
		{in: "plain text", names: nil},
		{in: "Hi {{first_name}}, {{ offer }} {{first_name}}", names: []string{"first_name", "offer"}},
		{in: "a {single} brace }", names: nil},
		{in: "{{First}}", bad: true},
		{in: "{{}}", bad: true},
		{in: "{{a b}}", bad: true},
		{in: "{{open", bad: true},
		{in: "close}}", bad: true},
		{in: "{{a{{b}}}}", bad: true},
		{in: "{{" + strings.Repeat("a", 33) + "}}", bad: true},
		{in: strings.Repeat("{{p}}", 30), names: []string{"p"}},
	} {
		_, names, err := parseTemplate(tt.in)
		if (err != nil) != tt.bad || !slices.Equal(names, tt.names) {
			t.Errorf("parseTemplate(%q) = %v, %v", tt.in, names, err)
		}
	}
	var b strings.Builder
	for i := range 21 {
		b.WriteString("{{p" + string(rune('a'+i)) + "}}")
	}
	if _, _, err := parseTemplate(b.String()); err == nil {
		t.Error("21 placeholders accepted")
	}
	parts, _, _ := parseTemplate("Hi {{name}}!")
	if got, err := renderTemplate(parts, map[string]string{"name": "Anna", "extra": "x"}); got != "Hi Anna!" || err != nil {
		t.Errorf("render = %q, %v", got, err)
	}
	if _, err := renderTemplate(parts, map[string]string{"nam": "Secret Value"}); err == nil ||
		!strings.Contains(err.Error(), `"name"`) || strings.Contains(err.Error(), "Secret") {
		t.Errorf("missing parameter error = %v", err)
	}
}

// FuzzParseTemplate: any input parses or is refused without a panic; what
// parses has valid, bounded placeholders and renders back to the input
// when every placeholder is filled with its own source text.
func FuzzParseTemplate(f *testing.F) {
	for _, s := range []string{"", "Hi {{first_name}}", "{{", "}}", "{{a}}{{b}}", "{ {x} }", "{{{{a}}}}", "{{ a }}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > maxTemplateBytes {
			s = s[:maxTemplateBytes]
		}
		parts, names, err := parseTemplate(s)
		if err != nil {
			return
		}
		if len(names) > maxPlaceholders {
			t.Fatalf("%d placeholders", len(names))
		}
		params := map[string]string{}
		for _, n := range names {
			if !validPlaceholder(n) {
				t.Fatalf("invalid name %q accepted", n)
			}
			params[n] = "{{" + n + "}}"
		}
		out, err := renderTemplate(parts, params)
		if err != nil {
			t.Fatal(err)
		}
		// Spaces inside braces are not kept, so compare after parsing again.
		_, again, err := parseTemplate(out)
		if err != nil || !slices.Equal(again, names) || len(out) > len(s) {
			t.Fatalf("render(%q) = %q (%v, %v)", s, out, again, err)
		}
	})
}
