package cli

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	_ "modernc.org/sqlite"
)

func fetch(t *testing.T, url, key string) []byte {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return b
}

// TestLedgerVerifyCommands: receipts from a running server verify offline
// with `receipt verify`; `ledger verify` passes on the stored ledger with the
// external checkpoint copy as anchors, and fails precisely once a stored
// leaf is changed.
func TestLedgerVerifyCommands(t *testing.T) {
	data := t.TempDir()
	cpFile := filepath.Join(t.TempDir(), "checkpoints.txt")
	var mu sync.Mutex
	var posted [][]byte
	witness := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		posted = append(posted, b)
		mu.Unlock()
	}))
	defer witness.Close()
	s := startServe(t, "--demo", "--data", data, "--ledger-checkpoint-file", cpFile, "--ledger-checkpoint-url", witness.URL+"/cp")
	base := "http://" + s.addr
	_, c := call(t, "POST", base+"/v1/contacts", s.key, `{"identifiers":{"email":"anna@example.com"}}`)
	id := c["id"].(string)
	var event string
	for _, st := range []string{"granted", "withdrawn"} {
		code, ans := call(t, "PUT", base+"/v1/contacts/"+id+"/consents/newsletter/email", s.key, `{"status":"`+st+`","confirmed":true}`)
		if code != 200 {
			t.Fatal(code, ans)
		}
		event = ans["event_id"].(string)
	}
	var k struct{ Key string }
	json.Unmarshal(fetch(t, base+"/v1/ledger/key", ""), &k)
	receipt := filepath.Join(t.TempDir(), "receipt.json")
	os.WriteFile(receipt, fetch(t, base+"/v1/events/"+event+"/receipt", s.key), 0o600)

	var out, errb bytes.Buffer
	if rc := Main(context.Background(), []string{"receipt", "verify", receipt, "--key", k.Key}, testEnv(&out, &errb)); rc != 0 || !strings.Contains(out.String(), "receipt ok") {
		t.Fatalf("receipt verify: rc=%d %s %s", rc, out.String(), errb.String())
	}
	b, _ := os.ReadFile(receipt)
	os.WriteFile(receipt, bytes.Replace(b, []byte(`"withdrawn"`), []byte(`"granted"`), 1), 0o600)
	errb.Reset()
	if rc := Main(context.Background(), []string{"receipt", "verify", receipt, "--key", k.Key}, testEnv(&out, &errb)); rc != 1 || errb.Len() == 0 {
		t.Fatalf("tampered receipt: rc=%d %s", rc, errb.String())
	}
	if rc := s.stop(); rc != 0 {
		t.Fatalf("serve: %d %s", rc, s.stderr.String())
	}
	// The witness got the same checkpoints as the file.
	mu.Lock()
	cps, _ := os.ReadFile(cpFile)
	if len(posted) == 0 || !bytes.Contains(cps, posted[len(posted)-1]) {
		t.Fatalf("witness got %d checkpoints, not matching the file", len(posted))
	}
	mu.Unlock()

	out.Reset()
	errb.Reset()
	if rc := Main(context.Background(), []string{"ledger", "verify", "--data", data, "--anchors", cpFile}, testEnv(&out, &errb)); rc != 0 || !strings.Contains(out.String(), "ledger ok: 2 leaves") {
		t.Fatalf("ledger verify: rc=%d %s %s", rc, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "anchors checked") || strings.Contains(out.String(), " 0 anchors") {
		t.Fatalf("anchors not used: %s", out.String())
	}

	db, err := sql.Open("sqlite", filepath.Join(data, "consentgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE ledger_leaves SET data = CAST(replace(CAST(data AS TEXT), 'status withdrawn', 'status granted') AS BLOB) WHERE idx = 1`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out.Reset()
	errb.Reset()
	rc := Main(context.Background(), []string{"ledger", "verify", "--data", data}, testEnv(&out, &errb))
	if rc != 1 || !strings.Contains(errb.String(), "leaf 1") {
		t.Fatalf("tampered ledger: rc=%d stdout=%s stderr=%s", rc, out.String(), errb.String())
	}
}

func TestSplitNotes(t *testing.T) {
	in := "o\n1\nh\n\n— k sig1\n\no\n2\nh\n\n— k sig2\n— j sig3\n\n"
	got := splitNotes([]byte(in))
	if len(got) != 2 || string(got[0]) != "o\n1\nh\n\n— k sig1\n" || string(got[1]) != "o\n2\nh\n\n— k sig2\n— j sig3\n" {
		t.Fatalf("splitNotes = %q", got)
	}
}
