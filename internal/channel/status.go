package channel

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Delivery outcomes a provider can report. Intermediate states (queued,
// sending, accepted) are not reported onwards: the gateway already knows the
// message was handed over.
const (
	Delivered = "delivered"
	Failed    = "failed"
)

// StatusReport is one delivery report from a provider.
type StatusReport struct {
	MessageID   string // the gateway's id, when the provider echoes it
	ProviderRef string // the provider's id for the message
	Outcome     string // Delivered, Failed, or "" for a state the gateway ignores
	ErrorCode   string // the provider's error code, when it failed
}

// ErrBadReport is returned for a report that cannot be read.
var ErrBadReport = errors.New("channel: malformed delivery report")

// ErrBadSignature is returned for a report whose signature does not verify.
var ErrBadSignature = errors.New("channel: delivery report signature does not verify")

const maxIDLen = 128

func validID(s string) bool {
	if s == "" || len(s) > maxIDLen {
		return false
	}
	for _, r := range s {
		if r < 0x21 || r > 0x7e {
			return false
		}
	}
	return true
}

// ParseJSONStatus reads the generic provider's report:
// {"id": "<gateway message id>", "provider_ref": "...", "status": "delivered" | "failed", "error_code": "..."}.
func ParseJSONStatus(body []byte) (StatusReport, error) {
	var in struct {
		ID          string `json:"id"`
		ProviderRef string `json:"provider_ref"`
		Status      string `json:"status"`
		ErrorCode   string `json:"error_code"`
	}
	if len(body) > 16<<10 || json.Unmarshal(body, &in) != nil || !validID(in.ID) {
		return StatusReport{}, ErrBadReport
	}
	if in.ProviderRef != "" && !validID(in.ProviderRef) {
		return StatusReport{}, ErrBadReport
	}
	r := StatusReport{MessageID: in.ID, ProviderRef: in.ProviderRef, ErrorCode: truncate(in.ErrorCode, 32)}
	switch strings.ToLower(in.Status) {
	case "delivered", "read":
		r.Outcome = Delivered
	case "failed", "undelivered", "rejected", "bounced":
		r.Outcome = Failed
	case "queued", "sending", "sent", "accepted":
	default:
		return StatusReport{}, ErrBadReport
	}
	return r, nil
}

// ParseTwilioStatus reads a Twilio status callback (form fields MessageSid,
// MessageStatus, ErrorCode).
func ParseTwilioStatus(form url.Values) (StatusReport, error) {
	sid := form.Get("MessageSid")
	if sid == "" {
		sid = form.Get("SmsSid")
	}
	if !validID(sid) {
		return StatusReport{}, ErrBadReport
	}
	r := StatusReport{ProviderRef: sid}
	if code := form.Get("ErrorCode"); code != "" {
		if _, err := strconv.Atoi(code); err != nil || len(code) > 8 {
			return StatusReport{}, ErrBadReport
		}
		r.ErrorCode = code
	}
	switch form.Get("MessageStatus") {
	case "delivered", "read":
		r.Outcome = Delivered
	case "failed", "undelivered":
		r.Outcome = Failed
	case "accepted", "scheduled", "queued", "sending", "sent", "receiving", "received", "canceled", "partially_delivered":
	default:
		return StatusReport{}, ErrBadReport
	}
	return r, nil
}

// VerifyStandardWebhook checks the Standard Webhooks headers of a request
// body against secret ("whsec_..." or a plain string), refusing timestamps
// more than five minutes off, so a captured report cannot be replayed later.
func VerifyStandardWebhook(secret string, h http.Header, body []byte, now time.Time) error {
	key, err := webhookKey(secret)
	if err != nil || len(key) == 0 {
		return ErrBadSignature
	}
	id, tsRaw := h.Get("webhook-id"), h.Get("webhook-timestamp")
	ts, err := strconv.ParseInt(tsRaw, 10, 64)
	if id == "" || err != nil {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(ts, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return ErrBadSignature
	}
	want := Sign(key, id, ts, body)
	for _, sig := range strings.Fields(h.Get("webhook-signature")) {
		if subtle.ConstantTimeCompare([]byte(sig), []byte(want)) == 1 {
			return nil
		}
	}
	return ErrBadSignature
}

// TwilioSignature computes X-Twilio-Signature: HMAC-SHA1 with the auth
// token over the full URL followed by every form field name and value,
// sorted by name.
func TwilioSignature(authToken, fullURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(fullURL))
	for _, k := range keys {
		vs := append([]string(nil), form[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			mac.Write([]byte(k))
			mac.Write([]byte(v))
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// VerifyTwilio checks a Twilio callback's signature.
func VerifyTwilio(authToken, fullURL string, form url.Values, signature string) error {
	if authToken == "" || signature == "" {
		return ErrBadSignature
	}
	want := TwilioSignature(authToken, fullURL, form)
	if subtle.ConstantTimeCompare([]byte(want), []byte(signature)) != 1 {
		return ErrBadSignature
	}
	return nil
}
