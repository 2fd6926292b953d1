package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/channel"
	"github.com/consentgate/consentgate/internal/inbound"
	"github.com/consentgate/consentgate/internal/service"
	"github.com/consentgate/consentgate/internal/store"
)

// TestStatusEventsToWebhook: once the tenant has a forwarding webhook, a
// message's sent and delivered statuses reach it as signed message.status
// events carrying ids only; before that, and for another tenant's
// messages, nothing is queued or delivered.
func TestStatusEventsToWebhook(t *testing.T) {
	e := newMsgEnv(t, service.SendConfig{}, nil)
	own := e.keys[owner]
	for _, key := range []string{own, e.foreign} {
		if st, ans := e.do("POST", "/v1/purposes", key, `{"key":"orders","name":"Orders","category":"service","basis":"contract","channels":["sms"]}`); st != 201 {
			t.Fatalf("purpose: %d %v", st, ans)
		}
	}
	send := func(key string) string {
		t.Helper()
		sender := "ACME"
		if key == e.foreign {
			sender = "ACME-OTHER"
		}
		st, ans := e.do("POST", "/v1/messages", key, `{"to":{"phone":"+4531415926"},"channel":"sms","purpose":"orders","sender":"`+sender+`","body":"Your order shipped"}`)
		if st != 202 {
			t.Fatalf("send: %d %v", st, ans)
		}
		return fmt.Sprint(ans["id"])
	}
	pending := func() (fs []*store.StatusForward) {
		e.store.Read(context.Background(), func(tx store.Tx) (err error) {
			fs, err = tx.DueStatusForwards(context.Background(), time.Now().Add(time.Hour), 100)
			return err
		})
		return fs
	}
	// No webhook yet: nothing is queued. (The outbox keeps the sink adapter
	// it built here for a while, so the http provider configured below
	// serves only the delivery report.)
	e.waitStatus(send(own), "sent")
	if fs := pending(); len(fs) != 0 {
		t.Fatalf("status forwards without a webhook: %+v", fs)
	}

	var mu sync.Mutex
	var hdrs []http.Header
	var bodies [][]byte
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		hdrs, bodies = append(hdrs, r.Header.Clone()), append(bodies, b)
		mu.Unlock()
	}))
	defer hook.Close()
	st, ft := e.do("PUT", "/v1/forwarding", own, `{"url":"`+hook.URL+`"}`)
	if st != 200 {
		t.Fatalf("forwarding: %d %v", st, ft)
	}
	key, err := inbound.ParseSecret(fmt.Sprint(ft["secret"]))
	if err != nil {
		t.Fatal(err)
	}
	prov := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var p map[string]any
		json.Unmarshal(raw, &p)
		io.WriteString(w, `{"id":"prov-`+fmt.Sprint(p["id"])+`"}`)
	}))
	defer prov.Close()
	if st, ans := e.do("PUT", "/v1/providers/sms", own, fmt.Sprintf(`{"kind":"http","settings":{"url":%q},"secret":"whsec_c2VjcmV0"}`, prov.URL)); st != 200 {
		t.Fatalf("provider: %d %v", st, ans)
	}

	id := send(own)
	e.waitStatus(id, "sent")
	body := []byte(`{"id":"` + id + `","status":"delivered"}`)
	ts := time.Now().Unix()
	h := http.Header{"Webhook-Id": {"evt-1"}, "Webhook-Timestamp": {fmt.Sprint(ts)},
		"Webhook-Signature": {channel.Sign([]byte("secret"), "evt-1", ts, body)}}
	if st, _, b := rawDo(t, "POST", e.srv.URL+"/v1/delivery-reports/"+e.tenant+"/sms", "application/json", body, h); st != 204 {
		t.Fatalf("delivery report: %d %s", st, b)
	}
	e.waitStatus(id, "delivered")
	// Another tenant's message, sent through the sink: not this tenant's.
	other := send(e.foreign)

	deadline := time.Now().Add(5 * time.Second)
	var delivered int
	for delivered < 2 && time.Now().Before(deadline) {
		n, err := e.svc.DeliverForwards(context.Background(), hook.Client())
		if err != nil {
			t.Fatal(err)
		}
		delivered += n
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 2 {
		t.Fatalf("webhook got %d events, want 2: %q", len(bodies), bodies)
	}
	for i, want := range []string{"sent", "delivered"} {
		if err := inbound.VerifyGeneric([][]byte{key}, hdrs[i].Get(inbound.HeaderWebhookID), hdrs[i].Get(inbound.HeaderWebhookTimestamp),
			hdrs[i].Get(inbound.HeaderWebhookSignature), bodies[i], time.Now()); err != nil {
			t.Fatalf("event %d signature: %v", i, err)
		}
		var ev service.StatusEvent
		if err := json.Unmarshal(bodies[i], &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Type != "message.status" || ev.MessageID != id || string(ev.Status) != want || ev.Channel != "sms" ||
			ev.Purpose != "orders" || !strings.HasSuffix(ev.ProviderRef, id) || ev.At.IsZero() {
			t.Fatalf("event %d = %+v", i, ev)
		}
		for _, pii := range []string{"31415926", "Your order", other} {
			if strings.Contains(string(bodies[i]), pii) {
				t.Fatalf("event %d holds %q: %s", i, pii, bodies[i])
			}
		}
	}
	if fs := pending(); len(fs) != 0 {
		t.Fatalf("status forwards left after delivery: %+v", fs)
	}
	for _, pii := range []string{"31415926", "Your order"} {
		if strings.Contains(e.logs.String(), pii) {
			t.Fatalf("log output contains %q", pii)
		}
	}
}
