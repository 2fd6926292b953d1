package channel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/consentgate/consentgate/internal/consent"
)

// TwilioSettings configure the Twilio-compatible provider. BaseURL lets the
// same adapter talk to Twilio-compatible APIs and to test servers.
type TwilioSettings struct {
	AccountSID     string `json:"account_sid"`
	BaseURL        string `json:"base_url,omitempty"`        // default https://api.twilio.com
	StatusCallback string `json:"status_callback,omitempty"` // where Twilio posts delivery reports
}

var accountSIDRE = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)

// Twilio sends SMS, MMS and WhatsApp through the Messages resource: a form
// POST with basic authentication (account SID, auth token). The message id
// goes in Twilio's idempotency header, so a retried request does not send
// twice.
type Twilio struct {
	set      TwilioSettings
	token    string
	endpoint string
	client   *http.Client
}

var _ Sender = (*Twilio)(nil)

// NewTwilio checks the settings and returns the adapter. client may be nil.
func NewTwilio(s TwilioSettings, authToken string, client *http.Client) (*Twilio, error) {
	if !accountSIDRE.MatchString(s.AccountSID) {
		return nil, errors.New("twilio: account_sid must be AC followed by 32 hex digits")
	}
	if authToken == "" {
		return nil, errors.New("twilio: the auth token (secret) is required")
	}
	if s.BaseURL == "" {
		s.BaseURL = "https://api.twilio.com"
	}
	if err := checkURL(s.BaseURL); err != nil {
		return nil, fmt.Errorf("twilio: base_url: %w", err)
	}
	if s.StatusCallback != "" {
		if err := checkURL(s.StatusCallback); err != nil {
			return nil, fmt.Errorf("twilio: status_callback: %w", err)
		}
	}
	ep := strings.TrimSuffix(s.BaseURL, "/") + "/2010-04-01/Accounts/" + s.AccountSID + "/Messages.json"
	return &Twilio{set: s, token: authToken, endpoint: ep, client: httpClient(client)}, nil
}

// Send implements Sender.
func (t *Twilio) Send(ctx context.Context, m *Message) (Result, error) {
	to, from := m.To, m.From
	if m.Channel == consent.WhatsApp {
		to, from = "whatsapp:"+to, "whatsapp:"+from
	}
	form := url.Values{"To": {to}, "From": {from}, "Body": {m.Body}}
	if t.set.StatusCallback != "" {
		form.Set("StatusCallback", t.set.StatusCallback)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return Result{}, Permanent("http_request", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("I-Twilio-Idempotency-Token", m.ID)
	req.SetBasicAuth(t.set.AccountSID, t.token)
	resp, err := t.client.Do(req)
	if err != nil {
		return Result{}, transportErr(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err := statusErr(resp.StatusCode); err != nil {
		var te struct {
			Code int `json:"code"`
		}
		if json.Unmarshal(raw, &te) == nil && te.Code != 0 {
			// Twilio's own error code says more than the status (21211:
			// invalid To number); it is a number, never the number.
			var ce *Error
			errors.As(err, &ce)
			ce.Class = fmt.Sprintf("twilio_%d", te.Code)
		}
		return Result{}, err
	}
	var ans struct {
		SID string `json:"sid"`
	}
	// A 2xx is an acceptance even when the answer is unreadable: the
	// message may have gone, so it must not be retried as if it had not.
	json.Unmarshal(raw, &ans)
	return Result{ProviderRef: truncate(ans.SID, 64)}, nil
}

// Capabilities implements Sender.
func (t *Twilio) Capabilities() Capabilities {
	return Capabilities{Channels: []consent.Channel{consent.SMS, consent.MMS, consent.WhatsApp}, Idempotent: true, MaxBodyBytes: 1600}
}

// Close implements Sender.
func (t *Twilio) Close() error {
	t.client.CloseIdleConnections()
	return nil
}
