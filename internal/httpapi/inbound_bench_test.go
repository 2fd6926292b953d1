package httpapi

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/consentgate/consentgate/internal/inbound"
)

// BenchmarkInboundTwilio measures the inbound webhook end to end over HTTP
// on SQLite with synchronous=FULL (durable on power loss): read the form,
// route by the destination, verify X-Twilio-Signature, classify, run the
// state machine, write the inbound record, the consent events (two purposes)
// and the keyword-stop record, queue the reply, update the decision index.
// Messages alternate STOP and START over 5,000 numbers, so every one
// changes consent; the first round also creates the contacts.
//
//	go test -run '^$' -bench BenchmarkInboundTwilio -benchtime 5000x ./internal/httpapi/
func BenchmarkInboundTwilio(b *testing.B) {
	e := newInboundEnvSync(b, "FULL")
	u := e.srv.URL + "/v1/inbound/twilio"
	tr := &http.Transport{MaxIdleConnsPerHost: 256}
	client := &http.Client{Transport: tr}
	defer tr.CloseIdleConnections()
	var n atomic.Int64
	const numbers = 5000
	b.SetParallelism(32) // webhooks arrive concurrently; group commit shares the fsync
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			text := "STOP"
			if (i/numbers)%2 == 1 {
				text = "START"
			}
			form := url.Values{"From": {fmt.Sprintf("+4526%06d", i%numbers)}, "To": {"1234"}, "Body": {text},
				"MessageSid": {fmt.Sprintf("SM%032d", i)}}
			req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set(inbound.HeaderTwilioSignature, inbound.SignTwilio([]byte(twilioToken), u, form))
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	if q := len(e.replies.All()); q != b.N {
		b.Fatalf("%d replies for %d messages", q, b.N)
	}
}
