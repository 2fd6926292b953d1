package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/service"
	"github.com/consentgate/consentgate/internal/store"
)

// TestSendIdempotencyConcurrent sends the same requests under three
// Idempotency-Keys from many connections at once, so that duplicates meet
// in one group commit (on PostgreSQL its messages are created by one
// statement): each key makes exactly one message, and every request is
// answered 202 with that message's id.
func TestSendIdempotencyConcurrent(t *testing.T) {
	onMsgEnvs(t, func(t *testing.T, e *msgEnv) {
		ctx := context.Background()
		pr := auth.Principal{TenantID: e.tenant, KeyID: "test", Role: auth.Owner}
		for _, p := range service.DemoPurposes() {
			if _, err := e.svc.CreatePurpose(ctx, pr, p); err != nil {
				t.Fatal(err)
			}
		}
		id, err := e.svc.CreateContact(ctx, pr, service.ContactInput{Identifiers: map[string]string{"phone": "+4520123456"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.SetConsent(ctx, pr, id, "offers", "sms", service.ConsentInput{Status: "granted"}); err != nil {
			t.Fatal(err)
		}
		start := time.Now().Add(-time.Second)
		const n, keys = 48, 3
		got := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				body := fmt.Sprintf(`{"to":{"phone":"+4520123456"},"channel":"sms","purpose":"offers","sender":"ACME","body":"Offer %d"}`, i%keys)
				req, _ := http.NewRequest("POST", e.srv.URL+"/v1/messages", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+e.keys[auth.Developer])
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Idempotency-Key", fmt.Sprintf("key-%d", i%keys))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				defer resp.Body.Close()
				var ans map[string]any
				json.NewDecoder(resp.Body).Decode(&ans)
				if resp.StatusCode != 202 {
					t.Errorf("request %d: %d %v", i, resp.StatusCode, ans)
				}
				got[i], _ = ans["id"].(string)
			}()
		}
		wg.Wait()
		for i := keys; i < n; i++ {
			if got[i] != got[i%keys] {
				t.Errorf("request %d answered %s, the first with its key %s", i, got[i], got[i%keys])
			}
		}
		var count int
		if err := e.store.Read(ctx, func(tx store.Tx) (err error) {
			count, err = tx.CountMessagesSince(ctx, e.tenant, start)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if count != keys {
			t.Errorf("%d messages stored, want %d", count, keys)
		}
	})
}
