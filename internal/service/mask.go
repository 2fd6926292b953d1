package service

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/nyaruka/phonenumbers"
)

// Unreadable stands in for a value whose ciphertext does not open.
const Unreadable = "(unreadable)"

// Mask hides most of an identifier while leaving enough to tell two apart
// on a support call: the country code and the last three digits of a phone
// number ("+45 •• •• •3 21"), the first letter and the domain of an e-mail
// address ("a•••@example.com").
func Mask(kind consent.IdentifierKind, v string) string {
	switch kind {
	case consent.KindEmail:
		at := strings.LastIndexByte(v, '@')
		if at < 1 {
			return "•••"
		}
		r, _ := utf8.DecodeRuneInString(v)
		return string(r) + "•••" + v[at:]
	default:
		return maskPhone(v)
	}
}

func maskPhone(e164 string) string {
	num, err := phonenumbers.Parse(e164, "ZZ")
	if err != nil {
		return "•••"
	}
	cc := phonenumbers.GetCountryCodeForRegion(phonenumbers.GetRegionCodeForNumber(num))
	if cc == 0 {
		cc = int(num.GetCountryCode())
	}
	intl := phonenumbers.Format(num, phonenumbers.INTERNATIONAL) // "+45 20 12 34 56"
	prefix := "+" + strconv.Itoa(cc)
	rest := strings.TrimPrefix(intl, prefix)
	digits := 0
	for _, r := range rest {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	var b strings.Builder
	b.WriteString(prefix)
	seen := 0
	for _, r := range rest {
		if r >= '0' && r <= '9' {
			seen++
			if seen > digits-3 {
				b.WriteRune(r)
			} else {
				b.WriteString("•")
			}
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
