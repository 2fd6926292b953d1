package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run runs one command line and returns its exit code and output.
func run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := testEnv(&out, &errb)
	env.Stdin = strings.NewReader(stdin)
	code := Main(context.Background(), args, env)
	return code, out.String(), errb.String()
}

// TestPrivacyCommands: keys rotate (data and index keys), keys rotate-master (after which the old
// master key is refused and the new one accepted), purge --dry-run and the
// dsr commands run against a data directory.
func TestPrivacyCommands(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := run(t, "", "keys", "create", "--data", dir, "--tenant", "acme", "--role", "owner"); code != 0 {
		t.Fatalf("keys create: %d %s", code, stderr)
	}
	code, out, stderr := run(t, "", "keys", "rotate", "--data", dir, "--tenant", "acme", "--settle", "10ms")
	var rep struct {
		FromVersion int `json:"from_version"`
		ToVersion   int `json:"to_version"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep.ToVersion != rep.FromVersion+2 {
		t.Fatalf("keys rotate: %d %q %s", code, out, stderr)
	}
	code, out, stderr = run(t, "", "keys", "rotate", "--index", "--data", dir, "--tenant", "acme", "--settle", "10ms")
	var irep struct {
		From int `json:"from_index_version"`
		To   int `json:"to_index_version"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &irep) != nil || irep.From != 0 || irep.To != 1 {
		t.Fatalf("keys rotate --index: %d %q %s", code, out, stderr)
	}
	if code, out, _ = run(t, "", "keys", "rotate", "--index", "--data", dir, "--tenant", "acme", "--settle", "10ms"); code != 0 ||
		json.Unmarshal([]byte(out), &irep) != nil || irep.From != 1 || irep.To != 2 {
		t.Fatalf("keys rotate --index, twice: %d %q", code, out)
	}
	// Every tenant at once: one report per line, the versions per tenant.
	if code, _, stderr := run(t, "", "keys", "create", "--data", dir, "--tenant", "globex", "--role", "owner"); code != 0 {
		t.Fatalf("keys create: %d %s", code, stderr)
	}
	code, out, stderr = run(t, "", "keys", "rotate", "--index", "--all-tenants", "--data", dir, "--settle", "10ms")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 || !strings.Contains(lines[0]+lines[1], `"to_index_version":3`) || !strings.Contains(lines[0]+lines[1], `"to_index_version":1`) {
		t.Fatalf("keys rotate --index --all-tenants: %d %q %s", code, out, stderr)
	}
	for _, bad := range [][]string{{}, {"--tenant", "acme", "--all-tenants"}} {
		if code, _, stderr := run(t, "", append([]string{"keys", "rotate", "--data", dir}, bad...)...); code != 2 || !strings.Contains(stderr, "--all-tenants") {
			t.Fatalf("keys rotate %v: %d %s", bad, code, stderr)
		}
	}
	newKey := filepath.Join(t.TempDir(), "new.key")
	if err := os.WriteFile(newKey, []byte(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := run(t, "", "keys", "rotate-master", "--data", dir, "--new-key-file", newKey); code != 0 {
		t.Fatalf("rotate-master: %d %s", code, stderr)
	}
	if code, _, stderr := run(t, "", "purge", "--data", dir, "--dry-run"); code == 0 || !strings.Contains(stderr, "master key does not open") {
		t.Fatalf("the old master key was accepted after rotate-master: %d %s", code, stderr)
	}
	if code, _, stderr := run(t, "", "purge", "--data", dir, "--dry-run", "--master-key-file", newKey); code != 0 || !strings.Contains(stderr, "would purge 0 row(s)") {
		t.Fatalf("purge --dry-run: %d %s", code, stderr)
	}
	if code, out, stderr := run(t, "", "dsr", "list", "--data", dir, "--master-key-file", newKey, "--tenant", "acme"); code != 0 || strings.TrimSpace(out) != "[]" {
		t.Fatalf("dsr list: %d %q %s", code, out, stderr)
	}
	// An unknown person: the identifier comes from stdin, never argv.
	if code, _, stderr := run(t, "+4520123456\n", "dsr", "create", "--data", dir, "--master-key-file", newKey, "--tenant", "acme",
		"--type", "erasure", "--identifier-kind", "phone"); code != 1 || !strings.Contains(stderr, "not found") {
		t.Fatalf("dsr create for an unknown person: %d %s", code, stderr)
	}
}
