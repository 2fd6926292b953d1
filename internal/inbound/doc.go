// Package inbound reads providers' inbound-message webhooks and checks their
// signatures: the generic JSON format signed the Standard Webhooks way,
// Twilio's form fields with X-Twilio-Signature, and WhatsApp Cloud API
// payloads with X-Hub-Signature-256. It is pure: bytes and headers in,
// messages or errors out, no store and no HTTP server, so that every decoder
// can be fuzzed on its own.
//
// Every decoder bounds what it reads (MaxBodyBytes, MaxTextBytes) so that a
// hostile body costs bounded time and memory, and never puts message text or
// a phone number into an error: errors end up in logs.
package inbound

import (
	"errors"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
)

// Limits. A concatenated SMS is at most 10 segments of 153 characters; 4 KiB
// of UTF-8 holds any real keyword reply with room to spare, and anything
// longer is refused as too large rather than cut (a cut text could change
// meaning).
const (
	MaxBodyBytes   = 64 << 10
	MaxTextBytes   = 4096
	MaxIDBytes     = 256
	MaxAddrBytes   = 320
	MaxMessages    = 100 // per WhatsApp payload
	TimestampSkew  = 5 * time.Minute
	signatureV1Tag = "v1,"
)

// The errors the decoders and verifiers return. The HTTP layer maps them:
// ErrSignature → 401, ErrMalformed → 400, ErrTooLarge → 413.
var (
	ErrSignature = errors.New("inbound: signature missing or invalid")
	ErrMalformed = errors.New("inbound: malformed payload")
	ErrTooLarge  = errors.New("inbound: text or body too large")
)

// Message is one inbound message as the gateway needs it. From and To are
// as the provider wrote them; the service normalises them.
type Message struct {
	Channel    consent.Channel
	ProviderID string // the provider's message id: the idempotency key
	From       string // the person's address (phone number, WhatsApp id, e-mail)
	To         string // the tenant's sender address
	Text       string
	ReceivedAt time.Time // zero when the provider did not say
}

// check validates the fields every format shares.
func (m *Message) check() error {
	switch {
	case len(m.Text) > MaxTextBytes:
		return ErrTooLarge
	case m.ProviderID == "" || len(m.ProviderID) > MaxIDBytes:
		return errors.Join(ErrMalformed, errors.New("message id missing or too long"))
	case m.From == "" || len(m.From) > MaxAddrBytes:
		return errors.Join(ErrMalformed, errors.New("from missing or too long"))
	case m.To == "" || len(m.To) > MaxAddrBytes:
		return errors.Join(ErrMalformed, errors.New("to missing or too long"))
	}
	return nil
}
