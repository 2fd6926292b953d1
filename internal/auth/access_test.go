package auth

import (
	"slices"
	"strings"
	"testing"
)

func TestPermissionsListsEveryRolePermission(t *testing.T) {
	for r, perms := range rolePermissions {
		for _, p := range perms {
			if !slices.Contains(Permissions, p) {
				t.Errorf("role %s carries %s, which Permissions (the matrix order) does not list", r, p)
			}
		}
	}
}

func TestScopesNarrow(t *testing.T) {
	if _, err := ParseScopes(Developer, []string{"audit:read"}); err == nil {
		t.Error("a scope outside the role was accepted")
	}
	if _, err := ParseScopes(Developer, []string{"everything"}); err == nil {
		t.Error("an unknown scope was accepted")
	}
	sc, err := ParseScopes(Developer, []string{"decisions", "decisions", "contacts:write"})
	if err != nil || len(sc) != 2 {
		t.Fatalf("ParseScopes = %v, %v", sc, err)
	}
	p := Principal{TenantID: "t", Role: Developer, Scopes: sc}
	if !p.Can(Decide) || p.Can(MessagesSend) || p.Can(AuditRead) {
		t.Errorf("scoped principal: decide %v send %v audit %v", p.Can(Decide), p.Can(MessagesSend), p.Can(AuditRead))
	}
	whole := Principal{Role: Developer}
	if !whole.Covers(p) || p.Covers(whole) {
		t.Error("a role must cover its narrowed keys, and not the other way")
	}
	if (Principal{Role: Admin}).Covers(Principal{Role: Owner}) {
		t.Error("admin covers owner, but owner reads the audit trail and admin does not")
	}
	if !(Principal{Role: Owner}).Covers(Principal{Role: Admin}) {
		t.Error("owner must cover every role")
	}
	for _, r := range Roles {
		if !(Principal{Role: Owner}).Covers(Principal{Role: r}) {
			t.Errorf("owner does not cover %s: the owner could not create its keys", r)
		}
	}
}

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=4$") {
		t.Errorf("hash %q does not carry the documented parameters", h)
	}
	if err := VerifyPassword(h, "correct horse battery staple"); err != nil {
		t.Errorf("right password: %v", err)
	}
	if err := VerifyPassword(h, "correct horse battery stapler"); err != ErrPasswordMismatch {
		t.Errorf("wrong password: %v", err)
	}
	h2, _ := HashPassword("correct horse battery staple")
	if h2 == h {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	if _, err := HashPassword("short"); err == nil {
		t.Error("a short password was hashed")
	}
	if err := VerifyPassword("$2a$10$bcrypt", "x"); err == nil || err == ErrPasswordMismatch {
		t.Errorf("a foreign hash format: %v", err)
	}
}
