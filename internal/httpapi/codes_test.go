package httpapi

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/consentgate/consentgate/internal/apperr"
)

// TestErrorCodesDocumented keeps docs/api.md's error table complete: every
// apperr code appears there with the status statusFor gives it, and only
// "internal" maps to 500.
func TestErrorCodesDocumented(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "../apperr/apperr.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || vs.Type == nil || len(vs.Values) != 1 {
			return true
		}
		if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "Code" {
			if lit, ok := vs.Values[0].(*ast.BasicLit); ok {
				c, _ := strconv.Unquote(lit.Value)
				codes = append(codes, c)
			}
		}
		return true
	})
	if len(codes) < 20 {
		t.Fatalf("found only %d codes in apperr.go", len(codes))
	}
	for _, c := range codes {
		st := statusFor(apperr.Code(c))
		if st == 500 && c != string(apperr.Internal) {
			t.Errorf("code %s maps to 500", c)
		}
		found := false
		for _, line := range strings.Split(string(doc), "\n") {
			if strings.Contains(line, "`"+c+"`") && strings.Contains(line, "| "+strconv.Itoa(st)+" |") {
				found = true
			}
		}
		if !found {
			t.Errorf("docs/api.md has no row for `%s` with status %d", c, st)
		}
	}
}
