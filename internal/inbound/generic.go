package inbound

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
)

// The generic format's headers, from the Standard Webhooks specification
// (standardwebhooks.com): the same scheme consentgate uses for what it
// sends, so one verifier library serves both directions.
const (
	HeaderWebhookID        = "Webhook-Id"
	HeaderWebhookTimestamp = "Webhook-Timestamp"
	HeaderWebhookSignature = "Webhook-Signature"
	// SecretPrefix starts a generated secret, as Standard Webhooks
	// libraries expect it; the rest is the base64 key.
	SecretPrefix = "whsec_"
)

// genericBody is the generic JSON format.
type genericBody struct {
	From       string     `json:"from"`
	To         string     `json:"to"`
	Text       string     `json:"text"`
	ID         string     `json:"id"`
	ReceivedAt *time.Time `json:"received_at"`
}

// DecodeGeneric reads the generic JSON format {"from","to","text","id",
// "received_at"} for a channel. Unknown fields are refused so that a typo
// ("body" for "text") fails loudly instead of reading as an empty message.
func DecodeGeneric(ch consent.Channel, body []byte) (Message, error) {
	if len(body) > MaxBodyBytes {
		return Message{}, ErrTooLarge
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var g genericBody
	if err := dec.Decode(&g); err != nil {
		return Message{}, errors.Join(ErrMalformed, errors.New("body is not the generic JSON object"))
	}
	if dec.More() {
		return Message{}, errors.Join(ErrMalformed, errors.New("trailing data after the JSON object"))
	}
	m := Message{Channel: ch, ProviderID: g.ID, From: g.From, To: g.To, Text: g.Text}
	if g.ReceivedAt != nil {
		m.ReceivedAt = g.ReceivedAt.UTC()
	}
	return m, m.check()
}

// SignGeneric returns the Webhook-Signature value for a delivery: HMAC-SHA256
// of "id.timestamp.body" with the key, base64, tagged v1. Tests and tenants'
// senders use it; VerifyGeneric checks it.
func SignGeneric(key []byte, id string, ts time.Time, body []byte) string {
	return signatureV1Tag + base64.StdEncoding.EncodeToString(genericMAC(key, id, strconv.FormatInt(ts.Unix(), 10), body))
}

func genericMAC(key []byte, id, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(id))
	h.Write([]byte{'.'})
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// VerifyGeneric checks a Standard Webhooks signature against any of keys
// (the current secret and, during a rotation's grace period, the previous
// one). The timestamp must lie within TimestampSkew of now, which stops a
// captured delivery from being replayed later; a replay inside the window
// is caught by the message id.
func VerifyGeneric(keys [][]byte, id, timestamp, signature string, body []byte, now time.Time) error {
	if id == "" || timestamp == "" || signature == "" || len(id) > MaxIDBytes || len(signature) > 4096 {
		return ErrSignature
	}
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); d > TimestampSkew || d < -TimestampSkew {
		return ErrSignature
	}
	for _, key := range keys {
		want := genericMAC(key, id, timestamp, body)
		// Several signatures may be sent, space-separated, so a sender can
		// sign with old and new secrets while rotating.
		for _, s := range strings.Fields(signature) {
			b64, ok := strings.CutPrefix(s, signatureV1Tag)
			if !ok {
				continue
			}
			got, err := base64.StdEncoding.DecodeString(b64)
			if err == nil && hmac.Equal(got, want) {
				return nil
			}
		}
	}
	return ErrSignature
}

// ParseSecret returns the key of a "whsec_" secret.
func ParseSecret(s string) ([]byte, error) {
	b64, ok := strings.CutPrefix(s, SecretPrefix)
	if !ok {
		return nil, errors.New("inbound: secret does not start with " + SecretPrefix)
	}
	return base64.StdEncoding.DecodeString(b64)
}

// FormatSecret returns key as a "whsec_" secret.
func FormatSecret(key []byte) string { return SecretPrefix + base64.StdEncoding.EncodeToString(key) }
