package inbound

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
)

// HeaderHubSignature carries Meta's signature of a WhatsApp Cloud API
// webhook: "sha256=" and the hex HMAC-SHA256 of the raw body with the app
// secret.
const HeaderHubSignature = "X-Hub-Signature-256"

// The parts of a WhatsApp Cloud API webhook the gateway reads. Everything
// else (statuses, contacts' profile names) is ignored and never stored.
type waPayload struct {
	Object string `json:"object"`
	Entry  []struct {
		Changes []struct {
			Field string `json:"field"`
			Value struct {
				Metadata struct {
					DisplayPhoneNumber string `json:"display_phone_number"`
					PhoneNumberID      string `json:"phone_number_id"`
				} `json:"metadata"`
				Messages []struct {
					From      string `json:"from"`
					ID        string `json:"id"`
					Timestamp string `json:"timestamp"`
					Type      string `json:"type"`
					Text      struct {
						Body string `json:"body"`
					} `json:"text"`
					Button struct {
						Text string `json:"text"`
					} `json:"button"`
				} `json:"messages"`
			} `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}

// DecodeWhatsApp reads the messages of a WhatsApp Cloud API webhook. A
// payload may carry several messages, or none (delivery statuses): both are
// valid. The To of each message is the business's display number in E.164.
// Messages without text (images, locations) come back with empty Text: they
// are conversation, never keywords.
func DecodeWhatsApp(body []byte) ([]Message, error) {
	if len(body) > MaxBodyBytes {
		return nil, ErrTooLarge
	}
	var p waPayload
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&p); err != nil {
		return nil, errors.Join(ErrMalformed, errors.New("body is not a WhatsApp webhook object"))
	}
	if p.Object != "whatsapp_business_account" {
		return nil, errors.Join(ErrMalformed, errors.New(`object is not "whatsapp_business_account"`))
	}
	var out []Message
	for _, e := range p.Entry {
		for _, c := range e.Changes {
			if c.Field != "" && c.Field != "messages" {
				continue
			}
			to := c.Value.Metadata.DisplayPhoneNumber
			if to != "" && !strings.HasPrefix(to, "+") {
				to = "+" + to
			}
			for _, wm := range c.Value.Messages {
				if len(out) == MaxMessages {
					return nil, ErrTooLarge
				}
				from := wm.From
				if from != "" && !strings.HasPrefix(from, "+") {
					from = "+" + from
				}
				text := wm.Text.Body
				if wm.Type == "button" {
					text = wm.Button.Text // quick-reply buttons ("Stop promotions")
				}
				m := Message{Channel: consent.WhatsApp, ProviderID: wm.ID, From: from, To: to, Text: text}
				if sec, err := strconv.ParseInt(wm.Timestamp, 10, 64); err == nil && sec > 0 {
					m.ReceivedAt = time.Unix(sec, 0).UTC()
				}
				if err := m.check(); err != nil {
					return nil, err
				}
				out = append(out, m)
			}
		}
	}
	return out, nil
}

// SignWhatsApp returns the X-Hub-Signature-256 value for body.
func SignWhatsApp(appSecret, body []byte) string {
	h := hmac.New(sha256.New, appSecret)
	h.Write(body)
	return "sha256=" + hex.EncodeToString(h.Sum(nil))
}

// VerifyWhatsApp checks X-Hub-Signature-256 against any of secrets.
func VerifyWhatsApp(secrets [][]byte, body []byte, signature string) error {
	hx, ok := strings.CutPrefix(signature, "sha256=")
	got, err := hex.DecodeString(hx)
	if !ok || err != nil || len(got) != sha256.Size {
		return ErrSignature
	}
	for _, s := range secrets {
		h := hmac.New(sha256.New, s)
		h.Write(body)
		if hmac.Equal(got, h.Sum(nil)) {
			return nil
		}
	}
	return ErrSignature
}
