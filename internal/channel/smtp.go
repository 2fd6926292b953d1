package channel

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
	mail "github.com/wneessen/go-mail"
)

// SMTPSettings configure the e-mail adapter. Plain-text SMTP is not offered:
// a message body is personal data and must not cross the network in clear.
type SMTPSettings struct {
	Host string `json:"host"`
	Port int    `json:"port"`
	// TLS is "starttls" (default; submission on port 587) or "implicit"
	// (SMTPS on port 465).
	TLS      string `json:"tls"`
	Username string `json:"username"`
	// CAPEM is a PEM certificate authority to trust besides the system
	// pool, for a relay with a private CA.
	CAPEM string `json:"ca_pem,omitempty"`
	// HELO is the name the gateway greets with; the host name when empty.
	HELO           string `json:"helo,omitempty"`
	TimeoutSeconds int    `json:"timeout_seconds,omitempty"`
}

// SMTP sends e-mail through a mail server with go-mail. Each send dials its
// own connection, so sends are independent and safe in parallel; e-mail
// volume does not justify a connection pool yet.
type SMTP struct {
	set  SMTPSettings
	opts []mail.Option
}

var _ Sender = (*SMTP)(nil)

// NewSMTP checks the settings and returns the adapter; password may be
// empty when the server takes no authentication.
func NewSMTP(s SMTPSettings, password string) (*SMTP, error) {
	if s.Host == "" || strings.ContainsAny(s.Host, " /:") {
		return nil, errors.New("smtp: host is required (a host name or address, without port)")
	}
	if s.TLS == "" {
		s.TLS = "starttls"
	}
	if s.Port == 0 {
		s.Port = map[string]int{"starttls": 587, "implicit": 465}[s.TLS]
	}
	if s.Port <= 0 || s.Port > 65535 {
		return nil, errors.New("smtp: port must be 1-65535")
	}
	timeout := 30 * time.Second
	if s.TimeoutSeconds > 0 {
		timeout = time.Duration(s.TimeoutSeconds) * time.Second
	}
	tc := &tls.Config{ServerName: s.Host, MinVersion: tls.VersionTLS12}
	if s.CAPEM != "" {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM([]byte(s.CAPEM)) {
			return nil, errors.New("smtp: ca_pem holds no PEM certificate")
		}
		tc.RootCAs = pool
	}
	opts := []mail.Option{mail.WithPort(s.Port), mail.WithTimeout(timeout), mail.WithTLSConfig(tc)}
	switch s.TLS {
	case "starttls":
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case "implicit":
		opts = append(opts, mail.WithSSL())
	default:
		return nil, fmt.Errorf("smtp: tls must be starttls or implicit, not %q", s.TLS)
	}
	if s.HELO != "" {
		opts = append(opts, mail.WithHELO(s.HELO))
	}
	if s.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(s.Username), mail.WithPassword(password))
	}
	return &SMTP{set: s, opts: opts}, nil
}

// Send implements Sender.
func (s *SMTP) Send(ctx context.Context, m *Message) (Result, error) {
	msg := mail.NewMsg()
	if err := msg.From(m.From); err != nil {
		return Result{}, Permanent("smtp_from", err)
	}
	if err := msg.To(m.To); err != nil {
		return Result{}, Permanent("smtp_to", err)
	}
	msg.Subject(m.Subject)
	// The message id makes a re-sent message recognisable to the receiving
	// side (SMTP has no idempotency of its own).
	msg.SetMessageIDWithValue(m.ID + "@" + domainOf(m.From))
	msg.SetDate()
	for k, v := range m.Headers {
		msg.SetGenHeaderPreformatted(mail.Header(k), v)
	}
	msg.SetBodyString(mail.TypeTextPlain, m.Body)
	c, err := mail.NewClient(s.set.Host, s.opts...)
	if err != nil {
		return Result{}, Permanent("smtp_config", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return Result{}, classifySMTP(err)
	}
	return Result{ProviderRef: "<" + m.ID + "@" + domainOf(m.From) + ">"}, nil
}

func domainOf(addr string) string {
	if at := strings.LastIndexByte(addr, '@'); at >= 0 && at < len(addr)-1 {
		return strings.Trim(addr[at+1:], "<> ")
	}
	return "consentgate.invalid"
}

// classifySMTP maps the server's reply code: 5xx is permanent, 4xx and
// network trouble are temporary.
func classifySMTP(err error) error {
	code := 0
	var se *mail.SendError
	var te *textproto.Error
	switch {
	case errors.As(err, &se):
		code = se.ErrorCode()
	case errors.As(err, &te):
		code = te.Code
	}
	if code >= 500 {
		return Permanent("smtp_"+strconv.Itoa(code), err)
	}
	if code >= 400 {
		return Temporary("smtp_"+strconv.Itoa(code), err)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		return Temporary("timeout", err)
	}
	var ue x509.UnknownAuthorityError
	var he x509.HostnameError
	if errors.As(err, &ue) || errors.As(err, &he) {
		// A certificate that does not verify is a configuration fault or an
		// attack; neither goes away by retrying soon, but the operator can
		// fix it, so it stays temporary and dead-letters after the limit.
		return Temporary("smtp_tls", err)
	}
	return Temporary("connect", err)
}

// Capabilities implements Sender.
func (s *SMTP) Capabilities() Capabilities {
	return Capabilities{Channels: []consent.Channel{consent.Email}}
}

// Close implements Sender.
func (s *SMTP) Close() error { return nil }
