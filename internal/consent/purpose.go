package consent

import (
	"fmt"
	"regexp"
	"slices"
	"time"
)

// Category says what kind of message a purpose carries. Marketing messages
// must carry an opt-out instruction; the category also feeds the record of
// processing.
type Category string

// The purpose categories.
const (
	Marketing     Category = "marketing"
	Service       Category = "service"
	Transactional Category = "transactional"
)

// Basis is the lawful basis of GDPR Art. 6(1) a purpose rests on. It decides
// which consent states allow a message (see Decide).
type Basis string

// The lawful bases the gateway supports.
const (
	BasisConsent            Basis = "consent"
	BasisLegitimateInterest Basis = "legitimate_interest"
	BasisContract           Basis = "contract"
	BasisLegalObligation    Basis = "legal_obligation"
)

// ParseCategory returns the category named s or ErrUnknownCategory.
func ParseCategory(s string) (Category, error) {
	switch c := Category(s); c {
	case Marketing, Service, Transactional:
		return c, nil
	}
	return "", fmt.Errorf("%w: %q", ErrUnknownCategory, s)
}

// ParseBasis returns the basis named s or ErrUnknownBasis.
func ParseBasis(s string) (Basis, error) {
	switch b := Basis(s); b {
	case BasisConsent, BasisLegitimateInterest, BasisContract, BasisLegalObligation:
		return b, nil
	}
	return "", fmt.Errorf("%w: %q", ErrUnknownBasis, s)
}

// Purpose is why a tenant messages people. Its notice is versioned so that a
// consent event can record exactly which text the person was shown.
type Purpose struct {
	Key           string        `json:"key"`
	Name          string        `json:"name"`
	Description   string        `json:"description"`
	NoticeVersion int           `json:"notice_version"`
	Category      Category      `json:"category"`
	Basis         Basis         `json:"basis"`
	Channels      []Channel     `json:"channels"`
	DoubleOptIn   bool          `json:"double_opt_in"`
	Lifetime      time.Duration `json:"-"` // how long a granted consent lasts; 0 = until withdrawn
	// KeepBodies keeps the text of this purpose's sent messages (sealed)
	// until the tenant's message-body retention ends, e.g. to answer a
	// dispute; by default a text is deleted once its message is finished.
	KeepBodies bool `json:"keep_bodies"`
}

var purposeKeyRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// ValidPurposeKey reports whether key may name a purpose: lower case, short,
// URL-safe, because it appears in URLs and keywords ("STOP NEWS").
func ValidPurposeKey(key string) bool { return purposeKeyRE.MatchString(key) }

// Validate checks a purpose for internal consistency. It returns an error
// wrapping ErrInvalidPurpose (or a more specific sentinel) naming the field.
func (p *Purpose) Validate() error {
	if !ValidPurposeKey(p.Key) {
		return fmt.Errorf("%w: key must match %s", ErrInvalidPurpose, purposeKeyRE)
	}
	if p.Name == "" || len(p.Name) > 200 {
		return fmt.Errorf("%w: name must be 1-200 characters", ErrInvalidPurpose)
	}
	if len(p.Description) > 4000 {
		return fmt.Errorf("%w: description longer than 4000 characters", ErrInvalidPurpose)
	}
	if _, err := ParseCategory(string(p.Category)); err != nil {
		return err
	}
	if _, err := ParseBasis(string(p.Basis)); err != nil {
		return err
	}
	if len(p.Channels) == 0 {
		return fmt.Errorf("%w: at least one channel is required", ErrInvalidPurpose)
	}
	for _, c := range p.Channels {
		if _, err := ParseChannel(string(c)); err != nil {
			return err
		}
	}
	if p.DoubleOptIn && p.Basis != BasisConsent {
		return fmt.Errorf("%w: double_opt_in only applies to the consent basis", ErrInvalidPurpose)
	}
	if p.Lifetime < 0 {
		return fmt.Errorf("%w: consent lifetime must not be negative", ErrInvalidPurpose)
	}
	if p.Category == Marketing && (p.Basis == BasisContract || p.Basis == BasisLegalObligation) {
		// ePrivacy: direct marketing needs consent or, for existing
		// customers, legitimate interest (soft opt-in); never a contract.
		return fmt.Errorf("%w: a marketing purpose needs the consent or legitimate_interest basis", ErrInvalidPurpose)
	}
	return nil
}

// Allows reports whether the purpose may use channel c.
func (p *Purpose) Allows(c Channel) bool { return slices.Contains(p.Channels, c) }
