package inventory

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
)

// Change is one field that differs between two versions of a document.
type Change struct {
	Path string `json:"path"`
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
}

// Diff compares two JSON documents field by field. Array elements that are
// objects with a "key" (activities), "channel" (processors), "category"
// (retention), "id" (measures) or "code"+"subject" (findings) member are
// matched by it, so that adding a purpose reads as one added activity and
// not as every later activity changing.
func Diff(before, after []byte) ([]Change, error) {
	var a, b any
	if len(before) > 0 {
		if err := json.Unmarshal(before, &a); err != nil {
			return nil, fmt.Errorf("inventory: diff: %w", err)
		}
	}
	if err := json.Unmarshal(after, &b); err != nil {
		return nil, fmt.Errorf("inventory: diff: %w", err)
	}
	fa, fb := map[string]string{}, map[string]string{}
	flatten("", a, fa)
	flatten("", b, fb)
	var out []Change
	for p, v := range fa {
		if w, ok := fb[p]; !ok || w != v {
			out = append(out, Change{Path: p, From: v, To: fb[p]})
		}
	}
	for p, w := range fb {
		if _, ok := fa[p]; !ok {
			out = append(out, Change{Path: p, To: w})
		}
	}
	slices.SortFunc(out, func(x, y Change) int {
		if x.Path < y.Path {
			return -1
		}
		if x.Path > y.Path {
			return 1
		}
		return 0
	})
	return out, nil
}

func elementKey(v any, i int) string {
	m, ok := v.(map[string]any)
	if !ok {
		return strconv.Itoa(i)
	}
	for _, k := range []string{"key", "channel", "category", "id"} {
		if s, ok := m[k].(string); ok && s != "" {
			return s
		}
	}
	if c, ok := m["code"].(string); ok {
		s, _ := m["subject"].(string)
		return c + "/" + s
	}
	return strconv.Itoa(i)
}

func flatten(prefix string, v any, out map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flatten(p, e, out)
		}
	case []any:
		if len(x) == 0 {
			out[prefix] = "[]"
			return
		}
		scalars := true
		for _, e := range x {
			switch e.(type) {
			case map[string]any, []any:
				scalars = false
			}
		}
		if scalars {
			// Lists of scalars (channels, roles) read best whole.
			raw, _ := json.Marshal(x)
			out[prefix] = string(raw)
			return
		}
		for i, e := range x {
			flatten(prefix+"["+elementKey(e, i)+"]", e, out)
		}
	case nil:
		out[prefix] = "null"
	case string:
		out[prefix] = x
	default:
		raw, _ := json.Marshal(x)
		out[prefix] = string(raw)
	}
}
