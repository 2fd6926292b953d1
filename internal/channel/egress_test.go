package channel

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/egress"
)

// TestNewAppliesEgress: an adapter built by New for a tenant's
// configuration does not reach a private address unless the node allows it.
func TestNewAppliesEgress(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	settings, _ := json.Marshal(map[string]any{"url": srv.URL})
	for _, allow := range []bool{false, true} {
		a, err := New(Config{Kind: KindHTTP, Channel: consent.SMS, Settings: settings, Secret: "whsec_dGVzdHNlY3JldDEyMzQ1Njc4OTA=",
			Egress: egress.Policy{AllowPrivate: allow}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = a.Send(context.Background(), &Message{ID: "m1", Channel: consent.SMS, From: "ACME", To: "+4520123456", Body: "hi"})
		if allow != (err == nil) {
			t.Fatalf("allow=%v: err=%v", allow, err)
		}
	}
	if hits != 1 {
		t.Fatalf("provider reached %d times, want 1 (only when allowed)", hits)
	}
}
