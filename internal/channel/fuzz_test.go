package channel

import (
	"net/url"
	"testing"
)

// FuzzParseJSONStatus: the report decoder never panics, and whatever it
// accepts has a usable id and a known outcome.
func FuzzParseJSONStatus(f *testing.F) {
	for _, s := range []string{`{"id":"01JMSG","status":"delivered"}`, `{"id":"x","status":"failed","error_code":"30003"}`,
		`{"id":"x","provider_ref":"p","status":"read"}`, `{}`, `null`, `{"id":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseJSONStatus(b)
		if err != nil {
			return
		}
		if !validID(r.MessageID) || (r.Outcome != "" && r.Outcome != Delivered && r.Outcome != Failed) || len(r.ErrorCode) > 32 {
			t.Fatalf("accepted %q as %+v", b, r)
		}
	})
}

// FuzzParseTwilioStatus does the same for Twilio's form callbacks.
func FuzzParseTwilioStatus(f *testing.F) {
	for _, s := range []string{"MessageSid=SM1&MessageStatus=delivered", "SmsSid=SM1&MessageStatus=failed&ErrorCode=30003",
		"MessageSid=&MessageStatus=sent", "MessageSid=SM1&MessageStatus=undelivered&ErrorCode=x", "%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		form, err := url.ParseQuery(s)
		if err != nil {
			return
		}
		r, err := ParseTwilioStatus(form)
		if err != nil {
			return
		}
		if !validID(r.ProviderRef) || (r.Outcome != "" && r.Outcome != Delivered && r.Outcome != Failed) || len(r.ErrorCode) > 8 {
			t.Fatalf("accepted %q as %+v", s, r)
		}
	})
}
