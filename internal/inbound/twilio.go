package inbound

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net/url"
	"sort"
	"strings"

	"github.com/consentgate/consentgate/internal/consent"
)

// HeaderTwilioSignature carries Twilio's request signature.
const HeaderTwilioSignature = "X-Twilio-Signature"

// DecodeTwilio reads Twilio's inbound message form fields (From, To, Body,
// MessageSid). A From of "whatsapp:+45…" is a WhatsApp message, which Twilio
// delivers to the same webhook; the prefix is removed.
func DecodeTwilio(form url.Values) (Message, error) {
	from, to := form.Get("From"), form.Get("To")
	ch := consent.SMS
	if f, ok := strings.CutPrefix(from, "whatsapp:"); ok {
		ch, from = consent.WhatsApp, f
		to = strings.TrimPrefix(to, "whatsapp:")
	}
	id := form.Get("MessageSid")
	if id == "" {
		id = form.Get("SmsSid")
	}
	m := Message{Channel: ch, ProviderID: id, From: from, To: to, Text: form.Get("Body")}
	if len(form["Body"]) > 1 || len(form["From"]) > 1 || len(form["To"]) > 1 {
		return Message{}, errors.Join(ErrMalformed, errors.New("repeated field"))
	}
	return m, m.check()
}

// SignTwilio computes Twilio's signature: HMAC-SHA1 with the account's auth
// token over the full URL Twilio called followed by every POST parameter,
// sorted by name, as name and value with no separators; base64.
func SignTwilio(authToken []byte, fullURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := hmac.New(sha1.New, authToken)
	h.Write([]byte(fullURL))
	for _, k := range keys {
		vs := append([]string(nil), form[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			h.Write([]byte(k))
			h.Write([]byte(v))
		}
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// VerifyTwilio checks X-Twilio-Signature against any of tokens. fullURL must
// be the URL exactly as Twilio called it (scheme, host, port, path, query),
// which behind a proxy is the configured public URL, not the local one.
func VerifyTwilio(tokens [][]byte, fullURL string, form url.Values, signature string) error {
	got, err := base64.StdEncoding.DecodeString(signature)
	if signature == "" || err != nil {
		return ErrSignature
	}
	for _, tok := range tokens {
		want, _ := base64.StdEncoding.DecodeString(SignTwilio(tok, fullURL, form))
		if hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrSignature
}
