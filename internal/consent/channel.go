package consent

import "fmt"

// Channel is a messaging channel. Consent is kept per channel because the
// brief asks that people choose the channel: SMS consent never implies
// WhatsApp consent.
type Channel string

// The channels the gateway knows. The list is closed on purpose: an unknown
// channel is refused at the edge rather than silently accepted.
const (
	SMS      Channel = "sms"
	MMS      Channel = "mms"
	RCS      Channel = "rcs"
	Email    Channel = "email"
	WhatsApp Channel = "whatsapp"
	Viber    Channel = "viber"
	Voice    Channel = "voice"
)

// Channels lists every known channel in a stable order.
var Channels = []Channel{SMS, MMS, RCS, Email, WhatsApp, Viber, Voice}

// ParseChannel returns the channel named s, or ErrUnknownChannel.
func ParseChannel(s string) (Channel, error) {
	for _, c := range Channels {
		if string(c) == s {
			return c, nil
		}
	}
	return "", fmt.Errorf("%w: %q", ErrUnknownChannel, s)
}

// IdentifierKind says which identifier a channel delivers to, so the gateway
// knows which identifier of a contact a message needs and can refuse a send
// whose identifier the contact does not have.
func (c Channel) IdentifierKind() IdentifierKind {
	switch c {
	case Email:
		return KindEmail
	case WhatsApp:
		return KindWhatsApp
	default:
		return KindPhone
	}
}
