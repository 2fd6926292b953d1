package consent

import (
	"fmt"
	"net/mail"
	"strings"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/net/idna"
)

// IdentifierKind names a kind of identifier a contact can have.
type IdentifierKind string

// The identifier kinds. WhatsApp ids are phone numbers in E.164 but are kept
// apart: a person may use WhatsApp on another number than SMS.
const (
	KindPhone    IdentifierKind = "phone"
	KindEmail    IdentifierKind = "email"
	KindWhatsApp IdentifierKind = "whatsapp"
)

// IdentifierKinds lists the kinds in a stable order.
var IdentifierKinds = []IdentifierKind{KindPhone, KindEmail, KindWhatsApp}

// ParseIdentifierKind returns the kind named s.
func ParseIdentifierKind(s string) (IdentifierKind, bool) {
	switch k := IdentifierKind(s); k {
	case KindPhone, KindEmail, KindWhatsApp:
		return k, true
	}
	return "", false
}

// Normalizer turns identifiers as people type them into one canonical form,
// so that the same person is found whatever the spelling: phone numbers in
// E.164, e-mail addresses lower-cased with an ASCII (punycode) domain.
type Normalizer struct {
	// DefaultRegion is the ISO 3166 region used for phone numbers written
	// without a country code, e.g. "DK".
	DefaultRegion string
}

// Normalize returns the canonical form of value for kind, or an error wrapping
// ErrInvalidIdentifier. The error text never repeats the value: it is
// personal data and error texts end up in logs.
func (n Normalizer) Normalize(kind IdentifierKind, value string) (string, error) {
	switch kind {
	case KindPhone, KindWhatsApp:
		return n.phone(value)
	case KindEmail:
		return normalizeEmail(value)
	}
	return "", fmt.Errorf("%w: unknown identifier kind", ErrInvalidIdentifier)
}

func (n Normalizer) phone(value string) (string, error) {
	v := strings.TrimSpace(value)
	if v == "" || len(v) > 64 {
		return "", fmt.Errorf("%w: phone number empty or too long", ErrInvalidIdentifier)
	}
	region := n.DefaultRegion
	if region == "" {
		region = "ZZ" // unknown: only numbers with a country code parse
	}
	num, err := phonenumbers.Parse(v, region)
	if err != nil {
		return "", fmt.Errorf("%w: phone number cannot be parsed", ErrInvalidIdentifier)
	}
	if !phonenumbers.IsValidNumber(num) {
		return "", fmt.Errorf("%w: not a valid phone number", ErrInvalidIdentifier)
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// normalizeEmail lower-cases the whole address. RFC 5321 lets the local part
// be case-sensitive, but no mailbox provider in use treats it so, and matching
// opt-outs case-insensitively is the safe side: a missed opt-out is a
// violation, a merged look-alike is not.
func normalizeEmail(value string) (string, error) {
	v := strings.TrimSpace(value)
	if v == "" || len(v) > 254 {
		return "", fmt.Errorf("%w: e-mail address empty or too long", ErrInvalidIdentifier)
	}
	addr, err := mail.ParseAddress(v)
	if err != nil || addr.Name != "" || addr.Address != v {
		return "", fmt.Errorf("%w: not a plain e-mail address", ErrInvalidIdentifier)
	}
	at := strings.LastIndexByte(v, '@')
	local, domain := v[:at], v[at+1:]
	if local == "" || domain == "" || !strings.Contains(domain, ".") {
		return "", fmt.Errorf("%w: e-mail address needs a local part and a domain", ErrInvalidIdentifier)
	}
	ascii, err := idna.Lookup.ToASCII(strings.TrimSuffix(domain, "."))
	if err != nil {
		return "", fmt.Errorf("%w: e-mail domain is not a valid host name", ErrInvalidIdentifier)
	}
	return strings.ToLower(local) + "@" + strings.ToLower(ascii), nil
}
