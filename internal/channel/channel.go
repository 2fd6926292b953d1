// Package channel holds the outbound adapters: one narrow interface (send,
// close, capabilities) and its implementations — sink (records ids, sends
// nothing), smtp (e-mail through a mail server), http (a generic JSON
// webhook provider) and twilio (Twilio's Messages API). Adapters know
// nothing of consent: the outbox decides whether a message may go and only
// then hands it over.
package channel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/consentgate/consentgate/internal/egress"
	"github.com/wneessen/go-mail"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
)

// Message is one message as an adapter sends it. It holds personal data
// (To, Body) in clear, so it lives only in memory for the duration of a
// send and is never logged.
type Message struct {
	// ID is the gateway's message id. Adapters pass it to the provider as
	// the idempotency key, so that a message sent again after a crash is
	// recognised by providers that support it.
	ID      string
	Channel consent.Channel
	From    string
	To      string
	Subject string // e-mail only
	Body    string
	// Headers are extra e-mail header fields, such as List-Unsubscribe.
	Headers map[string]string
}

// Result is what a provider said on accepting a message.
type Result struct {
	ProviderRef string // the provider's id for the message; may be empty
}

// Capabilities describe what an adapter can do, so that the gateway can
// refuse what it cannot send instead of failing at dispatch.
type Capabilities struct {
	Channels []consent.Channel
	// Idempotent: the provider recognises a message sent twice by its id.
	Idempotent bool
	// MaxBodyBytes caps the text; 0 means no limit of the adapter's own.
	MaxBodyBytes int
}

// Sender is an outbound adapter. Send is safe for concurrent use.
type Sender interface {
	Send(ctx context.Context, m *Message) (Result, error)
	Capabilities() Capabilities
	Close() error
}

// Error is a send failure with what the outbox needs to know: whether a
// retry can help, and a short class for the message timeline and metrics.
// The class never holds personal data; the wrapped error may (a mail server
// may echo the address), so it only goes to debug logs.
type Error struct {
	Permanent bool
	Class     string // e.g. "http_503", "smtp_550", "connect", "timeout"
	Err       error
}

func (e *Error) Error() string {
	kind := "temporary"
	if e.Permanent {
		kind = "permanent"
	}
	return fmt.Sprintf("channel: %s failure (%s): %v", kind, e.Class, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Temporary returns a failure worth retrying.
func Temporary(class string, err error) error { return &Error{Class: class, Err: err} }

// Permanent returns a failure no retry will fix.
func Permanent(class string, err error) error { return &Error{Permanent: true, Class: class, Err: err} }

// Classify returns whether err is permanent and its class. Errors that are
// not *Error are temporary: the outbox retries what it does not understand,
// within its attempt limit.
func Classify(err error) (permanent bool, class string) {
	var e *Error
	if errors.As(err, &e) {
		return e.Permanent, e.Class
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return false, "timeout"
	}
	return false, "error"
}

// Kinds of provider a tenant can configure.
const (
	KindSink   = "sink"
	KindSMTP   = "smtp"
	KindHTTP   = "http"
	KindTwilio = "twilio"
)

// Kinds lists the provider kinds.
var Kinds = []string{KindSink, KindSMTP, KindHTTP, KindTwilio}

// Config is a provider as a tenant configured it: Settings (JSON, not
// secret) and Secret (password or token, in clear only here).
type Config struct {
	Kind     string
	Channel  consent.Channel
	Settings json.RawMessage
	Secret   string
	// Egress decides which addresses the adapter may connect to; the zero
	// value allows public addresses only (see internal/egress).
	Egress egress.Policy
}

// New builds the adapter a configuration describes. It checks the
// configuration; it does not connect.
func New(cfg Config) (Sender, error) {
	switch cfg.Kind {
	case KindSink:
		return NewSink(nil), nil
	case KindSMTP:
		var s SMTPSettings
		if err := strictJSON(cfg.Settings, &s); err != nil {
			return nil, err
		}
		a, err := NewSMTP(s, cfg.Secret)
		if err != nil {
			return nil, err
		}
		a.opts = append(a.opts, mail.WithDialContextFunc(cfg.Egress.DialContext))
		return a, nil
	case KindHTTP:
		var s HTTPSettings
		if err := strictJSON(cfg.Settings, &s); err != nil {
			return nil, err
		}
		return NewHTTP(s, cfg.Secret, cfg.Egress.HTTPClient(15*time.Second))
	case KindTwilio:
		var s TwilioSettings
		if err := strictJSON(cfg.Settings, &s); err != nil {
			return nil, err
		}
		return NewTwilio(s, cfg.Secret, cfg.Egress.HTTPClient(15*time.Second))
	}
	return nil, fmt.Errorf("unknown provider kind %q (one of sink, smtp, http, twilio)", cfg.Kind)
}

func strictJSON(raw json.RawMessage, v any) error {
	if len(raw) == 0 {
		raw = json.RawMessage("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("settings: %v", err)
	}
	return nil
}
