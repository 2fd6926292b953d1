package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/ledger"
	"github.com/consentgate/consentgate/internal/store"
)

// TestReceiptsVerifyOffline: a consent change becomes a ledger leaf; its
// receipt, fetched through the API, verifies with nothing but the public
// key; another tenant cannot fetch it; checkpoints stay consistent.
func TestReceiptsVerifyOffline(t *testing.T) { runLedgerScenario(t, openSQLite) }

func runLedgerScenario(t *testing.T, open func(testing.TB) store.Store) {
	e := newEnv(t, open)
	owner := e.keys[auth.Owner]
	if st, ans := e.do("POST", "/v1/purposes", owner, `{"key":"offers","name":"Offers","category":"marketing","basis":"consent","channels":["sms"]}`); st != 201 {
		t.Fatal(st, ans)
	}
	_, c := e.do("POST", "/v1/contacts", owner, `{"identifiers":{"phone":"+4520123456"}}`)
	contact := c["id"].(string)
	var events []string
	for _, st := range []string{"granted", "withdrawn", "granted"} {
		code, ans := e.do("PUT", "/v1/contacts/"+contact+"/consents/offers/sms", owner, `{"status":"`+st+`","evidence":{"form":"x"}}`)
		if code != 200 {
			t.Fatal(code, ans)
		}
		events = append(events, ans["event_id"].(string))
	}
	_, k := e.do("GET", "/v1/ledger/key", "", nil)
	key := k["key"].(string)

	raw := get(t, e, "/v1/events/"+events[1]+"/receipt", e.keys[auth.Auditor], 200)
	r, err := ledger.ParseReceipt(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := ledger.VerifyReceipt(r, key); err != nil {
		t.Fatalf("receipt does not verify: %v", err)
	}
	if r.ConsentReceiptID != events[1] || r.Event.Status != "withdrawn" || r.PIIPrincipalID != contact {
		t.Fatalf("receipt = %+v", r)
	}
	if !json.Valid(raw) {
		t.Fatal("receipt is not JSON")
	}
	// The receipt holds no identifier.
	for _, pii := range []string{"20123456", "+45"} {
		if bytes.Contains(raw, []byte(pii)) {
			t.Fatalf("receipt contains %q", pii)
		}
	}
	// A changed byte fails verification.
	r.Event.Channel = "email"
	if ledger.VerifyReceipt(r, key) == nil {
		t.Fatal("tampered receipt verifies")
	}
	// Another tenant sees nothing.
	if st, _ := e.do("GET", "/v1/events/"+events[1]+"/receipt", e.foreign, nil); st != 404 {
		t.Fatalf("foreign tenant: %d", st)
	}
	if st, _ := e.do("GET", "/v1/events/"+events[1]+"/receipt", e.keys[auth.Marketer], nil); st != 403 {
		t.Fatalf("marketer: %d", st)
	}
	var all struct{ Receipts []json.RawMessage }
	json.Unmarshal(get(t, e, "/v1/contacts/"+contact+"/receipts", owner, 200), &all)
	if len(all.Receipts) != 3 {
		t.Fatalf("%d receipts", len(all.Receipts))
	}
	for _, rr := range all.Receipts {
		r, err := ledger.ParseReceipt(rr)
		if err != nil || ledger.VerifyReceipt(r, key) != nil {
			t.Fatalf("contact receipt: %v", err)
		}
	}
	// Checkpoints: the latest one parses with the key; consistency between
	// sizes verifies.
	note := get(t, e, "/v1/ledger/checkpoint", "", 200)
	cp, err := ledger.ParseCheckpoint(note, key)
	if err != nil || cp.Size != 3 {
		t.Fatalf("checkpoint %+v: %v", cp, err)
	}
	_, ans := e.do("GET", "/v1/ledger/consistency?from=1&to=3", "", nil)
	if len(ans["proof"].([]any)) == 0 {
		t.Fatalf("consistency = %v", ans)
	}
	if st, _ := e.do("GET", "/v1/ledger/consistency?from=3&to=9", "", nil); st != 400 {
		t.Fatalf("consistency beyond the tree: %d", st)
	}
	if st, _ := e.do("GET", "/v1/ledger/consistency?from=a", "", nil); st != 400 {
		t.Fatalf("bad consistency query: %d", st)
	}
	rep, err := ledger.Verify(t.Context(), e.store.Ledger(), key)
	if err != nil {
		t.Fatalf("ledger.Verify: %v (%+v)", err, rep)
	}
}

func get(t *testing.T, e *env, path, key string, want int) []byte {
	t.Helper()
	req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return b
}
