// Package auth holds who may do what: roles, the permissions each role
// carries, API key secrets and the principal a request acts as. The service
// layer checks permissions in one place (service.authorize); HTTP handlers
// never decide access themselves.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"slices"
	"strings"
)

// Role is a named set of permissions given to a key or user.
type Role string

// The roles, from DESIGN and the access issue. Their permissions are in
// rolePermissions and documented in docs/access.md.
const (
	Owner      Role = "owner"
	Admin      Role = "admin"
	Compliance Role = "compliance"
	Marketer   Role = "marketer"
	Support    Role = "support"
	Developer  Role = "developer"
	Auditor    Role = "auditor"
)

// Roles lists every role in a stable order.
var Roles = []Role{Owner, Admin, Compliance, Marketer, Support, Developer, Auditor}

// ParseRole returns the role named s.
func ParseRole(s string) (Role, error) {
	if slices.Contains(Roles, Role(s)) {
		return Role(s), nil
	}
	return "", fmt.Errorf("unknown role %q (one of %s)", s, strings.Join(roleNames(), ", "))
}

func roleNames() []string {
	out := make([]string, len(Roles))
	for i, r := range Roles {
		out[i] = string(r)
	}
	return out
}

// Permission is one thing a principal may do.
type Permission string

// The permissions.
const (
	PurposesRead   Permission = "purposes:read"
	PurposesWrite  Permission = "purposes:write"
	ContactsRead   Permission = "contacts:read"   // read one contact (identifiers masked)
	ContactsWrite  Permission = "contacts:write"  // create contacts
	ContactsReveal Permission = "contacts:reveal" // see identifiers in clear, with a reason
	ConsentsRead   Permission = "consents:read"
	ConsentsWrite  Permission = "consents:write"
	Decide         Permission = "decisions"
	KeysManage     Permission = "keys:manage"
)

var rolePermissions = map[Role][]Permission{
	Owner:      {PurposesRead, PurposesWrite, ContactsRead, ContactsWrite, ContactsReveal, ConsentsRead, ConsentsWrite, Decide, KeysManage},
	Admin:      {PurposesRead, PurposesWrite, ContactsRead, ContactsWrite, ContactsReveal, ConsentsRead, ConsentsWrite, Decide, KeysManage},
	Compliance: {PurposesRead, ContactsRead, ContactsReveal, ConsentsRead, ConsentsWrite},
	Marketer:   {PurposesRead, PurposesWrite},
	Support:    {PurposesRead, ContactsRead, ConsentsRead, ConsentsWrite},
	Developer:  {PurposesRead, ContactsWrite, ConsentsWrite, Decide},
	Auditor:    {PurposesRead, ConsentsRead},
}

// Can reports whether role r carries permission p.
func (r Role) Can(p Permission) bool { return slices.Contains(rolePermissions[r], p) }

// Principal is who a request acts as.
type Principal struct {
	TenantID string
	KeyID    string
	Role     Role
}

// KeyPrefix starts every API key so that secret scanners can find leaked
// keys.
const KeyPrefix = "cg_"

var keyEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewKeySecret returns a new API key secret (cg_ + 160 random bits), its
// hash for storage, and a short hint to tell keys apart in listings.
func NewKeySecret() (secret string, hash []byte, hint string, err error) {
	var b [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, "", fmt.Errorf("auth: random key: %w", err)
	}
	secret = KeyPrefix + keyEncoding.EncodeToString(b[:])
	return secret, HashKey(secret), secret[:len(KeyPrefix)+6], nil
}

// HashKey returns the stored form of a key secret. A plain SHA-256 is right
// here: the secret has 160 bits of entropy, so there is nothing to stretch.
func HashKey(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// LooksLikeKey reports whether s has the shape of a key, so that obviously
// malformed credentials are refused before any lookup.
func LooksLikeKey(s string) bool {
	return strings.HasPrefix(s, KeyPrefix) && len(s) == len(KeyPrefix)+32
}
