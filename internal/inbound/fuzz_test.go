package inbound

import (
	"net/url"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
)

// The fuzz targets prove that no input panics a decoder or verifier and that
// each call is fast: every decoder reads at most MaxBodyBytes.

func bounded(t *testing.T, start time.Time) {
	if d := time.Since(start); d > 250*time.Millisecond {
		t.Fatalf("took %v", d)
	}
}

func FuzzDecodeGeneric(f *testing.F) {
	f.Add([]byte(`{"from":"+4520123456","to":"1234","text":"STOP","id":"m1","received_at":"2027-01-15T08:00:00Z"}`))
	f.Add([]byte(`{"text":null}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		start := time.Now()
		m, err := DecodeGeneric(consent.SMS, b)
		if err == nil && (m.ProviderID == "" || len(m.Text) > MaxTextBytes) {
			t.Fatalf("accepted an invalid message: %+v", m)
		}
		VerifyGeneric([][]byte{[]byte("k")}, "id", "1800000000", string(b), b, time.Unix(1800000000, 0))
		bounded(t, start)
	})
}

func FuzzDecodeTwilio(f *testing.F) {
	f.Add("From=%2B4520123456&To=1234&Body=STOP&MessageSid=SM1")
	f.Add("From=whatsapp%3A%2B45&To=whatsapp%3A1&Body=&MessageSid=x&Body=y")
	f.Add("%zz")
	f.Fuzz(func(t *testing.T, raw string) {
		start := time.Now()
		if len(raw) > MaxBodyBytes {
			return // the HTTP layer refuses larger bodies before parsing
		}
		form, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		m, err := DecodeTwilio(form)
		if err == nil && (m.ProviderID == "" || m.From == "" || len(m.Text) > MaxTextBytes) {
			t.Fatalf("accepted an invalid message: %+v", m)
		}
		VerifyTwilio([][]byte{[]byte("tok")}, "https://x/y", form, raw)
		bounded(t, start)
	})
}

func FuzzDecodeWhatsApp(f *testing.F) {
	f.Add([]byte(waBody))
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"messages":[{}]}}]}]}`))
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		start := time.Now()
		ms, err := DecodeWhatsApp(b)
		if err == nil && len(ms) > MaxMessages {
			t.Fatalf("%d messages accepted", len(ms))
		}
		VerifyWhatsApp([][]byte{[]byte("s")}, b, string(b))
		bounded(t, start)
	})
}
