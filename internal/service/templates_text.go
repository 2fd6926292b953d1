package service

import (
	"fmt"
	"slices"
	"strings"
)

// Limits on message templates and on what a send fills into one.
const (
	maxTemplateBytes     = 4096
	maxPlaceholders      = 20
	maxPlaceholderName   = 32
	maxTemplateParamLen  = 1024 // characters per parameter value
	maxTemplateParams    = 64   // parameters one send may carry
	maxTemplateNameBytes = 64
)

// tmplPart is one piece of a parsed template: literal text, or the name of
// a placeholder when param is set.
type tmplPart struct {
	text  string
	param bool
}

// parseTemplate splits a template text into literal text and {{name}}
// placeholders (spaces inside the braces are allowed). Names are
// [a-z0-9_]{1,32}; a "{{" without its "}}", a "}}" without its "{{" or
// braces inside a placeholder are malformed. Single braces are text. It
// returns the parts and the distinct placeholder names in order of first
// use. The error never quotes more than the offending name.
func parseTemplate(s string) ([]tmplPart, []string, error) {
	var parts []tmplPart
	var names []string
	for s != "" {
		open := strings.Index(s, "{{")
		if close := strings.Index(s, "}}"); close >= 0 && (open < 0 || close < open) {
			return nil, nil, fmt.Errorf("unbalanced braces: \"}}\" without \"{{\"")
		}
		if open < 0 {
			parts = append(parts, tmplPart{text: s})
			break
		}
		if open > 0 {
			parts = append(parts, tmplPart{text: s[:open]})
		}
		rest := s[open+2:]
		end := strings.Index(rest, "}}")
		if end < 0 {
			return nil, nil, fmt.Errorf("unbalanced braces: \"{{\" without \"}}\"")
		}
		name := strings.TrimSpace(rest[:end])
		if !validPlaceholder(name) {
			return nil, nil, fmt.Errorf("placeholder names are 1-%d characters of a-z, 0-9 and _", maxPlaceholderName)
		}
		parts = append(parts, tmplPart{text: name, param: true})
		if !slices.Contains(names, name) {
			if len(names) == maxPlaceholders {
				return nil, nil, fmt.Errorf("a template has at most %d placeholders", maxPlaceholders)
			}
			names = append(names, name)
		}
		s = rest[end+2:]
	}
	return parts, names, nil
}

func validPlaceholder(name string) bool {
	if name == "" || len(name) > maxPlaceholderName {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// validTemplateName reports whether name is [a-z0-9_-]{1,64}.
func validTemplateName(name string) bool {
	if name == "" || len(name) > maxTemplateNameBytes {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// renderTemplate fills the placeholders of parts from params. A missing
// parameter is reported by its name only: values may be personal data and
// never appear in an error.
func renderTemplate(parts []tmplPart, params map[string]string) (string, error) {
	var b strings.Builder
	for _, p := range parts {
		if !p.param {
			b.WriteString(p.text)
			continue
		}
		v, ok := params[p.text]
		if !ok {
			return "", fmt.Errorf("missing parameter %q", p.text)
		}
		b.WriteString(v)
	}
	return b.String(), nil
}
