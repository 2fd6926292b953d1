package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func testEnv(stdout, stderr io.Writer) Env {
	return Env{Stdin: strings.NewReader(""), Stdout: stdout, Stderr: stderr, Getenv: func(string) string { return "" }}
}

// server runs `consentgate serve` in the background until the test ends.
type server struct {
	addr, key string
	stdout    *lockedBuffer
	stderr    *lockedBuffer
	stop      func() int
}

func startServe(t *testing.T, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{stdout: &lockedBuffer{}, stderr: &lockedBuffer{}}
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), testEnv(s.stdout, s.stderr))
	}()
	addrRE := regexp.MustCompile(`http://(127\.0\.0\.1:\d+)`)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := addrRE.FindStringSubmatch(s.stdout.String()); m != nil {
			s.addr = m[1]
			break
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d: %s", code, s.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if s.addr == "" {
		t.Fatalf("serve did not print its address: %s", s.stderr.String())
	}
	s.key = regexp.MustCompile(`cg_[a-z2-7]{32}`).FindString(s.stdout.String())
	var once sync.Once
	code := -1
	s.stop = func() int {
		once.Do(func() { cancel(); code = <-done })
		return code
	}
	t.Cleanup(func() { s.stop() })
	return s
}

func call(t *testing.T, method, url, key, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestDemoEndToEnd follows the README: serve --demo, the three printed
// requests, keys create while the server runs, a restart that keeps every
// decision, and a clean shutdown.
func TestDemoEndToEnd(t *testing.T) {
	data := t.TempDir()
	s := startServe(t, "--demo", "--data", data)
	if s.key == "" {
		t.Fatalf("no key printed:\n%s", s.stdout.String())
	}
	out := s.stdout.String()
	phone := regexp.MustCompile(`"phone":"(\+45\d{8})"`).FindStringSubmatch(out)
	if phone == nil || strings.Count(out, "curl ") != 3 {
		t.Fatalf("demo output lacks the three requests:\n%s", out)
	}
	base := "http://" + s.addr
	code, c := call(t, "POST", base+"/v1/contacts", s.key, `{"identifiers":{"phone":"`+phone[1]+`"},"locale":"da-DK"}`)
	if code != 201 {
		t.Fatalf("create contact: %d %v", code, c)
	}
	id := c["id"].(string)
	if code, ans := call(t, "PUT", base+"/v1/contacts/"+id+"/consents/offers/sms", s.key, `{"status":"granted","source":"web","evidence":{"form":"signup"}}`); code != 200 {
		t.Fatalf("grant: %d %v", code, ans)
	}
	decision := `{"to":{"phone":"` + phone[1] + `"},"channel":"sms","purpose":"offers"}`
	if code, d := call(t, "POST", base+"/v1/decisions", s.key, decision); code != 200 || d["allowed"] != true {
		t.Fatalf("decision: %d %v", code, d)
	}

	// keys create works while the server holds the database.
	var kout, kerr bytes.Buffer
	if rc := Main(context.Background(), []string{"keys", "create", "--data", data, "--tenant", "acme", "--role", "developer"}, testEnv(&kout, &kerr)); rc != 0 {
		t.Fatalf("keys create: %d %s", rc, kerr.String())
	}
	newKey := strings.TrimSpace(kout.String())
	if !regexp.MustCompile(`^cg_[a-z2-7]{32}$`).MatchString(newKey) {
		t.Fatalf("keys create printed %q, want the key alone", kout.String())
	}
	if code, ans := call(t, "GET", base+"/v1/purposes", newKey, ""); code != 200 || len(ans["purposes"].([]any)) != 0 {
		t.Fatalf("new tenant's key: %d %v", code, ans)
	}
	if code, _ := call(t, "POST", base+"/v1/contacts", newKey, `{"identifiers":{"phone":"+4520999999"}}`); code != 201 {
		t.Fatalf("developer key cannot create contacts: %d", code)
	}
	if rc := s.stop(); rc != 0 {
		t.Fatalf("serve exited with %d: %s", rc, s.stderr.String())
	}
	// No identifier in the server's logs.
	if strings.Contains(s.stderr.String(), phone[1][3:]) {
		t.Fatal("server log contains the phone number")
	}

	// A restart rebuilds the index from the store: the consent still holds,
	// and without --demo nothing new is seeded.
	s2 := startServe(t, "--data", data)
	if s2.key != "" {
		t.Fatal("serve without --demo printed a key")
	}
	if code, d := call(t, "POST", "http://"+s2.addr+"/v1/decisions", s.key, decision); code != 200 || d["allowed"] != true {
		t.Fatalf("decision after restart: %d %v", code, d)
	}
}

func TestRefusesWrongMasterKey(t *testing.T) {
	data := t.TempDir()
	var out, errb bytes.Buffer
	if rc := Main(context.Background(), []string{"keys", "create", "--data", data, "--tenant", "acme", "--role", "owner"}, testEnv(&out, &errb)); rc != 0 {
		t.Fatalf("keys create: %s", errb.String())
	}
	other := filepath.Join(t.TempDir(), "other.key")
	os.WriteFile(other, []byte("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"), 0o600)
	errb.Reset()
	rc := Main(context.Background(), []string{"serve", "--data", data, "--addr", "127.0.0.1:0", "--master-key-file", other}, testEnv(&out, &errb))
	if rc == 0 || !strings.Contains(errb.String(), "master key") {
		t.Fatalf("started with a wrong master key: rc=%d %s", rc, errb.String())
	}
	os.Remove(filepath.Join(data, "master.key"))
	errb.Reset()
	rc = Main(context.Background(), []string{"serve", "--data", data, "--addr", "127.0.0.1:0"}, testEnv(&out, &errb))
	if rc == 0 {
		t.Fatal("started after the master key file was lost")
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		rc   int
		msg  string
	}{
		{nil, 2, "Usage"},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"keys"}, 2, "usage: consentgate keys create"},
		{[]string{"keys", "create", "--data", "DIR", "--tenant", "a", "--role", "root"}, 2, "unknown role"},
		{[]string{"keys", "create", "--data", "DIR", "--role", "owner"}, 2, "--tenant is required"},
		{[]string{"keys", "create", "--data", "DIR", "--tenant", "a", "--role", "owner", "--expires", "soon"}, 2, "--expires"},
		{[]string{"serve", "--log-format", "xml"}, 2, "log-format"},
		{[]string{"serve", "--addr", "nowhere"}, 2, "addr"},
		{[]string{"version"}, 0, ""},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		for i, a := range tt.args {
			if a == "DIR" {
				tt.args[i] = dir
			}
		}
		var out, errb bytes.Buffer
		rc := Main(context.Background(), tt.args, testEnv(&out, &errb))
		if rc != tt.rc || !strings.Contains(errb.String(), tt.msg) {
			t.Errorf("%v: rc=%d stderr=%q", tt.args, rc, errb.String())
		}
	}
}

// TestKeysCreateOutput checks that stdout holds the key and nothing else,
// also when the data directory is new (the master-key warning goes to
// stderr).
func TestKeysCreateOutput(t *testing.T) {
	var out, errb bytes.Buffer
	rc := Main(context.Background(), []string{"keys", "create", "--data", t.TempDir(), "--tenant", "t", "--role", "auditor", "--expires", "30d"}, testEnv(&out, &errb))
	sc := bufio.NewScanner(&out)
	lines := 0
	for sc.Scan() {
		lines++
	}
	if rc != 0 || lines != 1 || !strings.Contains(errb.String(), "MASTER KEY") {
		t.Fatalf("rc=%d lines=%d stderr=%q", rc, lines, errb.String())
	}
}

func TestKeywordClassify(t *testing.T) {
	var out, errb bytes.Buffer
	env := testEnv(&out, &errb)
	env.Stdin = strings.NewReader("STOP\nNej tak\nWhere is the bus stop?\nHJÆLP\n")
	if rc := Main(context.Background(), []string{"keyword", "classify", "--lang", "da"}, env); rc != 0 {
		t.Fatalf("rc=%d %s", rc, errb.String())
	}
	var intents []string
	dec := json.NewDecoder(&out)
	for dec.More() {
		var r map[string]any
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"text", "intent", "scope", "language", "keyword"} {
			if _, ok := r[k]; !ok {
				t.Fatalf("line lacks %q: %v", k, r)
			}
		}
		intents = append(intents, r["intent"].(string))
	}
	if strings.Join(intents, ",") != "opt_out,opt_out,none,help" {
		t.Fatalf("intents = %v", intents)
	}
	if rc := Main(context.Background(), []string{"keyword", "classify", "extra"}, testEnv(&out, &errb)); rc != 2 {
		t.Fatalf("extra argument accepted: %d", rc)
	}
}

// TestProvidersFromConfigFile: a [[provider]] table in the config file is
// applied at start like PUT /v1/providers: the API shows it, the secret is
// set but never shown; a table naming a tenant that does not exist stops the
// start with a message naming it.
func TestProvidersFromConfigFile(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "smtp-password")
	os.WriteFile(secret, []byte("s3cret-pass\n"), 0o600)
	cfg := filepath.Join(dir, "consentgate.toml")
	os.WriteFile(cfg, []byte(`
[[provider]]
tenant = "demo"
channel = "email"
kind = "smtp"
secret_file = "`+secret+`"
[provider.settings]
host = "smtp.example.com"
port = 587
username = "gateway"
`), 0o600)
	s := startServe(t, "--demo", "--data", filepath.Join(dir, "data"), "--config", cfg)
	code, ans := call(t, "GET", "http://"+s.addr+"/v1/providers", s.key, "")
	raw, _ := json.Marshal(ans)
	if code != 200 || !strings.Contains(string(raw), `"kind":"smtp"`) || !strings.Contains(string(raw), "smtp.example.com") {
		t.Fatalf("providers: %d %s", code, raw)
	}
	if strings.Contains(string(raw), "s3cret-pass") || strings.Contains(s.stderr.String(), "s3cret-pass") {
		t.Fatal("the provider secret is shown or logged")
	}
	s.stop()

	os.WriteFile(cfg, []byte("[[provider]]\ntenant = \"nobody\"\nchannel = \"sms\"\nkind = \"sink\"\n"), 0o600)
	var out, errb bytes.Buffer
	rc := Main(context.Background(), []string{"serve", "--data", filepath.Join(dir, "data"), "--addr", "127.0.0.1:0", "--config", cfg}, testEnv(&out, &errb))
	if rc == 0 || !strings.Contains(errb.String(), "provider 1 (nobody/sms)") {
		t.Fatalf("unknown tenant: rc=%d %s", rc, errb.String())
	}
}
