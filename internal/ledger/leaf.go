package ledger

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// LeafVersion is the first line of every encoded leaf. A future incompatible
// encoding gets a new first line, so old leaves keep verifying unchanged.
const LeafVersion = "consentgate-leaf/v1"

// MaxLeafSize bounds an encoded leaf. Real leaves are about 300 bytes; the
// bound keeps a hostile input from costing more than it should to reject.
const MaxLeafSize = 2048

// Status is what a consent event did to the (contact, purpose, channel)
// consent state. The ledger records the event, the consent package decides
// what it means.
type Status string

// The statuses a leaf can record. Erased marks that the contact's personal
// data was destroyed (Art. 17); the leaf stays so the tree still verifies.
const (
	StatusGranted   Status = "granted"
	StatusWithdrawn Status = "withdrawn"
	StatusObjected  Status = "objected"
	StatusPending   Status = "pending"
	StatusConfirmed Status = "confirmed"
	StatusErased    Status = "erased"
)

// Common event sources. The set is open (any short lowercase token is
// accepted) because new front doors, such as SMPP, will add their own.
const (
	SourceAPI     = "api"
	SourceWeb     = "web"
	SourceKeyword = "keyword"
	SourceImport  = "import"
	SourceSystem  = "system"
)

// Leaf is one consent event as committed to the tree. It deliberately holds
// no plaintext personal data: the contact is its pseudonymous ULID and the
// evidence (inbound message id, IP address, user agent, form data) is
// represented only by the SHA-256 of its record, which lives encrypted
// elsewhere and can be destroyed on erasure without breaking the tree.
type Leaf struct {
	EventID       string    // ULID of the consent event; also the receipt id
	Tenant        string    // tenant (data controller) id
	Contact       string    // pseudonymous contact ULID, never an identifier
	Purpose       string    // purpose key, such as "newsletter"
	Channel       string    // channel, such as "sms" or "email"
	Status        Status    // what the event did
	Time          time.Time // when the event happened; encoded in UTC
	Source        string    // how it was collected: api, web, keyword, import, ...
	NoticeVersion int       // version of the purpose notice shown to the person
	Evidence      string    // lowercase hex SHA-256 of the evidence record
}

// leafKeys are the field names in their one canonical order.
var leafKeys = [...]string{"event", "tenant", "contact", "purpose", "channel", "status", "time", "source", "notice", "evidence"}

// Encode returns the canonical encoding of l: the version line, then one
// "key value" line per field in a fixed order, each ending in a newline.
// The encoding is what gets hashed, so it must never depend on map order,
// locale or time zone; a text format keeps it readable in an audit.
//
// Encode does not validate; [Log.Append] rejects any bytes that [DecodeLeaf]
// would reject, so an invalid leaf can never enter the tree.
func (l Leaf) Encode() []byte {
	vals := l.values()
	b := make([]byte, 0, 320)
	b = append(b, LeafVersion...)
	b = append(b, '\n')
	for i, k := range leafKeys {
		b = append(b, k...)
		b = append(b, ' ')
		b = append(b, vals[i]...)
		b = append(b, '\n')
	}
	return b
}

func (l Leaf) values() [len(leafKeys)]string {
	return [...]string{
		l.EventID, l.Tenant, l.Contact, l.Purpose, l.Channel, string(l.Status),
		l.Time.UTC().Format(time.RFC3339Nano), l.Source, strconv.Itoa(l.NoticeVersion), l.Evidence,
	}
}

// ErrMalformedLeaf is wrapped by every error from DecodeLeaf and Validate.
var ErrMalformedLeaf = errors.New("ledger: malformed leaf")

// DecodeLeaf parses an encoded leaf strictly: only the exact canonical
// encoding of a valid Leaf is accepted, so Encode(DecodeLeaf(b)) == b always
// holds and no two byte strings can claim to be the same event.
func DecodeLeaf(b []byte) (Leaf, error) {
	if len(b) > MaxLeafSize {
		return Leaf{}, fmt.Errorf("%w: %d bytes, limit %d", ErrMalformedLeaf, len(b), MaxLeafSize)
	}
	rest, ok := bytes.CutPrefix(b, []byte(LeafVersion+"\n"))
	if !ok {
		return Leaf{}, fmt.Errorf("%w: missing %q header", ErrMalformedLeaf, LeafVersion)
	}
	var vals [len(leafKeys)]string
	for i, k := range leafKeys {
		line, after, found := bytes.Cut(rest, []byte{'\n'})
		if !found {
			return Leaf{}, fmt.Errorf("%w: missing field %q", ErrMalformedLeaf, k)
		}
		v, ok := bytes.CutPrefix(line, []byte(k+" "))
		if !ok {
			return Leaf{}, fmt.Errorf("%w: line %d: want field %q", ErrMalformedLeaf, i+2, k)
		}
		vals[i], rest = string(v), after
	}
	if len(rest) != 0 {
		return Leaf{}, fmt.Errorf("%w: trailing data after field %q", ErrMalformedLeaf, "evidence")
	}
	l := Leaf{
		EventID: vals[0], Tenant: vals[1], Contact: vals[2], Purpose: vals[3],
		Channel: vals[4], Status: Status(vals[5]), Source: vals[7], Evidence: vals[9],
	}
	t, err := parseCanonicalTime(vals[6])
	if err != nil {
		return Leaf{}, fmt.Errorf("%w: time: %v", ErrMalformedLeaf, err)
	}
	l.Time = t
	n, err := strconv.Atoi(vals[8])
	if err != nil || strconv.Itoa(n) != vals[8] {
		return Leaf{}, fmt.Errorf("%w: notice: %q is not a canonical decimal", ErrMalformedLeaf, vals[8])
	}
	l.NoticeVersion = n
	if err := l.Validate(); err != nil {
		return Leaf{}, err
	}
	return l, nil
}

// Validate reports whether l can be committed: ids are well formed, the
// status is known, the time is representable in RFC 3339 and the evidence is
// a SHA-256 digest. Free text is impossible by construction, which is what
// keeps personal data out of a log that can never be rewritten.
func (l Leaf) Validate() error {
	checks := []struct {
		field string
		ok    bool
	}{
		{"event", isULID(l.EventID)},
		{"tenant", isToken(l.Tenant, 64, false)},
		{"contact", isULID(l.Contact)},
		{"purpose", isToken(l.Purpose, 64, false)},
		{"channel", isToken(l.Channel, 32, true)},
		{"status", validStatus(l.Status)},
		{"source", isToken(l.Source, 32, true)},
		{"notice", l.NoticeVersion >= 0},
		{"evidence", isSHA256Hex(l.Evidence)},
	}
	for _, c := range checks {
		if !c.ok {
			return fmt.Errorf("%w: invalid %s", ErrMalformedLeaf, c.field)
		}
	}
	if y := l.Time.UTC().Year(); y < 1 || y > 9999 || l.Time.IsZero() {
		return fmt.Errorf("%w: invalid time", ErrMalformedLeaf)
	}
	return nil
}

func validStatus(s Status) bool {
	switch s {
	case StatusGranted, StatusWithdrawn, StatusObjected, StatusPending, StatusConfirmed, StatusErased:
		return true
	}
	return false
}

// parseCanonicalTime accepts only what Encode writes: RFC 3339 in UTC ("Z"),
// with the fractional seconds trimmed the way time.RFC3339Nano trims them.
func parseCanonicalTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	t = t.UTC()
	if t.Format(time.RFC3339Nano) != s {
		return time.Time{}, fmt.Errorf("%q is not canonical UTC RFC 3339", s)
	}
	return t, nil
}

// crockford is the ULID alphabet (Crockford base32, upper case).
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// isULID reports whether s is a canonical ULID: 26 upper-case Crockford
// base32 characters whose first character keeps the value within 128 bits.
func isULID(s string) bool {
	if len(s) != 26 || s[0] > '7' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !bytes.ContainsRune([]byte(crockford), rune(s[i])) {
			return false
		}
	}
	return true
}

// isToken reports whether s is a short identifier: letters, digits and
// ". _ : -", or only lower-case ones when lower is set. Tokens cannot carry
// spaces or newlines, so they cannot forge lines in the encoding.
func isToken(s string, maxLen int, lower bool) bool {
	if s == "" || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '.', c == '_', c == ':', c == '-':
		case 'A' <= c && c <= 'Z' && !lower:
		default:
			return false
		}
	}
	return true
}

// isSHA256Hex reports whether s is 64 lower-case hex digits.
func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
