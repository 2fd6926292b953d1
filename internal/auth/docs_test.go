package auth

import (
	"os"
	"strings"
	"testing"
)

// matrixMarkdown renders the permission matrix of docs/access.md from
// rolePermissions, the one source of truth.
func matrixMarkdown() string {
	var b strings.Builder
	b.WriteString("| permission |")
	for _, r := range Roles {
		b.WriteString(" " + string(r) + " |")
	}
	b.WriteString("\n|---|")
	b.WriteString(strings.Repeat("---|", len(Roles)))
	b.WriteString("\n")
	for _, p := range Permissions {
		b.WriteString("| " + string(p) + " |")
		for _, r := range Roles {
			if r.Can(p) {
				b.WriteString(" ✓ |")
			} else {
				b.WriteString("  |")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestAccessDocMatrix keeps the matrix in docs/access.md equal to the code.
// When a role or permission changes, paste the table the failure prints.
func TestAccessDocMatrix(t *testing.T) {
	doc, err := os.ReadFile("../../docs/access.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- permission matrix: generated, checked by internal/auth/docs_test.go -->\n", "<!-- end of matrix -->"
	s := string(doc)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatal("docs/access.md has no permission matrix markers")
	}
	if got, want := s[i+len(begin):j], matrixMarkdown(); got != want {
		t.Fatalf("the permission matrix in docs/access.md is out of date; it should read:\n\n%s", want)
	}
}
