package channel

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
)

func TestHTTPProviderRequest(t *testing.T) {
	var got *http.Request
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, body = r, must(io.ReadAll(r.Body))
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"id":"prov-42"}`)
	}))
	defer srv.Close()
	a, err := NewHTTP(HTTPSettings{URL: srv.URL + "/send"}, "whsec_c2VjcmV0LWtleQ==", nil)
	if err != nil {
		t.Fatal(err)
	}
	a.now = func() time.Time { return time.Unix(1764324000, 0) }
	res, err := a.Send(context.Background(), &Message{ID: "01JMSG", Channel: consent.SMS, From: "ACME", To: "+4520123456", Body: "Hi\nReply STOP to opt out"})
	if err != nil {
		t.Fatal(err)
	}
	if res.ProviderRef != "prov-42" {
		t.Errorf("provider ref %q", res.ProviderRef)
	}
	if got.Method != "POST" || got.URL.Path != "/send" || got.Header.Get("Content-Type") != "application/json" ||
		got.Header.Get("Idempotency-Key") != "01JMSG" || got.Header.Get("webhook-id") != "01JMSG" ||
		got.Header.Get("webhook-timestamp") != "1764324000" {
		t.Errorf("request %s %s %v", got.Method, got.URL, got.Header)
	}
	want := `{"id":"01JMSG","channel":"sms","from":"ACME","to":"+4520123456","body":"Hi\nReply STOP to opt out"}`
	if string(body) != want {
		t.Errorf("body\n%s\nwant\n%s", body, want)
	}
	// The signature verifies with the same secret, the way the provider
	// (and our own report endpoint) checks it.
	if err := VerifyStandardWebhook("whsec_c2VjcmV0LWtleQ==", got.Header, body, time.Unix(1764324000, 0)); err != nil {
		t.Errorf("signature: %v", err)
	}
}

func TestHTTPProviderStatuses(t *testing.T) {
	for _, tc := range []struct {
		status    int
		permanent bool
		ok        bool
	}{{200, false, true}, {201, false, true}, {302, true, false}, {400, true, false}, {401, true, false},
		{408, false, false}, {429, false, false}, {500, false, false}, {503, false, false}} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", "https://elsewhere.example/")
			w.WriteHeader(tc.status)
		}))
		a, _ := NewHTTP(HTTPSettings{URL: srv.URL}, "", nil)
		_, err := a.Send(context.Background(), &Message{ID: "m", Channel: consent.SMS, To: "+1", Body: "b"})
		srv.Close()
		perm, _ := Classify(err)
		if (err == nil) != tc.ok || (err != nil && perm != tc.permanent) {
			t.Errorf("status %d: err %v permanent %v", tc.status, err, perm)
		}
	}
	a, _ := NewHTTP(HTTPSettings{URL: "http://127.0.0.1:" + itoa(freePort(t))}, "", nil)
	if _, err := a.Send(context.Background(), &Message{ID: "m", Body: "b"}); err == nil {
		t.Error("send to a closed port succeeded")
	} else if perm, class := Classify(err); perm || class != "connect" {
		t.Errorf("closed port: %v %s", perm, class)
	}
	for _, bad := range []string{"", "ftp://x", "/relative", "https://user:pw@host/"} {
		if _, err := NewHTTP(HTTPSettings{URL: bad}, "", nil); err == nil {
			t.Errorf("url %q accepted", bad)
		}
	}
}

func TestTwilioRequest(t *testing.T) {
	const sid = "AC0123456789abcdef0123456789abcdef"
	var got *http.Request
	var form url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		r.ParseForm()
		form = r.PostForm
		if u, p, ok := r.BasicAuth(); !ok || u != sid || p != "tok" {
			w.WriteHeader(401)
			io.WriteString(w, `{"code":20003,"message":"Authenticate","status":401}`)
			return
		}
		if form.Get("To") == "+4500000000" {
			w.WriteHeader(400)
			io.WriteString(w, `{"code":21211,"message":"Invalid 'To' Phone Number","status":400}`)
			return
		}
		w.WriteHeader(201)
		io.WriteString(w, `{"sid":"SM0123","status":"queued"}`)
	}))
	defer srv.Close()
	a, err := NewTwilio(TwilioSettings{AccountSID: sid, BaseURL: srv.URL, StatusCallback: "https://cg.example/v1/delivery-reports/t/whatsapp"}, "tok", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.Send(context.Background(), &Message{ID: "01JMSG", Channel: consent.WhatsApp, From: "+4570000000", To: "+4520123456", Body: "Hej"})
	if err != nil || res.ProviderRef != "SM0123" {
		t.Fatalf("send: %v %+v", err, res)
	}
	if got.URL.Path != "/2010-04-01/Accounts/"+sid+"/Messages.json" || got.Header.Get("I-Twilio-Idempotency-Token") != "01JMSG" ||
		got.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Errorf("request %s %v", got.URL, got.Header)
	}
	want := url.Values{"To": {"whatsapp:+4520123456"}, "From": {"whatsapp:+4570000000"}, "Body": {"Hej"},
		"StatusCallback": {"https://cg.example/v1/delivery-reports/t/whatsapp"}}
	if form.Encode() != want.Encode() {
		t.Errorf("form %s\nwant %s", form.Encode(), want.Encode())
	}
	_, err = a.Send(context.Background(), &Message{ID: "2", Channel: consent.SMS, From: "ACME", To: "+4500000000", Body: "x"})
	if perm, class := Classify(err); !perm || class != "twilio_21211" {
		t.Errorf("invalid number: %v %s", perm, class)
	}
	bad, _ := NewTwilio(TwilioSettings{AccountSID: sid, BaseURL: srv.URL}, "wrong", nil)
	_, err = bad.Send(context.Background(), &Message{ID: "3", Channel: consent.SMS, To: "+4520123456", Body: "x"})
	if perm, class := Classify(err); !perm || class != "twilio_20003" {
		t.Errorf("bad credentials: %v %s", perm, class)
	}
	if _, err := NewTwilio(TwilioSettings{AccountSID: "nope"}, "tok", nil); err == nil {
		t.Error("bad account sid accepted")
	}
}

func TestStatusReports(t *testing.T) {
	r, err := ParseJSONStatus([]byte(`{"id":"01JMSG","status":"delivered"}`))
	if err != nil || r.MessageID != "01JMSG" || r.Outcome != Delivered {
		t.Errorf("json delivered: %+v %v", r, err)
	}
	r, err = ParseJSONStatus([]byte(`{"id":"01JMSG","status":"sent"}`))
	if err != nil || r.Outcome != "" {
		t.Errorf("json intermediate: %+v %v", r, err)
	}
	for _, bad := range []string{``, `[]`, `{"status":"delivered"}`, `{"id":"a b","status":"delivered"}`, `{"id":"x","status":"exploded"}`} {
		if _, err := ParseJSONStatus([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
	form := url.Values{"MessageSid": {"SM0123"}, "MessageStatus": {"undelivered"}, "ErrorCode": {"30003"}}
	r, err = ParseTwilioStatus(form)
	if err != nil || r.ProviderRef != "SM0123" || r.Outcome != Failed || r.ErrorCode != "30003" {
		t.Errorf("twilio: %+v %v", r, err)
	}
	const u = "https://cg.example/v1/delivery-reports/t/sms"
	sig := TwilioSignature("tok", u, form)
	if VerifyTwilio("tok", u, form, sig) != nil || VerifyTwilio("other", u, form, sig) == nil || VerifyTwilio("tok", u+"x", form, sig) == nil {
		t.Error("twilio signature check")
	}
	h := http.Header{}
	body := []byte(`{"id":"01JMSG","status":"delivered"}`)
	now := time.Unix(1764324000, 0)
	h.Set("webhook-id", "evt1")
	h.Set("webhook-timestamp", "1764324000")
	h.Set("webhook-signature", "v1,old "+Sign([]byte("k"), "evt1", now.Unix(), body))
	if err := VerifyStandardWebhook("k", h, body, now); err != nil {
		t.Errorf("standard webhook: %v", err)
	}
	if VerifyStandardWebhook("k", h, body, now.Add(10*time.Minute)) == nil {
		t.Error("stale timestamp accepted")
	}
	if VerifyStandardWebhook("k", h, append(body, ' '), now) == nil {
		t.Error("changed body accepted")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
