package channel

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
)

// HTTPSettings configure the generic JSON webhook provider.
type HTTPSettings struct {
	URL      string            `json:"url"`
	Channels []consent.Channel `json:"channels,omitempty"` // what the provider carries; every channel when empty
}

// HTTP posts each message as JSON to a provider's endpoint. With a secret,
// requests are signed the Standard Webhooks way (webhook-id,
// webhook-timestamp, webhook-signature), so the provider can tell them from
// forgeries; the message id doubles as the Idempotency-Key.
type HTTP struct {
	set    HTTPSettings
	secret []byte
	client *http.Client
	now    func() time.Time
}

var _ Sender = (*HTTP)(nil)

// httpPayload is the JSON the generic provider receives.
type httpPayload struct {
	ID      string            `json:"id"`
	Channel consent.Channel   `json:"channel"`
	From    string            `json:"from"`
	To      string            `json:"to"`
	Subject string            `json:"subject,omitempty"`
	Body    string            `json:"body"`
	Headers map[string]string `json:"headers,omitempty"`
}

// NewHTTP checks the settings and returns the adapter. client may be nil.
func NewHTTP(s HTTPSettings, secret string, client *http.Client) (*HTTP, error) {
	if err := checkURL(s.URL); err != nil {
		return nil, fmt.Errorf("http: %w", err)
	}
	for _, c := range s.Channels {
		if _, err := consent.ParseChannel(string(c)); err != nil {
			return nil, fmt.Errorf("http: %w", err)
		}
	}
	key, err := webhookKey(secret)
	if err != nil {
		return nil, err
	}
	return &HTTP{set: s, secret: key, client: httpClient(client), now: time.Now}, nil
}

// webhookKey reads a Standard Webhooks secret: "whsec_" and base64, or any
// other string taken as it is.
func webhookKey(secret string) ([]byte, error) {
	if b64, ok := strings.CutPrefix(secret, "whsec_"); ok {
		k, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, errors.New("http: a whsec_ secret must be base64")
		}
		return k, nil
	}
	return []byte(secret), nil
}

func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("url must be an absolute http(s) URL")
	}
	if u.User != nil {
		return errors.New("url must not carry credentials; use the secret")
	}
	return nil
}

// httpClient returns client, or one with a timeout that never follows
// redirects: a redirect would carry the message to a host nobody configured.
func httpClient(client *http.Client) *http.Client {
	if client != nil {
		return client
	}
	return &http.Client{Timeout: 15 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

// Sign returns the Standard Webhooks signature header value for a payload.
func Sign(key []byte, id string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.", id, ts)
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Send implements Sender.
func (h *HTTP) Send(ctx context.Context, m *Message) (Result, error) {
	body, err := json.Marshal(httpPayload{ID: m.ID, Channel: m.Channel, From: m.From, To: m.To, Subject: m.Subject,
		Body: m.Body, Headers: m.Headers})
	if err != nil {
		return Result{}, Permanent("encode", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.set.URL, bytes.NewReader(body))
	if err != nil {
		return Result{}, Permanent("http_request", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", m.ID)
	if len(h.secret) > 0 {
		ts := h.now().Unix()
		req.Header.Set("webhook-id", m.ID)
		req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
		req.Header.Set("webhook-signature", Sign(h.secret, m.ID, ts, body))
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return Result{}, transportErr(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err := statusErr(resp.StatusCode); err != nil {
		return Result{}, err
	}
	var ans struct {
		ID string `json:"id"`
	}
	json.Unmarshal(raw, &ans) // an answer without an id is still a success
	return Result{ProviderRef: truncate(ans.ID, 200)}, nil
}

func transportErr(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return Temporary("timeout", err)
	}
	var ue *url.Error
	if errors.As(err, &ue) && ue.Timeout() {
		return Temporary("timeout", err)
	}
	return Temporary("connect", err)
}

// statusErr maps a provider's HTTP status: 2xx is success; 408, 425, 429
// and 5xx are worth a retry; any other answer (a 4xx, or a redirect the
// client does not follow) will not change by asking again.
func statusErr(code int) error {
	switch {
	case code >= 200 && code < 300:
		return nil
	case code == http.StatusRequestTimeout, code == http.StatusTooEarly, code == http.StatusTooManyRequests, code >= 500:
		return Temporary("http_"+strconv.Itoa(code), fmt.Errorf("provider answered %d", code))
	}
	return Permanent("http_"+strconv.Itoa(code), fmt.Errorf("provider answered %d", code))
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Capabilities implements Sender.
func (h *HTTP) Capabilities() Capabilities {
	chs := h.set.Channels
	if len(chs) == 0 {
		chs = consent.Channels
	}
	return Capabilities{Channels: append([]consent.Channel(nil), chs...), Idempotent: true}
}

// Close implements Sender.
func (h *HTTP) Close() error {
	h.client.CloseIdleConnections()
	return nil
}
