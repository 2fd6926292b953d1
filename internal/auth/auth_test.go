package auth

import "testing"

func TestKeySecret(t *testing.T) {
	s, h, hint, err := NewKeySecret()
	if err != nil {
		t.Fatal(err)
	}
	if !LooksLikeKey(s) || hint != s[:9] || string(h) != string(HashKey(s)) {
		t.Fatalf("key %q hint %q", s, hint)
	}
	s2, _, _, _ := NewKeySecret()
	if s == s2 {
		t.Fatal("two keys alike")
	}
	for _, bad := range []string{"", "cg_", "xx_" + s[3:], s + "a"} {
		if LooksLikeKey(bad) {
			t.Errorf("LooksLikeKey(%q)", bad)
		}
	}
}

func TestRoles(t *testing.T) {
	for _, r := range Roles {
		if _, err := ParseRole(string(r)); err != nil {
			t.Errorf("ParseRole(%s): %v", r, err)
		}
		if len(rolePermissions[r]) == 0 {
			t.Errorf("role %s has no permissions", r)
		}
	}
	if _, err := ParseRole("root"); err == nil {
		t.Error("unknown role accepted")
	}
	// The marketer never sees raw identifiers; the developer only sends
	// and decides.
	if Marketer.Can(ContactsReveal) || Marketer.Can(ContactsRead) || Developer.Can(ContactsRead) || Auditor.Can(ConsentsWrite) {
		t.Error("role carries a permission it must not")
	}
	if !Owner.Can(KeysManage) || !Developer.Can(Decide) {
		t.Error("role lacks a permission it needs")
	}
}
