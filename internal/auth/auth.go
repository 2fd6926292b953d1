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
	PurposesRead    Permission = "purposes:read"
	PurposesWrite   Permission = "purposes:write"
	ContactsRead    Permission = "contacts:read"   // read one contact (identifiers masked)
	ContactsWrite   Permission = "contacts:write"  // create contacts
	ContactsReveal  Permission = "contacts:reveal" // see identifiers in clear, with a reason
	ConsentsRead    Permission = "consents:read"
	ConsentsWrite   Permission = "consents:write"
	Decide          Permission = "decisions"
	KeysManage      Permission = "keys:manage"
	MessagesSend    Permission = "messages:send"    // send through the gateway (every message is decided)
	MessagesRead    Permission = "messages:read"    // message metadata and timelines, never text
	ProvidersManage Permission = "providers:manage" // channel providers and their credentials
	SendersRead     Permission = "senders:read"
	SendersWrite    Permission = "senders:write"   // register sender addresses (routing of inbound messages)
	KeywordsRead    Permission = "keywords:read"   // keyword rules, reply templates, classify
	KeywordsWrite   Permission = "keywords:write"  // tenant keyword rules and reply templates
	TemplatesRead   Permission = "templates:read"  // message templates (the tenant's copy, no personal data)
	TemplatesWrite  Permission = "templates:write" // create and delete message templates
	TenantRead      Permission = "tenant:read"     // the tenant profile (controller, DPO)
	TenantWrite     Permission = "tenant:write"
	WebhooksManage  Permission = "webhooks:manage"   // inbound webhook secrets and the forwarding target
	UsersManage     Permission = "users:manage"      // web UI users (e-mail, password, role)
	AuditRead       Permission = "audit:read"        // the audit trail, its export and the reasons given for reveals
	DSRManage       Permission = "dsr:manage"        // data-subject requests: exports in clear, erasure, rectification, legal holds
	RetentionManage Permission = "retention:manage"  // retention policies and attribute declarations' data categories
	RecordsRead     Permission = "records:read"      // record of processing, data map, DPIAs, processors, compliance figures (no personal data)
	DPIAWrite       Permission = "dpia:write"        // DPIA answers and risk registers; processor declarations
	DPIASignOff     Permission = "dpia:signoff"      // sign off a DPIA: compliance (and owner, who must hold every permission it can give a key)
	BreachesRead    Permission = "breaches:read"     // the breach register and its reports
	BreachesWrite   Permission = "breaches:write"    // record and update breaches
	BreachContacts  Permission = "breaches:contacts" // the ids of contacts a breach could affect: compliance (and owner, as above)
)

var rolePermissions = map[Role][]Permission{
	Owner: {PurposesRead, PurposesWrite, ContactsRead, ContactsWrite, ContactsReveal, ConsentsRead, ConsentsWrite, Decide, KeysManage,
		MessagesSend, MessagesRead, ProvidersManage, SendersRead, SendersWrite, KeywordsRead, KeywordsWrite, TemplatesRead, TemplatesWrite, TenantRead, TenantWrite, WebhooksManage,
		UsersManage, AuditRead, DSRManage, RetentionManage, RecordsRead, DPIAWrite, DPIASignOff, BreachesRead, BreachesWrite, BreachContacts},
	// Admin runs the installation for the owner but does not read the
	// audit trail: those who administer access should not also be the
	// ones who review it.
	Admin: {PurposesRead, PurposesWrite, ContactsRead, ContactsWrite, ContactsReveal, ConsentsRead, ConsentsWrite, Decide, KeysManage,
		MessagesSend, MessagesRead, ProvidersManage, SendersRead, SendersWrite, KeywordsRead, KeywordsWrite, TemplatesRead, TemplatesWrite, TenantRead, TenantWrite, WebhooksManage,
		UsersManage, DSRManage, RetentionManage, RecordsRead, DPIAWrite, BreachesRead, BreachesWrite},
	Compliance: {PurposesRead, ContactsRead, ContactsReveal, ConsentsRead, ConsentsWrite, MessagesRead, SendersRead, KeywordsRead, TenantRead, TenantWrite,
		AuditRead, DSRManage, RetentionManage, RecordsRead, DPIAWrite, DPIASignOff, BreachesRead, BreachesWrite, BreachContacts},
	Marketer:  {PurposesRead, PurposesWrite, SendersRead, KeywordsRead, KeywordsWrite, TemplatesRead, TemplatesWrite, TenantRead, RecordsRead},
	Support:   {PurposesRead, ContactsRead, ConsentsRead, ConsentsWrite, MessagesRead},
	Developer: {PurposesRead, ContactsWrite, ConsentsWrite, Decide, MessagesSend, MessagesRead, SendersRead, SendersWrite, KeywordsRead, TemplatesRead, WebhooksManage},
	Auditor:   {PurposesRead, ConsentsRead, SendersRead, KeywordsRead, TenantRead, AuditRead, RecordsRead, BreachesRead},
}

// Permissions lists every permission in a stable order (the order of the
// permission matrix in docs/access.md).
var Permissions = []Permission{PurposesRead, PurposesWrite, ContactsRead, ContactsWrite, ContactsReveal, ConsentsRead, ConsentsWrite,
	Decide, KeysManage, UsersManage, AuditRead, MessagesSend, MessagesRead, ProvidersManage, SendersRead, SendersWrite,
	KeywordsRead, KeywordsWrite, TemplatesRead, TemplatesWrite, TenantRead, TenantWrite, WebhooksManage, DSRManage, RetentionManage,
	RecordsRead, DPIAWrite, DPIASignOff, BreachesRead, BreachesWrite, BreachContacts}

// ParseScopes checks that every scope names a permission that role carries
// and returns them sorted and without duplicates. An empty list means "the
// whole role".
func ParseScopes(role Role, scopes []string) ([]Permission, error) {
	out := make([]Permission, 0, len(scopes))
	for _, s := range scopes {
		p := Permission(s)
		if !slices.Contains(Permissions, p) {
			return nil, fmt.Errorf("unknown scope %q", s)
		}
		if !role.Can(p) {
			return nil, fmt.Errorf("scope %q is not part of role %s", s, role)
		}
		out = append(out, p)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Can reports whether role r carries permission p.
func (r Role) Can(p Permission) bool { return slices.Contains(rolePermissions[r], p) }

// Principal is who a request acts as. Scopes, when not empty, narrow the
// role: the principal may do what its role allows and its scopes list.
type Principal struct {
	TenantID string
	// KeyID names the actor: the API key, or the user id for a web UI
	// session (so that rate limits, logs and the records that name an
	// actor treat a user like a key).
	KeyID  string
	Role   Role
	Scopes []Permission
	// UserID and SessionID are set when the request carries a session
	// token: the signed-in user (the audit trail's actor) and the session.
	UserID    string
	SessionID string
}

// Can reports whether the principal may do p: its role carries p and, when
// it has scopes, they include p. service.authorize is the one caller that
// decides access with it.
func (p Principal) Can(perm Permission) bool {
	return p.Role.Can(perm) && (len(p.Scopes) == 0 || slices.Contains(p.Scopes, perm))
}

// Effective returns every permission the principal holds.
func (p Principal) Effective() []Permission {
	var out []Permission
	for _, perm := range rolePermissions[p.Role] {
		if p.Can(perm) {
			out = append(out, perm)
		}
	}
	return out
}

// Covers reports whether p holds every permission of other: a principal may
// create, or revoke, only keys and users that are no more powerful than
// itself.
func (p Principal) Covers(other Principal) bool {
	for _, perm := range other.Effective() {
		if !p.Can(perm) {
			return false
		}
	}
	return true
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

// Permissions returns the permissions role r carries, in matrix order.
func (r Role) Permissions() []Permission {
	var out []Permission
	for _, p := range Permissions {
		if r.Can(p) {
			out = append(out, p)
		}
	}
	return out
}
